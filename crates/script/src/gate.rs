//! The trust gate: the one place that decides whether an image may be started, and the
//! types that carry that decision to the platform.
//!
//! The platform's [`Machine::boot`](crate::Machine::boot) receives a [`Boot`], which only
//! this module makes, after `imgtrust` has been honoured. Each image in it is
//! [`Admitted`], with its [`Decision`] as a value: verified, with the proof, or allowed
//! unverified because no `imgtrust` was in force for it. The bytes of an admitted image
//! are reachable only through [`Admitted::bytes`], which re-checks them against the proof
//! when there is one: a launcher cannot be handed bare bytes, cannot forget the check,
//! and cannot start bytes that changed after `imgverify` (memory corruption, a DMA
//! overrun, a bug that swapped buffers).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::image::{Image, ImageKind};

/// What `imgverify` hands back: a proof that a signature verified over particular bytes.
pub trait Proof {
    /// Checks that `bytes` are the bytes the proof was made over; says why not.
    fn recheck(&self, bytes: &[u8]) -> Result<(), String>;
    /// Whether the proof covers every byte. An embedded (Authenticode) signature covers
    /// what a PE loader runs, not the checksum, the certificate table or gaps, so it
    /// vouches for a program but not for bytes handed over whole (an initrd).
    fn covers_every_byte(&self) -> bool;
}

/// The PKI crate's proof: the content digests the signers were verified against, checked
/// here in software. (A platform with faster hashing may wrap it.)
impl Proof for bootsign_pki::cms::Verified {
    fn recheck(&self, bytes: &[u8]) -> Result<(), String> {
        self.check_content(bytes).map_err(|e| format!("{e}"))
    }
    fn covers_every_byte(&self) -> bool {
        self.covers() == bootsign_pki::cms::Covers::Content
    }
}

/// `imgtrust` state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TrustPolicy {
    /// Executing an unverified image is an error.
    pub required: bool,
    /// `required` can no longer be turned off.
    pub permanent: bool,
    /// Every image handed to the program (initrds, modules) must be verified too.
    pub all_images: bool,
}

impl From<bootsign_config::RequireSigned> for TrustPolicy {
    /// The trust a build requires (`--require-signed`): in force from the start, and
    /// permanent, so no script can relax it.
    fn from(required: bootsign_config::RequireSigned) -> Self {
        use bootsign_config::RequireSigned;
        Self {
            required: required != RequireSigned::Off,
            permanent: required != RequireSigned::Off,
            all_images: required == RequireSigned::All,
        }
    }
}

impl TrustPolicy {
    /// Whether an image in `role` must carry a proof.
    fn demands_proof(&self, role: Role) -> bool {
        match role {
            Role::Program | Role::Disk => self.required,
            Role::Initrd => self.required && self.all_images,
        }
    }
}

/// An unverified image was allowed because the policy in force did not demand a proof
/// for it. Only the gate makes one.
#[derive(Debug)]
pub struct NotRequired(());

/// The gate's decision about one image.
#[derive(Debug)]
pub enum Decision<'a, P> {
    /// Its signature verified; the proof is over its bytes.
    Verified(&'a P),
    /// It was not verified, and no `imgtrust` in force required it to be.
    Unverified(NotRequired),
}

/// An image the gate let through, with why.
pub struct Admitted<'a, P, D> {
    image: &'a Image<P, D>,
    decision: Decision<'a, P>,
}

impl<P, D> core::fmt::Debug for Admitted<'_, P, D> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Admitted").field("image", self.image).field("verified", &self.is_verified()).finish()
    }
}

impl<'a, P, D> Admitted<'a, P, D> {
    /// The image (its name, command line, metadata; not its bytes).
    pub fn image(&self) -> &'a Image<P, D> {
        self.image
    }

    /// Why it may be started.
    pub fn decision(&self) -> &Decision<'a, P> {
        &self.decision
    }

    /// Whether it was verified.
    pub fn is_verified(&self) -> bool {
        matches!(self.decision, Decision::Verified(_))
    }
}

impl<'a, P: Proof, D> Admitted<'a, P, D> {
    /// The bytes to start. A verified image's bytes are checked against its proof first,
    /// and bytes that differ from what was verified are refused.
    pub fn bytes(&self) -> Result<Checked<'a, P>, String> {
        let proof = match &self.decision {
            Decision::Verified(proof) => {
                proof.recheck(&self.image.data).map_err(|e| {
                    format!("image '{}' is not the image that was verified: {e}", self.image.name)
                })?;
                Some(*proof)
            }
            Decision::Unverified(_) => None,
        };
        Ok(Checked { bytes: &self.image.data, proof })
    }
}

/// Bytes the gate handed out to be started, with whether they are verified ones (checked
/// against their proof just now). Only the gate makes one, so a platform layer that asks
/// its firmware to let verified bytes through (Secure Boot) can demand this type.
pub struct Checked<'a, P> {
    bytes: &'a [u8],
    proof: Option<&'a P>,
}

impl<P> Clone for Checked<'_, P> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<P> Copy for Checked<'_, P> {}

impl<P> core::fmt::Debug for Checked<'_, P> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Checked")
            .field("len", &self.bytes.len())
            .field("verified", &self.is_verified())
            .finish()
    }
}

impl<'a, P> Checked<'a, P> {
    /// The bytes.
    pub fn as_slice(&self) -> &'a [u8] {
        self.bytes
    }

    /// Whether they are an image whose signature `imgverify` verified, re-checked.
    pub fn is_verified(&self) -> bool {
        self.proof.is_some()
    }

    /// The proof they were re-checked against, for a verified image.
    pub fn proof(&self) -> Option<&'a P> {
        self.proof
    }
}

/// The image to start and the initrds to give it, and the shim to start it through when
/// the platform refuses it. Only the trust gate makes one.
pub struct Boot<'a, P, D = ()> {
    image: Admitted<'a, P, D>,
    initrds: Vec<Admitted<'a, P, D>>,
    shim: Option<Admitted<'a, P, D>>,
}

impl<'a, P, D> Boot<'a, P, D> {
    /// The program or kernel.
    pub fn image(&self) -> &Admitted<'a, P, D> {
        &self.image
    }
    /// Initrds (and modules), in the order they were loaded.
    pub fn initrds(&self) -> &[Admitted<'a, P, D>] {
        &self.initrds
    }
    /// The shim `shim` chose: when Secure Boot refuses the program, the platform starts
    /// this (it checks it as any program) with the program served to it as its second
    /// stage, which the shim checks against its own keys. Admitted as a program.
    pub fn shim(&self) -> Option<&Admitted<'a, P, D>> {
        self.shim.as_ref()
    }
}

/// The part an image plays when something is started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// The program, kernel or script that runs.
    Program,
    /// Handed to the program: an initrd or module.
    Initrd,
    /// A disk or CD image `sanboot` boots from: what it starts is on it, so it is
    /// trusted as a program, and only a proof of every byte will do.
    Disk,
}

/// The check: admits `image` for `role` under `policy`, or says why not.
pub(crate) fn admit<'a, P: Proof, D>(
    policy: &TrustPolicy,
    image: &'a Image<P, D>,
    role: Role,
) -> Result<Admitted<'a, P, D>, String> {
    let decision = match (&image.proof, policy.demands_proof(role)) {
        // Bytes handed over whole need a proof of every byte.
        (Some(proof), _) if role != Role::Program && !proof.covers_every_byte() => {
            let what = if role == Role::Disk { "disk image" } else { "initrd" };
            return Err(format!(
                "{what} '{}' was verified by a signature embedded in it, which does not cover every byte; \
                 sign it with a detached signature (bootsign sign) and imgverify it with that",
                image.name
            ));
        }
        (Some(proof), _) => Decision::Verified(proof),
        (None, false) => Decision::Unverified(NotRequired(())),
        (None, true) => {
            return Err(match role {
                Role::Program => format!(
                    "image '{}' is not trusted: imgtrust requires a verified image (run imgverify first)",
                    image.name
                ),
                Role::Initrd => format!(
                    "initrd '{}' is not trusted: imgtrust --all requires every image to be verified (run imgverify first)",
                    image.name
                ),
                Role::Disk => format!(
                    "disk image '{}' is not trusted: imgtrust requires a verified image (fetch it with imgfetch, \
                     imgverify it, then sanboot {})",
                    image.name, image.name
                ),
            });
        }
    };
    Ok(Admitted { image, decision })
}

/// Admits `image` to run with every other image in `images` handed to it, as iPXE hands
/// a Linux kernel every registered image (`initrd`, `module` and `imgfetch` alike), except
/// disks `sanhook` attached, the shim, and programs verified by an embedded signature
/// (which does not vouch for them as data). The shim, if one was chosen, is admitted as a
/// program: under `imgtrust` it must be verified too.
pub(crate) fn boot<'a, P: Proof, D>(
    policy: &TrustPolicy,
    image: &'a Image<P, D>,
    images: &'a [Image<P, D>],
) -> Result<Boot<'a, P, D>, String> {
    let program = admit(policy, image, Role::Program)?;
    let initrds = images
        .iter()
        .filter(|i| !core::ptr::eq(*i, image) && !matches!(i.kind, ImageKind::Disk | ImageKind::Shim))
        .filter(|i| i.proof.as_ref().is_none_or(Proof::covers_every_byte))
        .map(|i| admit(policy, i, Role::Initrd))
        .collect::<Result<Vec<_>, _>>()?;
    let shim = images
        .iter()
        .find(|i| !core::ptr::eq(*i, image) && i.kind == ImageKind::Shim)
        .map(|i| admit(policy, i, Role::Program))
        .transpose()
        .map_err(|e| format!("the shim: {e}"))?;
    Ok(Boot { image: program, initrds, shim })
}

/// What `sanboot` and `sanhook` hand the machine: the disk image admitted by the gate
/// (`None`: the local disk), and how to boot it.
pub struct San<'a, P, D = ()> {
    disk: Option<Admitted<'a, P, D>>,
    /// The BIOS drive number asked for (`--drive`, 0x80 by default), for the local disk.
    pub drive: u32,
    /// The boot file on the disk (`--filename`), else the removable-media default.
    pub filename: Option<String>,
    /// For the local disk: `imgtrust` is in force, so the program may start only if the
    /// platform checks it (Secure Boot on); bootsign has no proof of anything on it.
    pub needs_platform_check: bool,
}

impl<'a, P: Proof, D> San<'a, P, D> {
    /// The disk image, if one was given; its bytes come through [`Admitted::bytes`].
    pub fn disk(&self) -> Option<&Admitted<'a, P, D>> {
        self.disk.as_ref()
    }
}

/// Admits `image` (if any) as a disk to boot from under `policy`.
pub(crate) fn san<'a, P: Proof, D>(
    policy: &TrustPolicy,
    image: Option<&'a Image<P, D>>,
    drive: u32,
    filename: Option<String>,
) -> Result<San<'a, P, D>, String> {
    let disk = image.map(|i| admit(policy, i, Role::Disk)).transpose()?;
    let needs_platform_check = disk.is_none() && policy.demands_proof(Role::Program);
    Ok(San { disk, drive, filename, needs_platform_check })
}

#[cfg(test)]
mod tests {
    extern crate std;

    use std::process::Command;
    use std::string::ToString;
    use std::vec;

    use crate::image::ImageKind;
    use bootsign_pki::cms::{SignedData, Trust, Verified, verify};
    use bootsign_pki::{Cert, MultiHasher, Revocation};

    use super::*;

    fn openssl(dir: &std::path::Path, args: &[&str]) {
        let out = Command::new("openssl").current_dir(dir).args(args).output().expect("openssl");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            std::string::String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A real signature: a CA, a code-signing certificate and `openssl cms -sign` over
    /// `content`, verified by the PKI crate. Returns the proof.
    fn verified_by_openssl(content: &[u8]) -> Verified {
        static RUN: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(0);
        let run = RUN.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("bootsign-gate-{}-{run}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
        openssl(
            &dir,
            &[
                &["req", "-x509"][..],
                &ec,
                &[
                    "-keyout",
                    "ca.key",
                    "-out",
                    "ca.pem",
                    "-subj",
                    "/CN=Gate CA",
                    "-days",
                    "2",
                    "-addext",
                    "basicConstraints=critical,CA:TRUE",
                    "-addext",
                    "keyUsage=critical,keyCertSign",
                ],
            ]
            .concat(),
        );
        openssl(
            &dir,
            &[&["req", "-new"][..], &ec, &["-keyout", "s.key", "-out", "s.csr", "-subj", "/CN=Gate signer"]]
                .concat(),
        );
        std::fs::write(dir.join("ext"), "keyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n")
            .unwrap();
        openssl(
            &dir,
            &[
                "x509", "-req", "-in", "s.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-days", "1",
                "-extfile", "ext", "-out", "s.pem",
            ],
        );
        std::fs::write(dir.join("kernel"), content).unwrap();
        openssl(
            &dir,
            &[
                "cms",
                "-sign",
                "-binary",
                "-noattr",
                "-in",
                "kernel",
                "-signer",
                "s.pem",
                "-inkey",
                "s.key",
                "-outform",
                "DER",
                "-out",
                "kernel.sig",
            ],
        );
        openssl(&dir, &["x509", "-in", "ca.pem", "-outform", "DER", "-out", "ca.der"]);
        let ca = std::fs::read(dir.join("ca.der")).unwrap();
        let sig = std::fs::read(dir.join("kernel.sig")).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let sd = SignedData::parse(&sig).unwrap();
        let mut hasher = MultiHasher::new(sd.digest_algorithms());
        hasher.update(content);
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        let anchors = [Cert::parse(&ca).unwrap().fingerprint()];
        let trust = Trust { anchors: &anchors, extra_certs: &[&ca], time: now, revocation: Revocation::NONE };
        verify(&sd, &hasher.finish(), &trust, None).unwrap()
    }

    fn image(data: &[u8], kind: ImageKind, proof: Option<Verified>) -> Image<Verified> {
        Image {
            name: "vmlinuz".to_string(),
            uri: "http://10.0.2.2/vmlinuz".to_string(),
            data: data.to_vec(),
            cmdline: String::new(),
            kind,
            proof,
            meta: (),
        }
    }

    const REQUIRED: TrustPolicy = TrustPolicy { required: true, permanent: true, all_images: true };

    /// A proof like an Authenticode one: it vouches for a program, not every byte.
    struct ProgramOnly;

    impl Proof for ProgramOnly {
        fn recheck(&self, _bytes: &[u8]) -> Result<(), String> {
            Ok(())
        }
        fn covers_every_byte(&self) -> bool {
            false
        }
    }

    #[test]
    fn a_proof_of_part_of_the_bytes_serves_a_program_and_never_an_initrd() {
        let img = |kind| Image {
            name: "x".to_string(),
            uri: String::new(),
            data: vec![1, 2, 3],
            cmdline: String::new(),
            kind,
            proof: Some(ProgramOnly),
            meta: (),
        };
        let program = img(ImageKind::Executable);
        assert!(admit(&REQUIRED, &program, Role::Program).unwrap().bytes().unwrap().is_verified());
        let initrd = img(ImageKind::Initrd);
        let err = admit(&REQUIRED, &initrd, Role::Initrd).unwrap_err();
        assert!(err.contains("does not cover every byte"), "{err}");
        // Even where no imgtrust demands a proof, a partial one is never taken for an initrd.
        assert!(admit(&TrustPolicy::default(), &initrd, Role::Initrd).is_err());
    }

    #[test]
    fn bytes_changed_after_verification_are_not_started() {
        let kernel = vec![0x4d_u8; 100_000];
        let mut img = image(&kernel, ImageKind::Executable, Some(verified_by_openssl(&kernel)));
        // As verified: admitted, and the bytes come out.
        let admitted = admit(&REQUIRED, &img, Role::Program).unwrap();
        assert!(admitted.is_verified());
        assert_eq!(admitted.bytes().unwrap().as_slice(), &kernel[..]);
        assert!(admitted.bytes().unwrap().is_verified());
        // One byte changes after imgverify: the launch path refuses, naming the image.
        img.data[50_000] ^= 1;
        let admitted = admit(&REQUIRED, &img, Role::Program).unwrap();
        let err = admitted.bytes().unwrap_err();
        assert!(err.contains("'vmlinuz' is not the image that was verified"), "{err}");
        assert!(err.contains("changed after verification"), "{err}");
        // Even where no imgtrust is in force: a proof, once there, is always checked.
        let admitted = admit(&TrustPolicy::default(), &img, Role::Program).unwrap();
        assert!(admitted.bytes().is_err());
        // Truncated or extended: refused too.
        img.data = kernel[..kernel.len() - 1].to_vec();
        assert!(admit(&REQUIRED, &img, Role::Program).unwrap().bytes().is_err());
        img.data = [&kernel[..], b"\0"].concat();
        assert!(admit(&REQUIRED, &img, Role::Program).unwrap().bytes().is_err());
    }

    #[test]
    fn the_gate_demands_proofs_as_the_policy_says() {
        let plain = image(b"k", ImageKind::Executable, None);
        let initrd = image(b"i", ImageKind::Initrd, None);
        let images = [image(b"k", ImageKind::Executable, None), image(b"i", ImageKind::Initrd, None)];
        // No imgtrust: unverified, allowed, and said so.
        let a = admit(&TrustPolicy::default(), &plain, Role::Program).unwrap();
        assert!(matches!(a.decision(), Decision::Unverified(_)));
        assert_eq!(a.bytes().unwrap().as_slice(), b"k");
        assert!(!a.bytes().unwrap().is_verified());
        // imgtrust: the program needs a proof; initrds only with --all.
        let program_only = TrustPolicy { required: true, permanent: false, all_images: false };
        assert!(admit(&program_only, &plain, Role::Program).unwrap_err().contains("imgtrust requires"));
        assert!(admit(&program_only, &initrd, Role::Initrd).is_ok());
        assert!(admit(&REQUIRED, &initrd, Role::Initrd).unwrap_err().contains("imgtrust --all"));
        // boot() admits every other image (here another kernel and an initrd), or nothing.
        let kernel = vec![7u8; 10];
        let signed = image(&kernel, ImageKind::Executable, Some(verified_by_openssl(&kernel)));
        let err = boot(&REQUIRED, &signed, &images).err().unwrap();
        assert!(err.contains("initrd 'vmlinuz' is not trusted"), "{err}");
        let b = boot(&program_only, &signed, &images).ok().unwrap();
        assert!(b.image().is_verified());
        assert_eq!(b.initrds().len(), 2);
        assert!(!b.initrds()[1].is_verified());
    }
}
