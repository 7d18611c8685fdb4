//! Builds the firmware template for x86_64-unknown-uefi and hands it to the CLI, so a
//! plain `cargo build` yields a `bootsign` that can build images without a compiler.
//! Set BOOTSIGN_FIRMWARE=path to use a firmware built elsewhere instead.

use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "x86_64-unknown-uefi";

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("bootsign-firmware.efi");
    println!("cargo:rerun-if-env-changed=BOOTSIGN_FIRMWARE");
    if let Some(prebuilt) = std::env::var_os("BOOTSIGN_FIRMWARE") {
        std::fs::copy(&prebuilt, &out)
            .unwrap_or_else(|e| panic!("BOOTSIGN_FIRMWARE={}: {e}", Path::new(&prebuilt).display()));
        return;
    }
    // The firmware's build date (firmware-template/build.rs) follows it.
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    for watched in [
        "firmware-template/src",
        "firmware-template/build.rs",
        "firmware-template/Cargo.toml",
        "firmware-template/Cargo.lock",
        "crates",
        "examples/default.ipxe",
        ".cargo/config.toml",
    ] {
        println!("cargo:rerun-if-changed={watched}");
    }
    let target_dir = root.join("target").join("firmware");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(&cargo)
        .args(["build", "--release", "--quiet", "--target", TARGET, "--manifest-path"])
        .arg(root.join("firmware-template/Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir)
        // Cargo reads .cargo/config.toml from the working directory up, not from the
        // manifest's: run it in the firmware's directory so the repository's config (the
        // crates' soft-backend flags for the UEFI target) always applies.
        .current_dir(root.join("firmware-template"))
        // The outer build's flags are for the host; the firmware has its own target.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("CARGO_TARGET_DIR")
        .status()
        .unwrap_or_else(|e| panic!("cannot run {cargo} to build the firmware: {e}"));
    if !status.success() {
        let installed = Command::new("rustup")
            .args(["target", "list", "--installed"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).lines().any(|l| l.trim() == TARGET))
            .unwrap_or(true);
        if !installed {
            panic!(
                "the {TARGET} target is not installed, so the firmware cannot be built: run `rustup target add {TARGET}`"
            );
        }
        panic!("the firmware (firmware-template/) did not build; see the errors above");
    }
    let built = target_dir.join(TARGET).join("release").join("bootsign-firmware.efi");
    std::fs::copy(&built, &out).unwrap_or_else(|e| panic!("{}: {e}", built.display()));
}
