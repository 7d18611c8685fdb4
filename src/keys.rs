//! Private keys: generation, signing, and the PEM forms OpenSSL reads and writes.
//!
//! bootsign writes unencrypted keys as PKCS#8 `PRIVATE KEY` (what OpenSSL 3 writes) and
//! encrypted ones as PKCS#8 `ENCRYPTED PRIVATE KEY` with PBES2 (PBKDF2-HMAC-SHA256,
//! AES-256-CBC). It reads those plus the traditional `RSA PRIVATE KEY` (PKCS#1) and
//! `EC PRIVATE KEY` (SEC1) forms, PEM or DER.

use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use clap::ValueEnum;
use const_oid::db::rfc5912;
use der::Decode;
use getrandom::SysRng;
use p256::elliptic_curve::Generate;
use pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rand_core::{TryRng, UnwrapErr};
use sha2::Digest;
use spki::AlgorithmIdentifierOwned;
use zeroize::Zeroizing;

use crate::fsx::quote;

/// Key algorithms bootsign generates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum KeyType {
    /// RSA 2048 bits: what the OpenSSL recipe uses, and the fastest RSA to verify.
    Rsa2048,
    /// RSA 3072 bits.
    Rsa3072,
    /// RSA 4096 bits (slow to generate).
    Rsa4096,
    /// ECDSA on NIST P-256.
    P256,
    /// ECDSA on NIST P-384.
    P384,
}

impl KeyType {
    /// The algorithm of the keys it makes.
    pub fn algorithm(self) -> Algorithm {
        match self {
            Self::Rsa2048 => Algorithm::Rsa { bits: 2048 },
            Self::Rsa3072 => Algorithm::Rsa { bits: 3072 },
            Self::Rsa4096 => Algorithm::Rsa { bits: 4096 },
            Self::P256 => Algorithm::P256,
            Self::P384 => Algorithm::P384,
        }
    }
}

/// PBKDF2 iterations for encrypted keys (OWASP's 2023 figure for PBKDF2-HMAC-SHA256).
const PBKDF2_ITERATIONS: u32 = 600_000;

/// A private key bootsign can sign with.
pub enum PrivateKey {
    /// RSA; signs with PKCS#1 v1.5 and SHA-256.
    Rsa(Box<rsa::PrivateKey>),
    /// P-256; signs with ECDSA and SHA-256.
    P256(p256::SecretKey),
    /// P-384; signs with ECDSA and SHA-384.
    P384(p384::SecretKey),
}

fn rng() -> UnwrapErr<SysRng> {
    UnwrapErr(SysRng)
}

/// Fills `buf` from the operating system's random source.
pub fn random_bytes(buf: &mut [u8]) -> Result<()> {
    SysRng.try_fill_bytes(buf).map_err(|e| anyhow!("no randomness from the operating system: {e}"))
}

/// A signing key's algorithm, as the signatures it makes are labelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    /// RSA of `bits` bits: PKCS#1 v1.5 signatures.
    Rsa {
        /// The modulus length.
        bits: usize,
    },
    /// ECDSA on P-256.
    P256,
    /// ECDSA on P-384.
    P384,
}

impl Algorithm {
    /// The algorithm of the public key `spki_der` (a DER SubjectPublicKeyInfo), when it is
    /// one bootsign signs with.
    pub fn of_spki(spki_der: &[u8]) -> Option<Self> {
        use rsa::traits::PublicKeyParts;
        match bootsign_pki::PublicKey::from_spki_der(spki_der).ok()? {
            bootsign_pki::PublicKey::Rsa(k) => Some(Self::Rsa { bits: k.n().bit_width() as usize }),
            bootsign_pki::PublicKey::P256(_) => Some(Self::P256),
            bootsign_pki::PublicKey::P384(_) => Some(Self::P384),
        }
    }

    /// `RSA 2048`, `ECDSA P-256`, ...
    pub fn describe(self) -> String {
        match self {
            Self::Rsa { bits } => format!("RSA {bits}"),
            Self::P256 => "ECDSA P-256".into(),
            Self::P384 => "ECDSA P-384".into(),
        }
    }

    /// The hash of the signatures over whole messages: SHA-384 for P-384, else SHA-256.
    pub fn hash(self) -> Hash {
        if self == Self::P384 { Hash::Sha384 } else { Hash::Sha256 }
    }

    /// The `AlgorithmIdentifier` of those signatures.
    pub fn signature_algorithm(self) -> AlgorithmIdentifierOwned {
        match self {
            Self::Rsa { .. } => AlgorithmIdentifierOwned {
                oid: rfc5912::SHA_256_WITH_RSA_ENCRYPTION,
                parameters: Some(der::asn1::Null.into()),
            },
            Self::P256 => AlgorithmIdentifierOwned { oid: rfc5912::ECDSA_WITH_SHA_256, parameters: None },
            Self::P384 => AlgorithmIdentifierOwned { oid: rfc5912::ECDSA_WITH_SHA_384, parameters: None },
        }
    }
}

/// The hashes signatures here are made over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hash {
    /// SHA-256.
    Sha256,
    /// SHA-384 (certificates and CRLs signed by P-384 keys).
    Sha384,
}

impl Hash {
    /// The digest of `message`.
    pub fn digest(self, message: &[u8]) -> Vec<u8> {
        match self {
            Self::Sha256 => sha2::Sha256::digest(message).to_vec(),
            Self::Sha384 => sha2::Sha384::digest(message).to_vec(),
        }
    }

    /// The DER DigestInfo prefix PKCS#1 v1.5 puts before the digest (RFC 8017 9.2, note 1).
    pub fn digest_info_prefix(self) -> &'static [u8] {
        match self {
            Self::Sha256 => &[
                0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
                0x05, 0x00, 0x04, 0x20,
            ],
            Self::Sha384 => &[
                0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02,
                0x05, 0x00, 0x04, 0x30,
            ],
        }
    }
}

/// A key that signs: a key file's ([`PrivateKey`]) or one kept in a PKCS#11 token
/// ([`crate::pkcs11::TokenKey`]), which never leaves it. Certificates, CRLs, CMS and
/// Authenticode signatures are made through this, whichever it is.
pub trait Signer {
    /// The algorithm.
    fn algorithm(&self) -> Algorithm;

    /// The DER `SubjectPublicKeyInfo` of the public half.
    fn spki_der(&self) -> Result<Vec<u8>>;

    /// Signs a `hash` digest computed elsewhere: PKCS#1 v1.5 over DigestInfo for RSA,
    /// ECDSA over the digest for EC keys (the DER `Ecdsa-Sig-Value`).
    fn sign_digest(&self, hash: Hash, digest: &[u8]) -> Result<Vec<u8>>;

    /// `RSA 2048`, `ECDSA P-256`, ...
    fn describe(&self) -> String {
        self.algorithm().describe()
    }

    /// Whether this is an RSA key (which may also encipher keys in TLS).
    fn is_rsa(&self) -> bool {
        matches!(self.algorithm(), Algorithm::Rsa { .. })
    }

    /// The hash of the signatures [`Signer::sign`] makes: SHA-384 for P-384, else SHA-256.
    fn hash(&self) -> Hash {
        self.algorithm().hash()
    }

    /// The `AlgorithmIdentifier` of the signatures [`Signer::sign`] makes.
    fn signature_algorithm(&self) -> AlgorithmIdentifierOwned {
        self.algorithm().signature_algorithm()
    }

    /// Signs `message` (certificates, CRLs); the result is the signature BIT STRING's
    /// content.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        let hash = self.hash();
        self.sign_digest(hash, &hash.digest(message))
    }

    /// Signs a SHA-256 `digest` computed elsewhere (streamed content, CMS).
    fn sign_sha256_digest(&self, digest: &[u8]) -> Result<Vec<u8>> {
        self.sign_digest(Hash::Sha256, digest)
    }

    /// The CMS signatureAlgorithm for SHA-256 signatures by this key, as OpenSSL writes
    /// it: rsaEncryption (NULL parameters) for RSA, ecdsa-with-SHA256 for EC.
    fn cms_signature_algorithm(&self) -> AlgorithmIdentifierOwned {
        if self.is_rsa() {
            AlgorithmIdentifierOwned {
                oid: rfc5912::RSA_ENCRYPTION,
                parameters: Some(der::asn1::Null.into()),
            }
        } else {
            AlgorithmIdentifierOwned { oid: rfc5912::ECDSA_WITH_SHA_256, parameters: None }
        }
    }

    /// Whether the certificate public key `spki_der` is this key's public half.
    fn matches_spki(&self, spki_der: &[u8]) -> bool {
        self.spki_der().is_ok_and(|mine| same_public_key(&mine, spki_der))
    }
}

/// A key a command signs with: a key file's, or a token's (which signs inside the
/// token).
pub enum SigningKey {
    /// Read from a key file (or made now, to be written to one).
    File(PrivateKey),
    /// In a PKCS#11 token.
    Token(Box<crate::pkcs11::TokenKey>),
}

impl SigningKey {
    /// Takes a key pair made in a token by this run out again, when what it was made for
    /// failed; nothing for a key file's key, or a token key that was there before.
    pub fn discard_if_made(&self) {
        if let Self::Token(key) = self {
            key.discard_if_made();
        }
    }
}

impl Signer for SigningKey {
    fn algorithm(&self) -> Algorithm {
        match self {
            Self::File(k) => k.algorithm(),
            Self::Token(k) => k.algorithm(),
        }
    }

    fn spki_der(&self) -> Result<Vec<u8>> {
        match self {
            Self::File(k) => k.spki_der(),
            Self::Token(k) => k.spki_der(),
        }
    }

    fn sign_digest(&self, hash: Hash, digest: &[u8]) -> Result<Vec<u8>> {
        match self {
            Self::File(k) => k.sign_digest(hash, digest),
            Self::Token(k) => k.sign_digest(hash, digest),
        }
    }
}

/// A `pkcs11:` URI given on the command line, parsed (clap's value parser).
pub fn parse_uri_arg(s: &str) -> std::result::Result<Box<bootsign_pkcs11_uri::Pkcs11Uri>, String> {
    bootsign_pkcs11_uri::Pkcs11Uri::parse(s).map(Box::new).map_err(|e| e.to_string())
}

impl Signer for PrivateKey {
    fn algorithm(&self) -> Algorithm {
        use rsa::traits::PublicKeyParts;
        match self {
            Self::Rsa(k) => Algorithm::Rsa { bits: k.n().bit_width() as usize },
            Self::P256(_) => Algorithm::P256,
            Self::P384(_) => Algorithm::P384,
        }
    }

    fn spki_der(&self) -> Result<Vec<u8>> {
        self.public_der()
    }

    fn sign_digest(&self, hash: Hash, digest: &[u8]) -> Result<Vec<u8>> {
        use p256::ecdsa::signature::hazmat::PrehashSigner;
        Ok(match self {
            Self::Rsa(k) => {
                let scheme = match hash {
                    Hash::Sha256 => rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
                    Hash::Sha384 => rsa::Pkcs1v15Sign::new::<sha2::Sha384>(),
                };
                k.sign_with_rng(&mut rng(), scheme, digest).context("RSA signing failed")?
            }
            Self::P256(k) => {
                let sig: p256::ecdsa::Signature =
                    p256::ecdsa::SigningKey::from(k).sign_prehash(digest).context("ECDSA signing failed")?;
                sig.to_der().as_bytes().to_vec()
            }
            Self::P384(k) => {
                let sig: p384::ecdsa::Signature =
                    p384::ecdsa::SigningKey::from(k).sign_prehash(digest).context("ECDSA signing failed")?;
                sig.to_der().as_bytes().to_vec()
            }
        })
    }
}

/// Where a signing key is: a key file, or a key in a PKCS#11 token named by an RFC 7512
/// URI (`pkcs11:token=...;object=...`), which signs inside the token.
#[derive(Clone, Debug)]
pub enum KeyRef {
    /// A key file (PEM or DER; perhaps encrypted).
    File(std::path::PathBuf),
    /// A key in a token.
    Token(Box<bootsign_pkcs11_uri::Pkcs11Uri>),
}

impl KeyRef {
    /// A command-line value: a `pkcs11:` URI, else a file name.
    pub fn parse_arg(s: &str) -> std::result::Result<Self, String> {
        if bootsign_pkcs11_uri::Pkcs11Uri::is_uri(s) {
            parse_uri_arg(s).map(Self::Token)
        } else {
            Ok(Self::File(s.into()))
        }
    }

    /// The key at `path`: that file, or, when there is none, the token key its
    /// `PATH.uri` names (what `ca init --key-in` and `issue --key-in` write instead of a
    /// key file). Both at once is an error: which is the key?
    pub fn at(path: &Path) -> Result<Self> {
        let uri_path = crate::fsx::with_suffix(path, ".uri");
        match (path.exists(), uri_path.exists()) {
            (true, true) => bail!(
                "both {} and {} exist: a key in a file and one in a token; remove the one that is not this \
                 certificate's key",
                quote(path),
                quote(&uri_path)
            ),
            (false, true) => {
                // It names the module bootsign loads: a file others could change is refused.
                use std::os::unix::fs::MetadataExt;
                let meta = std::fs::metadata(&uri_path)
                    .with_context(|| format!("cannot read {}", quote(&uri_path)))?;
                if meta.mode() & 0o022 != 0 {
                    bail!(
                        "{} is writable by others (mode {:o}), and it names the PKCS#11 module bootsign would load; \
                         chmod go-w it",
                        quote(&uri_path),
                        meta.mode() & 0o7777
                    );
                }
                let bytes = crate::fsx::read_capped(&uri_path, 4096, "the key's PKCS#11 URI")?;
                let text =
                    String::from_utf8(bytes).map_err(|_| anyhow!("{} is not text", quote(&uri_path)))?;
                let mut uri = bootsign_pkcs11_uri::Pkcs11Uri::parse(text.trim())
                    .map_err(|e| anyhow!("{}: {e}", quote(&uri_path)))?;
                // A relative PIN file is beside the record, wherever bootsign runs.
                if let Some(dir) = uri_path.parent() {
                    crate::pkcs11::anchor_pin_source(&mut uri, dir);
                }
                Ok(Self::Token(Box::new(uri)))
            }
            _ => Ok(Self::File(path.to_path_buf())),
        }
    }

    /// How messages name it: the file, or the URI without its PIN.
    pub fn describe(&self) -> String {
        match self {
            Self::File(p) => quote(p),
            Self::Token(u) => format!("'{u}'"),
        }
    }

    /// Opens the key for signing: reads the file (asking for its passphrase if it is
    /// encrypted), or logs in to the token. Warnings go to `warn`.
    pub fn open(
        &self,
        pass: &crate::passphrase::Source,
        access: &crate::pkcs11::Access,
        warn: &mut dyn std::io::Write,
    ) -> Result<SigningKey> {
        Ok(match self {
            // A key file that is not there may be a token key's `.uri` record.
            Self::File(p) if !p.exists() && crate::fsx::with_suffix(p, ".uri").exists() => {
                return Self::at(p)?.open(pass, access, warn);
            }
            Self::File(p) => SigningKey::File(PrivateKey::read(p, pass, warn)?),
            Self::Token(u) => SigningKey::Token(Box::new(crate::pkcs11::TokenKey::open(u, access)?)),
        })
    }
}

impl PrivateKey {
    /// Generates a new key.
    pub fn generate(kind: KeyType) -> Result<Self> {
        let rsa = |bits| -> Result<Self> {
            let key = rsa::PrivateKey::new(&mut rng(), bits).context("RSA key generation failed")?;
            Ok(Self::Rsa(Box::new(key)))
        };
        match kind.algorithm() {
            Algorithm::Rsa { bits } => rsa(bits),
            Algorithm::P256 => Ok(Self::P256(p256::SecretKey::generate_from_rng(&mut rng()))),
            Algorithm::P384 => Ok(Self::P384(p384::SecretKey::generate_from_rng(&mut rng()))),
        }
    }

    /// The DER `SubjectPublicKeyInfo` of the public half.
    fn public_der(&self) -> Result<Vec<u8>> {
        let doc = match self {
            Self::Rsa(k) => k.to_public_key().to_public_key_der(),
            Self::P256(k) => k.public_key().to_public_key_der(),
            Self::P384(k) => k.public_key().to_public_key_der(),
        }
        .context("failed to encode the public key")?;
        Ok(doc.into_vec())
    }

    /// Reads a private key file. Warnings about the passphrase file go to `warn`.
    pub fn read(
        path: &Path,
        pass: &crate::passphrase::Source,
        warn: &mut dyn std::io::Write,
    ) -> Result<Self> {
        let bytes = crate::fsx::read_capped(path, crate::fsx::MAX_INPUT, "the key")?;
        Self::from_file_bytes(&bytes, path, &mut || pass.unlock(path, &mut *warn))
    }

    /// The key as PKCS#8 DER (what images carry).
    pub fn pkcs8_der(&self) -> Result<der::SecretDocument> {
        match self {
            Self::Rsa(k) => k.to_pkcs8_der(),
            Self::P256(k) => k.to_pkcs8_der(),
            Self::P384(k) => k.to_pkcs8_der(),
        }
        .context("failed to encode the private key")
    }

    /// PKCS#8 PEM, encrypted under `passphrase` when one is given.
    pub fn to_pem(&self, passphrase: Option<&str>) -> Result<Zeroizing<String>> {
        let doc = self.pkcs8_der()?;
        let pem = match passphrase {
            None => doc.to_pem("PRIVATE KEY", LineEnding::LF),
            Some(pass) => {
                let mut salt = [0u8; 16];
                let mut iv = [0u8; 16];
                random_bytes(&mut salt)?;
                random_bytes(&mut iv)?;
                let params = pkcs8::pkcs5::pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(
                    PBKDF2_ITERATIONS,
                    &salt,
                    iv,
                )
                .map_err(|e| anyhow!("PBES2 parameters: {e}"))?;
                let info = pkcs8::PrivateKeyInfoRef::try_from(doc.as_bytes())
                    .context("failed to encode the private key")?;
                info.encrypt_with_params(params, pass.as_bytes())
                    .map_err(|e| anyhow!("failed to encrypt the private key: {e}"))?
                    .to_pem("ENCRYPTED PRIVATE KEY", LineEnding::LF)
            }
        }
        .context("failed to encode the private key as PEM")?;
        Ok(pem)
    }

    /// Reads a key file's contents (PEM or DER). `passphrase` is called only when the key
    /// is encrypted.
    pub fn from_file_bytes(
        bytes: &[u8],
        path: &Path,
        passphrase: &mut dyn FnMut() -> Result<Zeroizing<String>>,
    ) -> Result<Self> {
        let name = quote(path);
        if !crate::x509::looks_like_pem(bytes) {
            // Not even PKCS#8's structure: some other file, whose bytes the decoder would only
            // describe by tag numbers.
            if pkcs8::PrivateKeyInfoRef::try_from(bytes).is_err() {
                bail!(
                    "{name} is not a private key (expected PEM 'BEGIN PRIVATE KEY', 'BEGIN RSA PRIVATE KEY', \
                     'BEGIN EC PRIVATE KEY' or DER PKCS#8)"
                );
            }
            return Self::from_pkcs8_der(bytes).with_context(|| format!("{name}: bad PKCS#8 private key"));
        }
        let blocks = pem::parse_many(bytes).with_context(|| format!("{name}: malformed PEM"))?;
        let block = blocks.iter().find(|b| b.tag().ends_with("PRIVATE KEY")).ok_or_else(|| {
            let tags: Vec<_> = blocks.iter().map(|b| b.tag().to_string()).collect();
            anyhow!("{name} holds no private key (found PEM blocks: {})", list_or_none(&tags))
        })?;
        let der = block.contents();
        match block.tag() {
            "PRIVATE KEY" => {
                Self::from_pkcs8_der(der).with_context(|| format!("{name}: bad PKCS#8 private key"))
            }
            "ENCRYPTED PRIVATE KEY" => {
                let info = pkcs8::EncryptedPrivateKeyInfoRef::try_from(der)
                    .with_context(|| format!("{name}: malformed encrypted private key"))?;
                let pass = passphrase()?;
                let plain = info
                    .decrypt(pass.as_bytes())
                    .map_err(|_| anyhow!("{name}: wrong passphrase, or the key is damaged"))?;
                Self::from_pkcs8_der(plain.as_bytes())
                    .with_context(|| format!("{name}: bad PKCS#8 private key inside the encryption"))
            }
            tag @ ("RSA PRIVATE KEY" | "EC PRIVATE KEY") => {
                if block.headers().get("Proc-Type").is_some_and(|v| v.contains("ENCRYPTED")) {
                    bail!(
                        "{name} uses the legacy OpenSSL PEM encryption (Proc-Type/DEK-Info), which \
                         bootsign does not read; convert it with: openssl pkey -in {} -aes256 -out NEW.key",
                        path.display()
                    );
                }
                if tag == "RSA PRIVATE KEY" {
                    use rsa::pkcs1::DecodeRsaPrivateKey;
                    rsa::PrivateKey::from_pkcs1_der(der)
                        .map(|k| Self::Rsa(Box::new(k)))
                        .with_context(|| format!("{name}: bad PKCS#1 RSA private key"))
                } else {
                    Self::from_sec1_der(der).with_context(|| format!("{name}: bad SEC1 EC private key"))
                }
            }
            other => bail!("{name}: unsupported key format '{other}'"),
        }
    }

    fn from_pkcs8_der(der: &[u8]) -> Result<Self> {
        let info = pkcs8::PrivateKeyInfoRef::try_from(der).map_err(|e| anyhow!("{e}"))?;
        match info.algorithm.oid {
            rfc5912::RSA_ENCRYPTION => {
                Ok(Self::Rsa(Box::new(rsa::PrivateKey::from_pkcs8_der(der).map_err(|e| anyhow!("{e}"))?)))
            }
            rfc5912::ID_EC_PUBLIC_KEY => {
                let curve = info
                    .algorithm
                    .parameters_oid()
                    .map_err(|e| anyhow!("EC key without a named curve: {e}"))?;
                match curve {
                    rfc5912::SECP_256_R_1 => {
                        Ok(Self::P256(p256::SecretKey::from_pkcs8_der(der).map_err(|e| anyhow!("{e}"))?))
                    }
                    rfc5912::SECP_384_R_1 => {
                        Ok(Self::P384(p384::SecretKey::from_pkcs8_der(der).map_err(|e| anyhow!("{e}"))?))
                    }
                    other => {
                        bail!("unsupported elliptic curve {}", bootsign_pki::signature::oid_name(&other))
                    }
                }
            }
            other => bail!("unsupported key type {}", bootsign_pki::signature::oid_name(&other)),
        }
    }

    fn from_sec1_der(der: &[u8]) -> Result<Self> {
        let key = sec1::EcPrivateKey::from_der(der).map_err(|e| anyhow!("{e}"))?;
        let curve = key
            .parameters
            .and_then(|p| p.named_curve())
            .ok_or_else(|| anyhow!("EC key without a named curve"))?;
        match curve {
            rfc5912::SECP_256_R_1 => {
                Ok(Self::P256(p256::SecretKey::from_sec1_der(der).map_err(|e| anyhow!("{e}"))?))
            }
            rfc5912::SECP_384_R_1 => {
                Ok(Self::P384(p384::SecretKey::from_sec1_der(der).map_err(|e| anyhow!("{e}"))?))
            }
            other => bail!("unsupported elliptic curve {}", bootsign_pki::signature::oid_name(&other)),
        }
    }
}

/// Whether two DER SubjectPublicKeyInfos hold the same key (whatever their encoding).
pub fn same_public_key(a: &[u8], b: &[u8]) -> bool {
    use bootsign_pki::PublicKey as K;
    match (K::from_spki_der(a), K::from_spki_der(b)) {
        (Ok(K::Rsa(x)), Ok(K::Rsa(y))) => x == y,
        (Ok(K::P256(x)), Ok(K::P256(y))) => x == y,
        (Ok(K::P384(x)), Ok(K::P384(y))) => x == y,
        _ => a == b,
    }
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() { "none".into() } else { items.join(", ") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::Encode;

    /// `spki::AlgorithmIdentifierOwned` → DER, which cannot fail for the values we build.
    fn algorithm_der(alg: &AlgorithmIdentifierOwned) -> Vec<u8> {
        alg.to_der().expect("algorithm identifiers encode")
    }

    fn no_pass() -> Result<Zeroizing<String>> {
        bail!("no passphrase expected")
    }

    #[test]
    fn pem_round_trip_plain_and_encrypted() {
        let key = PrivateKey::generate(KeyType::P256).unwrap();
        let spki = key.spki_der().unwrap();
        let path = Path::new("k.pem");
        let plain = key.to_pem(None).unwrap();
        assert!(plain.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        let back = PrivateKey::from_file_bytes(plain.as_bytes(), path, &mut no_pass).unwrap();
        assert!(back.matches_spki(&spki));

        let enc = key.to_pem(Some("sesame")).unwrap();
        assert!(enc.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"));
        let back =
            PrivateKey::from_file_bytes(enc.as_bytes(), path, &mut || Ok(Zeroizing::new("sesame".into())))
                .unwrap();
        assert!(back.matches_spki(&spki));
        let err =
            PrivateKey::from_file_bytes(enc.as_bytes(), path, &mut || Ok(Zeroizing::new("wrong".into())))
                .err()
                .unwrap();
        assert!(format!("{err:#}").contains("wrong passphrase"), "{err:#}");
    }

    #[test]
    fn signatures_verify_with_the_shared_verifier() {
        for kind in [KeyType::Rsa2048, KeyType::P256, KeyType::P384] {
            let key = PrivateKey::generate(kind).unwrap();
            let alg = bootsign_pki::SignatureAlgorithm::from_der(&algorithm_der(&key.signature_algorithm()))
                .unwrap();
            let public = bootsign_pki::PublicKey::from_spki_der(&key.spki_der().unwrap()).unwrap();
            let sig = key.sign(b"to be signed").unwrap();
            public.verify(alg, b"to be signed", &sig).unwrap();
            assert_eq!(
                public.verify(alg, b"to be signed!", &sig),
                Err(bootsign_pki::SignatureError::Invalid),
                "{kind:?}"
            );
        }
    }

    #[test]
    fn not_a_key() {
        let err = PrivateKey::from_file_bytes(
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            Path::new("x.pem"),
            &mut no_pass,
        )
        .err()
        .unwrap();
        assert!(
            format!("{err:#}").contains("holds no private key (found PEM blocks: CERTIFICATE)"),
            "{err:#}"
        );
    }
}
