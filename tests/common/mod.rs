//! Test helpers: a scratch directory, the bootsign binary, the real `openssl` CLI, and
//! snapshots of a directory tree for "nothing was written" checks.
#![allow(dead_code)]

pub mod http;
pub mod https;
pub mod lighttpd;
pub mod link;
pub mod ntp;
pub mod qemu;
pub mod secureboot;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use der::Decode;
use x509_cert::Certificate;

pub struct Env {
    pub dir: tempfile::TempDir,
}

fn show(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

impl Env {
    pub fn new() -> Self {
        Self { dir: tempfile::tempdir().expect("tempdir") }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_bootsign"));
        c.args(args).current_dir(self.dir.path()).env_remove("BOOTSIGN_CA_DIR").stdin(Stdio::null());
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("run bootsign")
    }

    /// Runs bootsign and requires success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "bootsign {args:?} failed:\n{}", show(&out));
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs bootsign and requires exit code 1 with an `error:` line; returns stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(out.status.code(), Some(1), "bootsign {args:?} should fail:\n{}", show(&out));
        let err = String::from_utf8(out.stderr).unwrap();
        // Warnings may come first; the error is the last thing said.
        assert!(err.starts_with("error: ") || err.contains("\nerror: "), "{err}");
        err
    }

    pub fn openssl(&self, args: &[&str]) -> Output {
        Command::new("openssl")
            .args(args)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .output()
            .expect("openssl must be installed (scripts/setup.sh installs it)")
    }

    /// Runs openssl and requires success; returns stdout.
    pub fn openssl_ok(&self, args: &[&str]) -> String {
        let out = self.openssl(args);
        assert!(out.status.success(), "openssl {args:?} failed:\n{}", show(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `openssl cms -verify` of the detached DER signature `sig` over `content`, trusting
    /// `ca` for any purpose.
    pub fn openssl_cms_verify_with(&self, sig: &str, content: &str, ca: &str) -> Output {
        self.openssl(&[
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            sig,
            "-content",
            content,
            "-CAfile",
            ca,
            "-purpose",
            "any",
            "-out",
            "/dev/null",
        ])
    }

    /// The same trusting `ca.crt`; it must succeed.
    pub fn openssl_cms_verify(&self, sig: &str, content: &str) {
        let out = self.openssl_cms_verify_with(sig, content, "ca.crt");
        assert!(out.status.success(), "openssl cms -verify {sig}:\n{}", show(&out));
    }

    pub fn read(&self, rel: &str) -> Vec<u8> {
        std::fs::read(self.path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    pub fn write(&self, rel: &str, data: impl AsRef<[u8]>) {
        std::fs::write(self.path(rel), data).unwrap();
    }

    pub fn mode(&self, rel: &str) -> u32 {
        std::fs::metadata(self.path(rel)).unwrap().permissions().mode() & 0o777
    }

    /// Every file under the directory with its content and mode.
    pub fn snapshot(&self) -> BTreeMap<PathBuf, (Vec<u8>, u32)> {
        fn walk(dir: &Path, base: &Path, out: &mut BTreeMap<PathBuf, (Vec<u8>, u32)>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let entry = entry.unwrap();
                let path = entry.path();
                let meta = entry.metadata().unwrap();
                let rel = path.strip_prefix(base).unwrap().to_path_buf();
                if meta.is_dir() {
                    out.insert(rel.join(""), (Vec::new(), meta.permissions().mode()));
                    walk(&path, base, out);
                } else {
                    out.insert(rel, (std::fs::read(&path).unwrap(), meta.permissions().mode()));
                }
            }
        }
        let mut out = BTreeMap::new();
        walk(self.dir.path(), self.dir.path(), &mut out);
        out
    }

    /// The OpenSSL recipe's `ca.cnf`, as operators have it today.
    pub fn write_recipe_cnf(&self) {
        self.write("ca.cnf", RECIPE_CNF);
    }
}

pub const RECIPE_CNF: &str = "\
[ ca ]
default_ca             = ca_default

[ ca_default ]
certificate            = ca.crt
private_key            = ca.key
serial                 = serial
database               = ca.idx
new_certs_dir          = signed
default_md             = sha256
policy                 = policy_anything
preserve               = yes
default_days           = 90
unique_subject         = no

[ policy_anything ]
countryName            = optional
stateOrProvinceName    = optional
localityName           = optional
organizationName       = optional
organizationalUnitName = optional
commonName             = optional
emailAddress           = optional

[ cross ]
basicConstraints       = critical,CA:true
keyUsage               = critical,cRLSign,keyCertSign

[ codesigning ]
keyUsage               = digitalSignature
extendedKeyUsage       = codeSigning
";

/// The first certificate in a PEM or DER file.
pub fn load_cert(path: &Path) -> (Vec<u8>, Certificate) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let der =
        if bytes.starts_with(b"-----BEGIN") { pem::parse(&bytes).unwrap().into_contents() } else { bytes };
    let cert = Certificate::from_der(&der).unwrap();
    (der, cert)
}

/// (OID, critical) of every extension, in order.
pub fn extension_list(cert: &Certificate) -> Vec<(String, bool)> {
    cert.tbs_certificate()
        .extensions()
        .map(|exts| exts.iter().map(|e| (e.extn_id.to_string(), e.critical)).collect())
        .unwrap_or_default()
}

pub const BASIC_CONSTRAINTS: &str = "2.5.29.19";
pub const KEY_USAGE: &str = "2.5.29.15";
pub const EXT_KEY_USAGE: &str = "2.5.29.37";
pub const SUBJECT_ALT_NAME: &str = "2.5.29.17";
pub const SUBJECT_KEY_ID: &str = "2.5.29.14";
pub const AUTHORITY_KEY_ID: &str = "2.5.29.35";

/// `bootsign list` output as rows of [serial, status, expires, kind, subject], header dropped.
pub fn list_rows(out: &str) -> Vec<[String; 5]> {
    let mut lines = out.lines();
    assert!(
        lines.next().is_some_and(|h| h.split_whitespace().collect::<Vec<_>>()
            == ["SERIAL", "STATUS", "EXPIRES", "KIND", "SUBJECT"]),
        "{out}"
    );
    lines
        .map(|l| {
            let mut it = l.split_whitespace();
            let mut row: [String; 5] = Default::default();
            for cell in row.iter_mut().take(4) {
                *cell = it.next().unwrap().to_string();
            }
            row[4] = it.collect::<Vec<_>>().join(" ");
            row
        })
        .collect()
}

impl Env {
    /// A key and certificate made by the OpenSSL CLI: `NAME.key`, `NAME.crt`, issued by
    /// `issuer` (`(crt, key)`, or self-signed with `None`) with the extension lines `exts`.
    /// Lets tests build certificates bootsign itself would never issue.
    pub fn openssl_cert(&self, name: &str, issuer: Option<(&str, &str)>, subject: &str, exts: &str) {
        self.openssl_cert_with(name, issuer, subject, exts, "rsa:2048", "sha256");
    }

    /// [`Env::openssl_cert`] with another key (`-newkey` value) and digest.
    pub fn openssl_cert_with(
        &self,
        name: &str,
        issuer: Option<(&str, &str)>,
        subject: &str,
        exts: &str,
        newkey: &str,
        md: &str,
    ) {
        static SERIAL: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0x1000);
        let serial = format!("{}", SERIAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
        let key = format!("{name}.key");
        let req = format!("{name}.req");
        let crt = format!("{name}.crt");
        let ext = format!("{name}.ext");
        self.write(&ext, format!("[ext]\n{exts}\n"));
        self.openssl_ok(&[
            "req", "-new", "-newkey", newkey, "-nodes", "-keyout", &key, "-out", &req, "-subj", subject,
        ]);
        let md = format!("-{md}");
        let mut args =
            vec!["x509", "-req", "-in", &req, "-out", &crt, "-days", "365", "-set_serial", &serial, &md];
        args.extend(["-extfile", &ext, "-extensions", "ext"]);
        match issuer {
            Some((ca_crt, ca_key)) => args.extend(["-CA", ca_crt, "-CAkey", ca_key]),
            None => args.extend(["-signkey", &key]),
        }
        self.openssl_ok(&args);
    }

    /// A P-256 key `key` and a CSR `csr` for `subject` made by `openssl req`, with the
    /// `-addext` values `exts`.
    pub fn openssl_ec_csr(&self, key: &str, csr: &str, subject: &str, exts: &[&str]) {
        let mut args = vec![
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            key,
            "-out",
            csr,
            "-subj",
            subject,
        ];
        for e in exts {
            args.extend(["-addext", e]);
        }
        self.openssl_ok(&args);
    }

    /// `openssl cms -sign` of `file` into `sig` (DER), with `-noattr` when asked.
    pub fn openssl_sign(
        &self,
        file: &str,
        sig: &str,
        signer: &str,
        key: &str,
        certfile: Option<&str>,
        noattr: bool,
    ) {
        let mut args = vec![
            "cms", "-sign", "-binary", "-in", file, "-signer", signer, "-inkey", key, "-outform", "DER",
            "-out", sig,
        ];
        if let Some(c) = certfile {
            args.extend(["-certfile", c]);
        }
        if noattr {
            args.push("-noattr");
        }
        self.openssl_ok(&args);
    }
}

/// Extensions of a code-signing leaf as an OpenSSL extfile section.
pub const CODESIGN_EXT: &str =
    "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning";
/// Extensions of an intermediate CA.
pub const CA_EXT: &str = "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign";

/// Runs bootsign expecting failure: checks each expected part of the message, and that
/// no file under the directory changed.
pub fn refused(env: &Env, args: &[&str], expect: &[&str]) {
    let before = env.snapshot();
    let err = env.fails(args);
    for e in expect {
        assert!(err.contains(e), "expected {e:?} in:\n{err}");
    }
    let after = env.snapshot();
    let changed: Vec<_> =
        before.keys().chain(after.keys()).filter(|k| before.get(*k) != after.get(*k)).collect();
    assert!(changed.is_empty(), "bootsign {args:?} changed files: {changed:?}");
}

/// Where scripts/fixtures.sh (run by scripts/setup.sh) puts what it fetches.
pub fn fixtures_dir() -> PathBuf {
    std::env::var_os("BOOTSIGN_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/bootsign-fixtures"))
}

/// The kernel and initramfs fetched by scripts/fixtures.sh (run by scripts/setup.sh).
pub fn fixtures() -> PathBuf {
    let dir = fixtures_dir();
    assert!(
        dir.join("vmlinuz").is_file() && dir.join("initrd.img").is_file(),
        "{} lacks vmlinuz and initrd.img: run scripts/setup.sh (it fetches them)",
        dir.display()
    );
    dir
}

/// A CA named `cn` with a P-256 code-signing certificate and a server certificate for
/// 10.0.2.2 (the host as QEMU guests see it; chain in server-full.crt), and www/ with the
/// fixtures' kernel and initrd, signed.
pub fn signed_boot_env(cn: &str) -> Env {
    let env = Env::new();
    env.ok(&["ca", "init", "--key", "p256", "--cn", cn]);
    env.ok(&["issue", "--codesigning", "--key", "p256"]);
    env.ok(&["issue", "--server", "--cn", "10.0.2.2", "--san", "10.0.2.2", "--key", "p256", "--chain"]);
    let fx = fixtures();
    std::fs::create_dir_all(env.path("www")).unwrap();
    for f in ["vmlinuz", "initrd.img"] {
        std::fs::copy(fx.join(f), env.path(&format!("www/{f}"))).unwrap();
    }
    env.ok(&["sign", "www/vmlinuz", "www/initrd.img"]);
    env
}

/// Script lines that fetch the kernel and initrd from `base`, verify both (imgtrust
/// --permanent --all) and boot.
pub fn boot_lines(base: &str) -> String {
    format!(
        "imgtrust --permanent --all\n\
         kernel {base}/vmlinuz console=ttyS0 panic=-1 quiet\n\
         initrd {base}/initrd.img\n\
         imgverify vmlinuz {base}/vmlinuz.sig\n\
         imgverify initrd.img {base}/initrd.img.sig\nboot\n"
    )
}

/// A DER TLV of at most 65535 content bytes.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else if n < 0x100 {
        out.extend([0x81, n as u8]);
    } else {
        out.extend([0x82, (n >> 8) as u8, n as u8]);
    }
    out.extend_from_slice(content);
    out
}

/// A bare PKCS#7 SignedData (what UEFI's authenticated variables carry) in the
/// ContentInfo OpenSSL reads.
pub fn signed_data_as_cms(signed_data: &[u8]) -> Vec<u8> {
    let mut content_info = vec![0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
    content_info.extend(tlv(0xa0, signed_data));
    tlv(0x30, &content_info)
}

/// The signature of a signed variable update (`.auth`: EFI_TIME, then a
/// WIN_CERTIFICATE_UEFI_GUID whose data is the SignedData), for OpenSSL.
pub fn auth_signature_cms(auth: &[u8]) -> Vec<u8> {
    let len = u32::from_le_bytes(auth[16..20].try_into().unwrap()) as usize;
    signed_data_as_cms(&auth[40..16 + len])
}

/// The EFI_TIME a signed variable update (`.auth`) starts with, as `sign-efi-sig-list -t`
/// takes it.
pub fn auth_timestamp(auth: &[u8]) -> String {
    let t = &auth[..16];
    format!(
        "{}-{:02}-{:02} {:02}:{:02}:{:02}",
        u16::from_le_bytes([t[0], t[1]]),
        t[2],
        t[3],
        t[4],
        t[5],
        t[6]
    )
}
