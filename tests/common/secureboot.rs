//! The Secure Boot rig: test keys, varstores with them enrolled, Authenticode signing,
//! and EFI system partitions to boot from (with `Qemu::boot_secure`).
//!
//! Keys (RSA 2048, SHA-256, by the OpenSSL CLI): PK, KEK and db are enrolled; `other`
//! never is. They and the varstores are made once per test process, on first use, in
//! `target/tmp/secureboot/` (replaced by the next process), and shared by its tests:
//!
//! - [`Rig::own_vars`]: OVMF's empty varstore with our PK, KEK and db enrolled by
//!   `virt-fw-vars`, Secure Boot on;
//! - [`Rig::shim_vars`]: Debian's `OVMF_VARS_4M.ms.fd` (Microsoft's KEK and db, which
//!   trust Debian's shim) with our db certificate added to shim's MokList.
//!
//! Signing goes through one function, [`sign_efi_for_test`] (bootsign's own signer).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use super::qemu::{ImageConfig, configured_efi};

const OVMF_VARS_EMPTY: &str = "/usr/share/OVMF/OVMF_VARS_4M.fd";
/// Debian's varstore with Microsoft's keys enrolled and Secure Boot on.
const OVMF_VARS_MS: &str = "/usr/share/OVMF/OVMF_VARS_4M.ms.fd";
/// The owner GUID of the certificates we enrol (any GUID will do).
const OWNER: &str = "b0075164-0000-4000-8000-5ecb00700000";

/// The shared keys and varstores.
pub struct Rig {
    dir: PathBuf,
    own_vars: OnceLock<PathBuf>,
    shim_vars: OnceLock<PathBuf>,
    db_and_mok_vars: OnceLock<PathBuf>,
}

fn show(what: &str, out: &Output) -> String {
    format!(
        "{what}: exit {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs `cmd`, which must succeed; `tool` names the program and its package.
fn run(cmd: &mut Command, tool: &str) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{tool} must be installed (scripts/setup.sh installs it): {e}"));
    assert!(out.status.success(), "{}", show(&format!("{cmd:?}"), &out));
    out
}

/// The rig of this test process, made on first use.
pub fn rig() -> &'static Rig {
    static RIG: OnceLock<Rig> = OnceLock::new();
    RIG.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("secureboot");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for name in ["PK", "KEK", "db", "other"] {
            run(
                Command::new("openssl")
                    .args([
                        "req", "-new", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "3650",
                    ])
                    .args(["-subj", &format!("/CN=bootsign test {name}/"), "-keyout"])
                    .arg(dir.join(format!("{name}.key")))
                    .arg("-out")
                    .arg(dir.join(format!("{name}.crt"))),
                "openssl",
            );
        }
        Rig { dir, own_vars: OnceLock::new(), shim_vars: OnceLock::new(), db_and_mok_vars: OnceLock::new() }
    })
}

impl Rig {
    /// The key and certificate called `name` (PK, KEK, db, other).
    pub fn key_pair(&self, name: &str) -> (PathBuf, PathBuf) {
        (self.dir.join(format!("{name}.key")), self.dir.join(format!("{name}.crt")))
    }

    /// Our PK, KEK and db enrolled in OVMF's empty varstore; Secure Boot on.
    pub fn own_vars(&self) -> &Path {
        self.own_vars.get_or_init(|| {
            let out = self.dir.join("own-vars.fd");
            run(
                Command::new("virt-fw-vars")
                    .args(["-i", OVMF_VARS_EMPTY, "-o"])
                    .arg(&out)
                    .args(["--set-pk", OWNER])
                    .arg(self.dir.join("PK.crt"))
                    .args(["--add-kek", OWNER])
                    .arg(self.dir.join("KEK.crt"))
                    .args(["--add-db", OWNER])
                    .arg(self.dir.join("db.crt"))
                    .arg("--secure-boot"),
                "virt-fw-vars (python3-virt-firmware)",
            );
            out
        })
    }

    /// Microsoft's keys (Secure Boot on), and our db certificate in shim's MokList.
    pub fn shim_vars(&self) -> &Path {
        self.shim_vars.get_or_init(|| {
            let out = self.dir.join("shim-vars.fd");
            run(
                Command::new("virt-fw-vars")
                    .args(["-i", OVMF_VARS_MS, "-o"])
                    .arg(&out)
                    .args(["--add-mok", OWNER])
                    .arg(self.dir.join("db.crt")),
                "virt-fw-vars (python3-virt-firmware)",
            );
            out
        })
    }
}

impl Rig {
    /// Microsoft's keys (Secure Boot on) with our db certificate added to db, so the
    /// platform starts bootsign itself, and `other` in shim's MokList, so only a shim
    /// starts what `other` signed.
    pub fn db_and_mok_vars(&self) -> &Path {
        self.db_and_mok_vars.get_or_init(|| {
            let out = self.dir.join("db-mok-vars.fd");
            run(
                Command::new("virt-fw-vars")
                    .args(["-i", OVMF_VARS_MS, "-o"])
                    .arg(&out)
                    .args(["--add-db", OWNER])
                    .arg(self.dir.join("db.crt"))
                    .args(["--add-mok", OWNER])
                    .arg(self.dir.join("other.crt")),
                "virt-fw-vars (python3-virt-firmware)",
            );
            out
        })
    }
}

/// OVMF's empty varstore: no keys, so the platform is in setup mode.
pub fn setup_mode_vars() -> &'static Path {
    Path::new(OVMF_VARS_EMPTY)
}

/// Signs the PE image `unsigned` (Authenticode, SHA-256) with `key` and `cert`, by
/// `bootsign sign --authenticode` (tests/authenticode.rs shows sbsign and osslsigncode
/// agree with it); returns the signed copy, written next to it as `NAME.signed.efi`.
pub fn sign_efi_for_test(unsigned: &Path, key: &Path, cert: &Path) -> PathBuf {
    let out = unsigned.with_extension("signed.efi");
    run(
        Command::new(env!("CARGO_BIN_EXE_bootsign"))
            .args(["sign", "--authenticode", "--cert"])
            .arg(cert)
            .arg("--key")
            .arg(key)
            .arg("-o")
            .arg(&out)
            .arg(unsigned),
        "bootsign",
    );
    out
}

/// Debian's shim, signed by Microsoft's UEFI CA (fetched by scripts/fixtures.sh).
pub fn shim() -> PathBuf {
    let shim = super::fixtures_dir().join("shimx64.efi.signed");
    assert!(shim.is_file(), "{} is missing: run scripts/setup.sh (it fetches it)", shim.display());
    shim
}

/// A firmware image (unsigned) whose embedded script prints `marker` and powers off;
/// no DHCP first, as the Secure Boot machine has no network.
pub fn marker_efi(dir: &Path, name: &str, marker: &str) -> PathBuf {
    let efi = dir.join(format!("{name}.efi"));
    let script = format!("#!ipxe\necho {marker}\npoweroff\n");
    let cfg =
        ImageConfig { script: Some(&script), settings: vec![("autodhcp", "off")], ..Default::default() };
    configured_efi(&efi, &cfg);
    efi
}

/// An EFI system partition: a directory with `files` as (path under `EFI/BOOT`, source).
pub fn esp(files: &[(&str, &Path)]) -> tempfile::TempDir {
    let esp = tempfile::tempdir().unwrap();
    let boot = esp.path().join("EFI/BOOT");
    std::fs::create_dir_all(&boot).unwrap();
    for (name, from) in files {
        std::fs::copy(from, boot.join(name)).unwrap_or_else(|e| panic!("{}: {e}", from.display()));
    }
    esp
}

/// A copy of the PE image `efi` whose section `name` is renamed to `renamed` (same
/// length), byte for byte the same otherwise: as if the section were missing.
pub fn rename_section(efi: &Path, name: &[u8; 8], renamed: &[u8; 8], out: &Path) {
    let mut bytes = std::fs::read(efi).unwrap();
    let pe = bootsign_pe::Pe::parse(&bytes).unwrap();
    let index = pe.sections().iter().position(|s| &s.name == name).expect("the section exists");
    let u16_at = |at: usize| usize::from(u16::from_le_bytes([bytes[at], bytes[at + 1]]));
    let coff = u32::from_le_bytes(bytes[0x3c..0x40].try_into().unwrap()) as usize + 4;
    let entry = coff + 20 + u16_at(coff + 16) + 40 * index;
    assert_eq!(&bytes[entry..entry + 8], name);
    bytes[entry..entry + 8].copy_from_slice(renamed);
    std::fs::write(out, bytes).unwrap();
}
