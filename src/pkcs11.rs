//! Private keys in PKCS#11 tokens (HSMs, smartcards, SoftHSM2, cloud KMS modules): a key
//! named by an RFC 7512 URI signs inside the token and never leaves it.
//!
//! The module (the token vendor's shared library) comes from the URI's `module-path`,
//! else `--pkcs11-module` (or `BOOTSIGN_PKCS11_MODULE`); `module-name` is looked up in
//! p11-kit's module directory. The PIN comes from the URI's `pin-value` or `pin-source`,
//! else `--pin-file`, else `--passphrase-file` (when it unlocked no key file in the same
//! command), else the terminal. bootsign logs in once per token: a wrong PIN is
//! reported, not retried, so a token that locks after a few failures is not locked by
//! bootsign. Signing uses the raw mechanisms (`CKM_RSA_PKCS` over a DigestInfo,
//! `CKM_ECDSA` over the digest), so the hashing stays here and the same for every key.
//! The public half is the one of the key's candidates (its own RSA modulus, the public
//! keys and certificates with its ID or label) that the key signs a fresh challenge for.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use bootsign_pkcs11_uri::{ObjectType, Pkcs11Uri};
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, SessionState, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use der::{Decode, Encode};
use pkcs8::EncodePublicKey;
use zeroize::Zeroizing;

use crate::fsx::quote;
use crate::keys::{Algorithm, Hash, KeyType as NewKeyType, Signer};

/// The environment variable `--pkcs11-module` may be given by.
pub const MODULE_ENV: &str = "BOOTSIGN_PKCS11_MODULE";

/// Where p11-kit keeps the modules `module-name` names (Debian's multiarch path).
const P11_KIT_MODULES: &str = "/usr/lib/x86_64-linux-gnu/pkcs11";

/// Where a key's module and PIN come from, besides its URI.
#[derive(Clone, Debug, Default)]
pub struct Access {
    /// `--pkcs11-module`.
    pub module: Option<PathBuf>,
    /// `--pin-file`: the PIN's first line.
    pub pin_file: Option<PathBuf>,
    /// `--passphrase-file`, the PIN's when there is no `--pin-file` and it gave no key
    /// file's passphrase in the same command.
    pub passphrase_file: Option<PathBuf>,
}

/// A key in a token, logged in and ready to sign.
pub struct TokenKey {
    session: Session,
    key: ObjectHandle,
    algorithm: Algorithm,
    spki: Vec<u8>,
    uri: Pkcs11Uri,
    /// The public key object made with it, when this run made the pair.
    made_public: Option<ObjectHandle>,
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TokenKey({})", self.uri)
    }
}

/// A PKCS#11 call's failure, said for a person: what was being done and what the token
/// answered.
fn token_error(doing: &str, e: CkError) -> anyhow::Error {
    token_answer(e).context(doing.to_string())
}

/// What the token answered to a call that failed.
fn token_answer(e: CkError) -> anyhow::Error {
    match e {
        CkError::Pkcs11(rv, _) => anyhow!("the token answered {}", rv_text(rv)),
        other => anyhow!("{other}"),
    }
}

fn rv_text(rv: RvError) -> String {
    let name = match rv {
        RvError::PinIncorrect => "CKR_PIN_INCORRECT (wrong PIN)",
        RvError::PinLocked => "CKR_PIN_LOCKED (the PIN is locked)",
        RvError::MechanismInvalid => "CKR_MECHANISM_INVALID (the token cannot do this)",
        RvError::KeyTypeInconsistent => "CKR_KEY_TYPE_INCONSISTENT",
        RvError::KeyFunctionNotPermitted => "CKR_KEY_FUNCTION_NOT_PERMITTED (the key may not sign)",
        RvError::TokenNotPresent => "CKR_TOKEN_NOT_PRESENT",
        RvError::TokenWriteProtected => "CKR_TOKEN_WRITE_PROTECTED",
        RvError::UserNotLoggedIn => "CKR_USER_NOT_LOGGED_IN",
        other => return format!("{other:?}"),
    };
    name.into()
}

/// Loads and initialises the module for `uri`.
fn module(uri: &Pkcs11Uri, access: &Access) -> Result<(Pkcs11, PathBuf)> {
    let path = match (&uri.module_path, &access.module, &uri.module_name) {
        (Some(p), ..) => PathBuf::from(p),
        (None, Some(p), _) => p.clone(),
        (None, None, Some(name)) => {
            if name.contains('/') {
                bail!("the PKCS#11 URI's module-name '{name}' is a path: give it as module-path");
            }
            Path::new(P11_KIT_MODULES).join(format!("{name}.so"))
        }
        (None, None, None) => bail!(
            "no PKCS#11 module for {uri}: name the token vendor's library with module-path in the URI \
             (?module-path=/usr/lib/softhsm/libsofthsm2.so), --pkcs11-module or {MODULE_ENV}"
        ),
    };
    if !path.exists() {
        bail!("the PKCS#11 module {} does not exist", quote(&path));
    }
    check_module(&path)?;
    let ctx =
        Pkcs11::new(&path).map_err(|e| anyhow!("cannot load {} as a PKCS#11 module: {e}", quote(&path)))?;
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => return Err(token_error(&format!("initialising the PKCS#11 module {}", quote(&path)), e)),
    }
    Ok((ctx, path))
}

/// A module is code bootsign runs, holding the PIN: only an absolute path, to a file no
/// one but its owner (root or this user) can change, as sshd's StrictModes asks of keys.
fn check_module(path: &Path) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    if !path.is_absolute() {
        bail!(
            "the PKCS#11 module {} is not an absolute path; give the full path of the library",
            quote(path)
        );
    }
    let meta = std::fs::metadata(path).with_context(|| format!("cannot read {}", quote(path)))?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.mode() & 0o022 != 0 || (meta.uid() != 0 && meta.uid() != me) {
        bail!(
            "the PKCS#11 module {} could be changed by others (owner {}, mode {:o}); bootsign loads only a module \
             owned by root or by you and writable by its owner alone",
            quote(path),
            meta.uid(),
            meta.mode() & 0o7777
        );
    }
    Ok(())
}

/// Whether a URI attribute (absent: anything) matches a token's padded text field.
fn field_matches(want: &Option<String>, have: &str) -> bool {
    want.as_deref().is_none_or(|w| w == have.trim_end())
}

/// The one slot whose token the URI names.
fn slot(ctx: &Pkcs11, uri: &Pkcs11Uri, module: &Path) -> Result<Slot> {
    if uri.library_manufacturer.is_some()
        || uri.library_description.is_some()
        || uri.library_version.is_some()
    {
        let info = ctx.get_library_info().map_err(|e| token_error("reading the module's information", e))?;
        let version = info.library_version();
        let version_ok = uri.library_version.as_deref().is_none_or(|v| match v.split_once('.') {
            Some((major, minor)) => {
                major.parse() == Ok(version.major()) && minor.parse() == Ok(version.minor())
            }
            None => v.parse() == Ok(version.major()),
        });
        if !(field_matches(&uri.library_manufacturer, info.manufacturer_id())
            && field_matches(&uri.library_description, info.library_description())
            && version_ok)
        {
            bail!(
                "the PKCS#11 module {} is not the library {uri} names (it is '{}' by '{}', version {}.{})",
                quote(module),
                info.library_description().trim_end(),
                info.manufacturer_id().trim_end(),
                version.major(),
                version.minor()
            );
        }
    }
    let slots = ctx.get_slots_with_token().map_err(|e| token_error("listing the module's tokens", e))?;
    let mut found = Vec::new();
    let mut seen = Vec::new();
    for slot in slots {
        let Ok(info) = ctx.get_token_info(slot) else { continue };
        if !info.token_initialized() {
            continue;
        }
        seen.push(format!(
            "'{}' (slot {}, serial {})",
            info.label().trim_end(),
            slot.id(),
            info.serial_number().trim_end()
        ));
        let slot_ok = uri.slot_id.is_none_or(|id| id == slot.id())
            && (uri.slot_description.is_none() && uri.slot_manufacturer.is_none()
                || ctx.get_slot_info(slot).is_ok_and(|s| {
                    field_matches(&uri.slot_description, s.slot_description())
                        && field_matches(&uri.slot_manufacturer, s.manufacturer_id())
                }));
        if slot_ok
            && field_matches(&uri.token, info.label())
            && field_matches(&uri.manufacturer, info.manufacturer_id())
            && field_matches(&uri.serial, info.serial_number())
            && field_matches(&uri.model, info.model())
        {
            found.push(slot);
        }
    }
    match found.len() {
        1 => Ok(found[0]),
        0 if seen.is_empty() => bail!("the PKCS#11 module {} has no initialised token", quote(module)),
        0 => bail!(
            "no token matches {uri} in the PKCS#11 module {}; it has {}",
            quote(module),
            seen.join(", ")
        ),
        n => bail!(
            "{n} tokens match {uri} in the PKCS#11 module {}; name one with token= or serial= ({})",
            quote(module),
            seen.join(", ")
        ),
    }
}

/// The file a `pin-source` names (a path, or a `file:` URI).
fn pin_source_path(source: &str) -> &Path {
    Path::new(source.strip_prefix("file:").unwrap_or(source))
}

/// Makes a relative `pin-source` of `uri` relative to `dir` instead of to wherever
/// bootsign runs.
pub(crate) fn anchor_pin_source(uri: &mut Pkcs11Uri, dir: &Path) {
    if let Some(source) = &uri.pin_source {
        let file = pin_source_path(source);
        if file.is_relative() {
            uri.pin_source = Some(dir.join(file).display().to_string());
        }
    }
}

/// The user PIN: the URI's, its `pin-source` file's first line, `--pin-file`'s, the
/// `--passphrase-file`'s (unless that file unlocked a key file in this command), or the
/// terminal's.
fn pin(uri: &Pkcs11Uri, access: &Access, token: &str) -> Result<Zeroizing<String>> {
    if let Some(p) = &uri.pin_value {
        return Ok(Zeroizing::new(p.expose().to_string()));
    }
    let file = match (&uri.pin_source, &access.pin_file, &access.passphrase_file) {
        (Some(source), ..) => Some(pin_source_path(source).to_path_buf()),
        (None, Some(f), _) => Some(f.clone()),
        (None, None, Some(f)) => {
            if crate::passphrase::file_use() == crate::passphrase::FileUse::Passphrase {
                bail!(
                    "the token '{token}' needs its user PIN, and --passphrase-file already gave the passphrase of \
                     a key file in this command: give the PIN with --pin-file FILE or pin-source=FILE in the URI"
                );
            }
            crate::passphrase::set_file_use(crate::passphrase::FileUse::Pin);
            Some(f.clone())
        }
        (None, None, None) => None,
    };
    if let Some(file) = file {
        let line = crate::passphrase::read_first_line(&file, "the PIN file", 4096)?;
        return Ok(Zeroizing::new(line.trim_end_matches('\r').to_string()));
    }
    if !std::io::stdin().is_terminal() {
        bail!(
            "the token '{token}' needs its user PIN: give pin-source=FILE in the URI or --pin-file FILE \
             (there is no terminal to ask on)"
        );
    }
    let pin = rpassword::prompt_password(format!("PIN for token '{token}': "))
        .context("failed to read the PIN from the terminal")?;
    Ok(Zeroizing::new(pin))
}

/// A logged-in session, and the mechanisms its token lists.
struct Opened {
    session: Session,
    mechanisms: Option<Vec<MechanismType>>,
}

/// Opens a session on the URI's token (read-write to make keys) and logs in, once: a
/// token this process already logged in to (sessions share the login) is not asked
/// again, and a wrong PIN is never retried.
fn session(uri: &Pkcs11Uri, access: &Access, write: bool) -> Result<Opened> {
    let (ctx, module) = module(uri, access)?;
    let slot = slot(&ctx, uri, &module)?;
    let info = ctx.get_token_info(slot).map_err(|e| token_error("reading the token's information", e))?;
    let label = info.label().trim_end().to_string();
    if info.user_pin_locked() {
        bail!(
            "the user PIN of token '{label}' is locked (too many wrong PINs); its security officer must reset it"
        );
    }
    let session = if write { ctx.open_rw_session(slot) } else { ctx.open_ro_session(slot) }
        .map_err(|e| token_error(&format!("opening a session on token '{label}'"), e))?;
    let logged_in = session
        .get_session_info()
        .is_ok_and(|s| matches!(s.session_state(), SessionState::RoUser | SessionState::RwUser));
    if info.login_required() && !logged_in {
        let pin = pin(uri, access, &label)?;
        match session.login(UserType::User, Some(&AuthPin::from(pin.as_str()))) {
            Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
            Err(CkError::Pkcs11(RvError::PinIncorrect, _)) => {
                // What the token says now, after this failure.
                let info = ctx.get_token_info(slot).unwrap_or(info);
                let left = if info.user_pin_locked() {
                    " (the token has now locked the PIN)"
                } else if info.user_pin_final_try() {
                    " (the token says one more wrong PIN locks it)"
                } else if info.user_pin_count_low() {
                    " (the token says few tries are left)"
                } else {
                    ""
                };
                bail!("wrong PIN for token '{label}'{left}; bootsign tried it once and does not retry");
            }
            Err(CkError::Pkcs11(RvError::PinLocked, _)) => {
                bail!("the user PIN of token '{label}' is locked (too many wrong PINs)")
            }
            Err(e) => return Err(token_error(&format!("logging in to token '{label}'"), e)),
        }
    }
    Ok(Opened { session, mechanisms: ctx.get_mechanism_list(slot).ok() })
}

/// `uri` as it may be recorded and shown: without its PIN, and with a relative
/// `pin-source` made absolute (a record is read from wherever bootsign runs next).
fn recordable(uri: &Pkcs11Uri) -> Pkcs11Uri {
    let mut uri = Pkcs11Uri { pin_value: None, ..uri.clone() };
    if let Ok(here) = std::env::current_dir() {
        anchor_pin_source(&mut uri, &here);
    }
    uri
}

/// The ID and label the URI gives an object, as attributes.
fn naming(uri: &Pkcs11Uri) -> Vec<Attribute> {
    let id = uri.id.clone().map(Attribute::Id);
    let label = uri.object.as_ref().map(|l| Attribute::Label(l.as_bytes().to_vec()));
    id.into_iter().chain(label).collect()
}

/// The private key the URI names, if the token holds one; more than one is an error.
fn find_private(opened: &Opened, uri: &Pkcs11Uri) -> Result<Option<ObjectHandle>> {
    let mut template = vec![Attribute::Class(ObjectClass::PRIVATE_KEY)];
    template.extend(naming(uri));
    let found =
        opened.session.find_objects(&template).map_err(|e| token_error(&format!("looking for {uri}"), e))?;
    match found.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(*one)),
        more => bail!("{} private keys match {uri}; name one by id=", more.len()),
    }
}

fn names_a_key(uri: &Pkcs11Uri) -> Result<()> {
    if uri.id.is_none() && uri.object.is_none() {
        bail!("{uri} names no key: add object=LABEL or id=%HEX (RFC 7512)");
    }
    match uri.object_type {
        None | Some(ObjectType::Private) => Ok(()),
        Some(t) => bail!("{uri} names a {} object; a signing key is type=private", t.name()),
    }
}

fn attribute_bytes(session: &Session, object: ObjectHandle, kind: AttributeType) -> Option<Vec<u8>> {
    let attrs = session.get_attributes(object, &[kind]).ok()?;
    attrs.into_iter().find_map(|a| match a {
        Attribute::Modulus(v)
        | Attribute::PublicExponent(v)
        | Attribute::EcParams(v)
        | Attribute::EcPoint(v) => Some(v),
        Attribute::Value(v) | Attribute::Id(v) | Attribute::Label(v) => Some(v),
        _ => None,
    })
}

/// The public half of `private`, proven: every candidate the token offers (for RSA the
/// private key's own modulus and exponent; the public keys and certificates with its ID
/// and label) is tried, and only one the private key signs a fresh challenge for is
/// taken. Public objects need no login to be created, so a planted public key or
/// certificate beside the key must not decide what a certificate is issued for.
fn public_key(session: &Session, private: ObjectHandle, kind: KeyType, uri: &Pkcs11Uri) -> Result<Vec<u8>> {
    let id = attribute_bytes(session, private, AttributeType::Id).filter(|v| !v.is_empty());
    let label = attribute_bytes(session, private, AttributeType::Label).filter(|v| !v.is_empty());
    let mut candidates: Vec<Vec<u8>> = Vec::new();
    if let Some(spki) = spki_of(session, private, kind)? {
        candidates.push(spki);
    }
    for class in [ObjectClass::PUBLIC_KEY, ObjectClass::CERTIFICATE] {
        let mut searches = Vec::new();
        if let Some(id) = &id {
            searches.push(vec![Attribute::Class(class), Attribute::Id(id.clone())]);
        }
        if let Some(label) = &label {
            searches.push(vec![Attribute::Class(class), Attribute::Label(label.clone())]);
        }
        for search in searches {
            let Ok(found) = session.find_objects(&search) else { continue };
            for object in found {
                let spki = if class == ObjectClass::CERTIFICATE {
                    attribute_bytes(session, object, AttributeType::Value)
                        .and_then(|der| x509_cert::Certificate::from_der(&der).ok())
                        .and_then(|c| c.tbs_certificate().subject_public_key_info().to_der().ok())
                } else {
                    spki_of(session, object, kind).ok().flatten()
                };
                if let Some(spki) = spki
                    && !candidates.contains(&spki)
                {
                    candidates.push(spki);
                }
            }
        }
    }
    if candidates.is_empty() {
        bail!(
            "the token holds no public key or certificate beside {uri} (with its ID or label), so bootsign cannot \
             tell its public half; import the public key or the certificate with the same ID"
        );
    }
    for spki in &candidates {
        if proves(session, private, spki)? {
            return Ok(spki.clone());
        }
    }
    bail!(
        "none of the {} public key(s) and certificate(s) beside {uri} in the token belongs to it (the key does not \
         sign for any of them); remove the stray objects with its ID or label",
        candidates.len()
    )
}

/// Signs a `hash` digest with the token key `private` of `algorithm`: PKCS#1 v1.5 over
/// the DigestInfo for RSA, ECDSA (r || s from the token, DER here) for EC.
fn token_sign(
    session: &Session,
    private: ObjectHandle,
    algorithm: Algorithm,
    hash: Hash,
    digest: &[u8],
) -> Result<Vec<u8>> {
    match algorithm {
        Algorithm::Rsa { .. } => {
            let mut info = hash.digest_info_prefix().to_vec();
            info.extend_from_slice(digest);
            session.sign(&Mechanism::RsaPkcs, private, &info).map_err(token_answer)
        }
        Algorithm::P256 | Algorithm::P384 => {
            let raw = session.sign(&Mechanism::Ecdsa, private, digest).map_err(token_answer)?;
            // PKCS#11 gives r || s; X.509 and CMS take the DER Ecdsa-Sig-Value.
            let der = match algorithm {
                Algorithm::P256 => {
                    p256::ecdsa::Signature::from_slice(&raw).map(|s| s.to_der().as_bytes().to_vec())
                }
                _ => p384::ecdsa::Signature::from_slice(&raw).map(|s| s.to_der().as_bytes().to_vec()),
            };
            der.map_err(|_| anyhow!("the token's ECDSA signature is {} bytes, not r || s", raw.len()))
        }
    }
}

/// Whether `private` signs a fresh random challenge that `spki` verifies.
fn proves(session: &Session, private: ObjectHandle, spki: &[u8]) -> Result<bool> {
    let (Some(algorithm), Ok(public)) =
        (Algorithm::of_spki(spki), bootsign_pki::PublicKey::from_spki_der(spki))
    else {
        return Ok(false);
    };
    let mut challenge = [0u8; 32];
    crate::keys::random_bytes(&mut challenge)?;
    let hash = algorithm.hash();
    let Ok(signature) = token_sign(session, private, algorithm, hash, &hash.digest(&challenge)) else {
        return Ok(false);
    };
    let id = algorithm.signature_algorithm().to_der().context("encoding an algorithm identifier")?;
    let Ok(id) = bootsign_pki::SignatureAlgorithm::from_der(&id) else { return Ok(false) };
    Ok(public.verify(id, &challenge, &signature).is_ok())
}

/// A key object's public half as a SubjectPublicKeyInfo, where its attributes hold it.
fn spki_of(session: &Session, object: ObjectHandle, kind: KeyType) -> Result<Option<Vec<u8>>> {
    if kind == KeyType::RSA {
        let (Some(n), Some(e)) = (
            attribute_bytes(session, object, AttributeType::Modulus),
            attribute_bytes(session, object, AttributeType::PublicExponent),
        ) else {
            return Ok(None);
        };
        let key = rsa::PublicKey::new(
            rsa::BoxedUint::from_be_slice_vartime(&n),
            rsa::BoxedUint::from_be_slice_vartime(&e),
        )
        .map_err(|err| anyhow!("the token's RSA public key is unusable: {err}"))?;
        return Ok(Some(key.to_public_key_der().context("failed to encode the public key")?.into_vec()));
    }
    let (Some(params), Some(point)) = (
        attribute_bytes(session, object, AttributeType::EcParams),
        attribute_bytes(session, object, AttributeType::EcPoint),
    ) else {
        return Ok(None);
    };
    // CKA_EC_POINT is the DER OCTET STRING of the point (PKCS#11 2.40); some modules give
    // the bare point.
    let point = der::asn1::OctetString::from_der(&point).map(|o| o.into_bytes().into_vec()).unwrap_or(point);
    let spki = match curve(&params)? {
        Algorithm::P256 => p256::PublicKey::from_sec1_bytes(&point)
            .map_err(|_| anyhow!("the token's P-256 public point is invalid"))?
            .to_public_key_der(),
        _ => p384::PublicKey::from_sec1_bytes(&point)
            .map_err(|_| anyhow!("the token's P-384 public point is invalid"))?
            .to_public_key_der(),
    }
    .context("failed to encode the public key")?;
    Ok(Some(spki.into_vec()))
}

/// The curve CKA_EC_PARAMS names (a DER OID).
fn curve(params: &[u8]) -> Result<Algorithm> {
    let oid = const_oid::ObjectIdentifier::from_der(params)
        .map_err(|_| anyhow!("the token's EC key has parameters that are not a named curve"))?;
    match oid {
        const_oid::db::rfc5912::SECP_256_R_1 => Ok(Algorithm::P256),
        const_oid::db::rfc5912::SECP_384_R_1 => Ok(Algorithm::P384),
        other => bail!(
            "the token's EC key is on {}, not P-256 or P-384",
            bootsign_pki::signature::oid_name(&other)
        ),
    }
}

/// What a private key in the token is: its algorithm and public half, checked to be one
/// bootsign signs with and the token to have the mechanism for it.
fn examine(opened: &Opened, key: ObjectHandle, uri: &Pkcs11Uri) -> Result<(Algorithm, Vec<u8>)> {
    let session = &opened.session;
    let kind = session
        .get_attributes(key, &[AttributeType::KeyType])
        .map_err(|e| token_error("reading the key's type", e))?
        .into_iter()
        .find_map(|a| if let Attribute::KeyType(k) = a { Some(k) } else { None })
        .ok_or_else(|| anyhow!("the token does not say what type of key {uri} is"))?;
    if kind != KeyType::RSA && kind != KeyType::EC {
        bail!("{uri} is a {kind} key; bootsign signs with RSA and EC (P-256, P-384) keys");
    }
    let needed = if kind == KeyType::RSA { MechanismType::RSA_PKCS } else { MechanismType::ECDSA };
    if let Some(list) = &opened.mechanisms
        && !list.contains(&needed)
    {
        bail!("the token cannot sign with {uri}: it lacks the {needed} mechanism bootsign signs with");
    }
    let spki = public_key(session, key, kind, uri)?;
    let algorithm = Algorithm::of_spki(&spki)
        .ok_or_else(|| anyhow!("the public half of {uri} is no RSA, P-256 or P-384 key"))?;
    Ok((algorithm, spki))
}

impl TokenKey {
    /// The key `uri` names, logged in to its token.
    pub fn open(uri: &Pkcs11Uri, access: &Access) -> Result<Self> {
        names_a_key(uri)?;
        let opened = session(uri, access, false)?;
        let Some(key) = find_private(&opened, uri)? else {
            bail!(
                "the token has no private key {uri} (searched by its ID and label; is the PIN right for the token that holds it?)"
            );
        };
        Self::from_handle(opened, key, uri)
    }

    fn from_handle(opened: Opened, key: ObjectHandle, uri: &Pkcs11Uri) -> Result<Self> {
        let (algorithm, spki) = examine(&opened, key, uri)?;
        Ok(Self { session: opened.session, key, algorithm, spki, uri: recordable(uri), made_public: None })
    }

    /// The key `uri` names if the token holds it, else a new key pair of `kind` made
    /// there, labelled and identified as the URI says: the private half sensitive and
    /// never extractable ([`TokenKey::was_made`] says which).
    pub fn open_or_generate(uri: &Pkcs11Uri, access: &Access, kind: NewKeyType) -> Result<Self> {
        names_a_key(uri)?;
        let opened = session(uri, access, true)?;
        if let Some(key) = find_private(&opened, uri)? {
            return Self::from_handle(opened, key, uri);
        }
        if uri.object.is_none() || uri.id.is_none() {
            bail!(
                "the token has no private key {uri}; to make one there, name it by both object=LABEL and \
                 id=%HEX, as the tools that find it later expect"
            );
        }
        Self::generate(opened, uri, kind)
    }

    /// Makes a key pair of `kind` on the opened token, labelled and identified as `uri`
    /// says.
    fn generate(opened: Opened, uri: &Pkcs11Uri, kind: NewKeyType) -> Result<Self> {
        let session = &opened.session;
        // Another object with this ID or label (a key under another label, a stray
        // certificate) would make the new key's public half ambiguous.
        let mut taken = Vec::new();
        if let Some(id) = &uri.id {
            taken.extend(session.find_objects(&[Attribute::Id(id.clone())]).unwrap_or_default());
        }
        if let Some(label) = &uri.object {
            taken.extend(
                session.find_objects(&[Attribute::Label(label.as_bytes().to_vec())]).unwrap_or_default(),
            );
        }
        if !taken.is_empty() {
            bail!(
                "the token already holds an object with the ID or label of {uri} (but no private key named by both); \
                 choose an ID and label of its own for the new key"
            );
        }
        let ids = naming(uri);
        let (mechanism, mut public) = match kind.algorithm() {
            Algorithm::Rsa { bits } => (
                Mechanism::RsaPkcsKeyPairGen,
                vec![Attribute::ModulusBits((bits as u64).into()), Attribute::PublicExponent(vec![1, 0, 1])],
            ),
            curve => {
                let oid = if curve == Algorithm::P256 {
                    const_oid::db::rfc5912::SECP_256_R_1
                } else {
                    const_oid::db::rfc5912::SECP_384_R_1
                };
                (Mechanism::EccKeyPairGen, vec![Attribute::EcParams(oid.to_der().context("curve OID")?)])
            }
        };
        // A signing key and nothing else: no decryption or unwrapping with it (an RSA CA
        // key that decrypts is a private-key oracle), no derivation.
        public.extend([
            Attribute::Token(true),
            Attribute::Private(false),
            Attribute::Verify(true),
            Attribute::Encrypt(false),
            Attribute::Wrap(false),
        ]);
        public.extend(ids.iter().cloned());
        let mut private = vec![
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Sign(true),
            Attribute::SignRecover(false),
            Attribute::Decrypt(false),
            Attribute::Unwrap(false),
            Attribute::Derive(false),
        ];
        private.extend(ids);
        let (public, key) = session.generate_key_pair(&mechanism, &public, &private).map_err(|e| {
            token_error(
                &format!("generating an {} key pair in the token {uri}", kind.algorithm().describe()),
                e,
            )
        })?;
        // A key pair the token made but bootsign cannot use is not left behind.
        let (algorithm, spki) = examine(&opened, key, uri).inspect_err(|_| {
            let _ = opened.session.destroy_object(key);
            let _ = opened.session.destroy_object(public);
        })?;
        Ok(Self {
            session: opened.session,
            key,
            algorithm,
            spki,
            uri: recordable(uri),
            made_public: Some(public),
        })
    }

    /// Takes a key pair this run made out of the token again, when what it was made for
    /// failed (nothing half-made is left); a key that was there already stays.
    pub fn discard_if_made(&self) {
        if let Some(public) = self.made_public {
            let _ = self.session.destroy_object(self.key);
            let _ = self.session.destroy_object(public);
        }
    }

    /// The key's URI, without the PIN: what the CA directory records.
    pub fn uri(&self) -> &Pkcs11Uri {
        &self.uri
    }

    /// Whether this run made the key pair (rather than finding it in the token).
    pub fn was_made(&self) -> bool {
        self.made_public.is_some()
    }

    /// What a `.key.uri` record of it holds: the URI and a line end.
    pub fn record(&self) -> Vec<u8> {
        format!("{}\n", self.uri).into_bytes()
    }

    /// The line that says which key a command uses: made now, or found in the token.
    pub fn provenance(&self) -> String {
        let how = if self.was_made() { "Made an" } else { "Using the token's" };
        format!("{how} {} key {}", self.describe(), self.uri)
    }
}

impl Signer for TokenKey {
    fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    fn spki_der(&self) -> Result<Vec<u8>> {
        Ok(self.spki.clone())
    }

    fn sign_digest(&self, hash: Hash, digest: &[u8]) -> Result<Vec<u8>> {
        let expected = match hash {
            Hash::Sha256 => 32,
            Hash::Sha384 => 48,
        };
        if digest.len() != expected {
            bail!("signing with {}: a {}-byte digest for a {expected}-byte hash", self.uri, digest.len());
        }
        token_sign(&self.session, self.key, self.algorithm, hash, digest)
            .with_context(|| format!("signing with {}", self.uri))
    }
}
