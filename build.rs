//! Builds the firmware for both platforms and hands it to the CLI, so a plain `cargo
//! build` yields a `bootsign` that can build images without a compiler:
//!
//! - UEFI: `firmware/uefi/` for x86_64-unknown-uefi, a PE program;
//! - legacy BIOS: `firmware/bios/` for x86_64-unknown-none, an ELF flattened here into a
//!   Linux bzImage (its real-mode setup part, then the 64-bit core loaded at 1 MiB), with
//!   the setup sector count filled in; the image builder appends the configuration. Its
//!   disk and CD loader (`diskboot.s`), PXE network boot program (`pxeboot.s`) and option
//!   ROM image (`romboot.s`) are extracted beside it, `bootsign-diskboot.bin`,
//!   `bootsign-pxeboot.bin` and `bootsign-romboot.bin`.
//!
//! Set BOOTSIGN_FIRMWARE (and BOOTSIGN_FIRMWARE_BIOS) to a path to use a firmware built
//! elsewhere instead; a BIOS one needs those three files in the same directory.

use std::path::{Path, PathBuf};
use std::process::Command;

struct Firmware {
    /// Its directory in the repository.
    dir: &'static str,
    target: &'static str,
    binary: &'static str,
    /// The file handed to the CLI, in OUT_DIR.
    out: &'static str,
    /// The variable naming a prebuilt one.
    prebuilt: &'static str,
}

const UEFI: Firmware = Firmware {
    dir: "firmware/uefi",
    target: "x86_64-unknown-uefi",
    binary: "bootsign-firmware.efi",
    out: "bootsign-firmware.efi",
    prebuilt: "BOOTSIGN_FIRMWARE",
};

const BIOS: Firmware = Firmware {
    dir: "firmware/bios",
    target: "x86_64-unknown-none",
    binary: "bootsign-firmware-bios",
    out: "bootsign-firmware.lkrn",
    prebuilt: "BOOTSIGN_FIRMWARE_BIOS",
};

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    // The firmware's build date (firmware/core/build.rs) follows it.
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    for watched in ["crates", "firmware/core", "examples/default.ipxe", ".cargo/config.toml"] {
        println!("cargo:rerun-if-changed={watched}");
    }
    for firmware in [UEFI, BIOS] {
        let out = out_dir.join(firmware.out);
        println!("cargo:rerun-if-env-changed={}", firmware.prebuilt);
        if let Some(prebuilt) = std::env::var_os(firmware.prebuilt) {
            std::fs::copy(&prebuilt, &out)
                .unwrap_or_else(|e| panic!("{}={}: {e}", firmware.prebuilt, Path::new(&prebuilt).display()));
            if firmware.out.ends_with(".lkrn") {
                for part in ["bootsign-diskboot.bin", "bootsign-pxeboot.bin", "bootsign-romboot.bin"] {
                    let loader = Path::new(&prebuilt).with_file_name(part);
                    std::fs::copy(&loader, out.with_file_name(part)).unwrap_or_else(|e| {
                        panic!("{} (beside {}): {e}", loader.display(), firmware.prebuilt)
                    });
                }
            }
            continue;
        }
        for watched in ["src", "build.rs", "Cargo.toml", "Cargo.lock", "link.ld"] {
            println!("cargo:rerun-if-changed={}/{watched}", firmware.dir);
        }
        let built = build(&root, &firmware);
        if firmware.out.ends_with(".lkrn") {
            flatten_bzimage(&built, &out);
        } else {
            std::fs::copy(&built, &out).unwrap_or_else(|e| panic!("{}: {e}", built.display()));
        }
    }
}

/// Builds `firmware` in its own directory and returns the binary.
fn build(root: &Path, firmware: &Firmware) -> PathBuf {
    let target_dir = root.join("target").join("firmware");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(&cargo)
        .args(["build", "--release", "--quiet", "--target", firmware.target, "--manifest-path"])
        .arg(root.join(firmware.dir).join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir)
        // Cargo reads .cargo/config.toml from the working directory up, not from the
        // manifest's: run it in the firmware's directory so the repository's config (the
        // crates' soft-backend flags for the firmware targets) always applies.
        .current_dir(root.join(firmware.dir))
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
            .map(|o| String::from_utf8_lossy(&o.stdout).lines().any(|l| l.trim() == firmware.target))
            .unwrap_or(true);
        if !installed {
            panic!(
                "the {t} target is not installed, so the firmware cannot be built: run `rustup target add {t}`",
                t = firmware.target
            );
        }
        panic!("the firmware ({}/) did not build; see the errors above", firmware.dir);
    }
    target_dir.join(firmware.target).join("release").join(firmware.binary)
}

/// The BIOS firmware's ELF as a bzImage: the `.setup` section (linked at 0), then
/// everything loaded from 1 MiB (binutils' objcopy), with the header's setup sector
/// count written.
fn flatten_bzimage(elf: &Path, out: &Path) {
    let setup = out.with_extension("setup");
    let core = out.with_extension("core");
    // The disk and CD loader, beside the bzImage (the image builder puts it in ISO and
    // USB images).
    let diskboot = out.with_file_name("bootsign-diskboot.bin");
    // The PXE network boot program (`.kpxe`) and the option ROM's legacy image, beside it
    // too.
    let pxeboot = out.with_file_name("bootsign-pxeboot.bin");
    let romboot = out.with_file_name("bootsign-romboot.bin");
    for (args, file) in [
        (&["-j", ".setup"][..], &setup),
        (&["-R", ".setup", "-R", ".romboot", "-R", ".diskboot", "-R", ".pxeboot", "-R", ".bss"][..], &core),
        (&["-j", ".diskboot"][..], &diskboot),
        (&["-j", ".pxeboot"][..], &pxeboot),
        (&["-j", ".romboot"][..], &romboot),
    ] {
        let status = Command::new("objcopy")
            .args(args)
            .args(["-O", "binary"])
            .arg(elf)
            .arg(file)
            .status()
            .unwrap_or_else(|e| panic!("cannot run objcopy (binutils) to flatten the BIOS firmware: {e}"));
        assert!(status.success(), "objcopy could not flatten {}", elf.display());
    }
    let loader = std::fs::read(&diskboot).unwrap();
    assert!(loader.len() == 2048 && loader.ends_with(b"BSDB"), "the disk loader is {} bytes", loader.len());
    let nbp = std::fs::read(&pxeboot).unwrap();
    assert!(nbp.ends_with(b"BSPX"), "the PXE boot program ({} bytes) is damaged", nbp.len());
    let mut image = std::fs::read(&setup).unwrap();
    assert!(
        image.len().is_multiple_of(512) && image.len() >= 1024,
        "the BIOS setup part is {} bytes",
        image.len()
    );
    assert_eq!(&image[0x202..0x206], b"HdrS", "the BIOS setup part has no bzImage header");
    image[0x1f1] = u8::try_from(image.len() / 512 - 1).expect("fewer than 256 setup sectors");
    let core = std::fs::read(&core).unwrap();
    // The configuration goes where the core's `image_end` is: the linker script pads
    // the core to 16 bytes, which the bzImage's length in paragraphs relies on too.
    assert!(core.len().is_multiple_of(16), "the BIOS core is {} bytes, not a multiple of 16", core.len());
    image.extend_from_slice(&core);
    std::fs::write(out, image).unwrap();
}
