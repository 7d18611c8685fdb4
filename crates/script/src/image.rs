//! A downloaded image: its bytes, its role, and the proof its signature verified. The
//! fields are private: nothing outside this crate can change an image's bytes, mark it
//! verified, or read the bytes to start them except through the trust gate
//! ([`crate::gate`]).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// What an image is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageKind {
    /// Fetched without a role (`imgfetch`, a signature).
    Other,
    /// Selected to boot (`kernel`, `chain`).
    Executable,
    /// An initial ramdisk (`initrd`).
    Initrd,
    /// A module (`module`), handed over like an initrd.
    Module,
    /// A disk or CD image given to `sanboot`/`sanhook`: the platform has it as a RAM
    /// disk; it is not handed to a kernel as an initrd.
    Disk,
    /// The shim `shim` chose, which starts the next EFI program the platform refuses;
    /// not handed to a kernel as an initrd.
    Shim,
}

/// A downloaded image.
pub struct Image<P, D = ()> {
    pub(crate) name: String,
    pub(crate) uri: String,
    pub(crate) data: Vec<u8>,
    pub(crate) cmdline: String,
    pub(crate) kind: ImageKind,
    /// Set by `imgverify` when the signature verified over `data`.
    pub(crate) proof: Option<P>,
    pub(crate) meta: D,
}

impl<P, D> Image<P, D> {
    /// Its name: `--name`, else the last part of the URI.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Where it came from.
    pub fn uri(&self) -> &str {
        &self.uri
    }
    /// Its size in bytes.
    pub fn len(&self) -> usize {
        self.data.len()
    }
    /// Whether it has no bytes.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
    /// Its command line.
    pub fn cmdline(&self) -> &str {
        &self.cmdline
    }
    /// Its role.
    pub fn kind(&self) -> ImageKind {
        self.kind
    }
    /// The proof that its signature verified, if `imgverify` succeeded on it.
    pub fn proof(&self) -> Option<&P> {
        self.proof.as_ref()
    }
    /// What the machine recorded when fetching it.
    pub fn meta(&self) -> &D {
        &self.meta
    }
}

impl<P, D> fmt::Debug for Image<P, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Image")
            .field("name", &self.name)
            .field("uri", &bootsign_http::url::redact(&self.uri))
            .field("len", &self.data.len())
            .field("cmdline", &self.cmdline)
            .field("kind", &self.kind)
            .field("verified", &self.proof.is_some())
            .finish()
    }
}
