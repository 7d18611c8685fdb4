//! For the tests of the firmware's CPU-specific code (SHA-NI, AES-NI): on a host CPU
//! without the instructions, the test runs again under QEMU's user-mode emulator with
//! `-cpu max`, which has them, instead of passing without testing anything.

use std::process::Command;

/// Runs test `name` of this test binary under `qemu-x86_64 -cpu max` and asserts that
/// it ran and passed there.
pub fn rerun_under_qemu(name: &str) {
    assert!(
        std::env::var_os("BOOTSIGN_UNDER_QEMU").is_none(),
        "the emulated CPU (-cpu max) lacks the instructions too"
    );
    let exe = std::env::current_exe().unwrap();
    let out = Command::new("qemu-x86_64")
        .args(["-cpu", "max"])
        .arg(&exe)
        .args(["--exact", name, "--test-threads=1"])
        .env("BOOTSIGN_UNDER_QEMU", "1")
        .output()
        .expect("qemu-x86_64 (qemu-user, installed by scripts/setup.sh) runs the test on an emulated CPU");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{name} under qemu-x86_64 -cpu max:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
