//! `bootsign issue`: a server, client or code-signing certificate from the CA, with a new
//! key or for a CSR.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use bootsign_pki::text::escape;
use clap::{ArgGroup, Args as ClapArgs};
use der::Encode;

use super::{Ctx, Globals};
use crate::fsx::{FileSet, MODE_PUBLIC, MODE_SECRET, Overwrite, quote, refuse_existing};
use crate::keys::{KeyType, PrivateKey, Signer, parse_uri_arg};
use crate::pkcs11::TokenKey;
use crate::timefmt;
use crate::x509::build::{CertSpec, key_identifier, validity_days};
use crate::x509::cert::Cert;
use crate::x509::csr::Csr;
use crate::x509::name;
use crate::x509::profile::{self, LeafKind};
use crate::x509::san::San;
use bootsign_pkcs11_uri::Pkcs11Uri;

const EXAMPLES: &str = "\
Examples:
  bootsign issue --server --cn boot.example.lan --san 10.0.2.2 --chain
      server.crt, server.key and server-full.crt (certificate + ca.crt),
      for an HTTPS server
  bootsign issue --codesigning
      codesign.crt and codesign.key, for 'bootsign sign'
  bootsign issue --client --cn rack7-node12 -o node12
      node12.crt and node12.key, a TLS client certificate for the firmware
  bootsign issue --server --csr web.req -o web
      web.crt for a key made elsewhere (the request's names are kept)";

/// `issue` options.
#[derive(ClapArgs)]
#[command(after_help = EXAMPLES)]
#[command(group(ArgGroup::new("kind").required(true).args(["server", "client", "codesigning"])))]
pub struct Args {
    /// A TLS server certificate (serverAuth; default files server.crt, server.key).
    #[arg(long)]
    pub server: bool,
    /// A TLS client certificate (clientAuth; default files client.crt, client.key).
    #[arg(long)]
    pub client: bool,
    /// A code-signing certificate (codeSigning; default files codesign.crt, codesign.key).
    #[arg(long)]
    pub codesigning: bool,
    /// Common name. A server's CN is also put in its subjectAltName.
    #[arg(long, value_name = "NAME")]
    pub cn: Option<String>,
    /// Subject alternative names: host names and IP addresses, comma-separated.
    #[arg(long, value_name = "NAME|IP,...")]
    pub san: Vec<String>,
    /// Validity in days [default: 825 for server and client, 1825 for code signing].
    /// The firmware checks validity at boot: once the signer expires, its signatures
    /// stop verifying.
    #[arg(long, value_name = "N")]
    pub days: Option<u32>,
    /// Key algorithm of the new key.
    #[arg(long, value_enum, default_value = "rsa2048", conflicts_with = "csr")]
    pub key: KeyType,
    /// Certify the key in this PKCS#10 request instead of making a new key.
    #[arg(long, value_name = "FILE")]
    pub csr: Option<PathBuf>,
    /// Certify a key in a PKCS#11 token: the key this RFC 7512 URI names, or, when the
    /// token has none, a new --key one made there (never extractable; name it by object=
    /// and id=). BASE.key.uri records the URI (without a PIN) instead of BASE.key.
    #[arg(long, value_name = "PKCS11-URI", conflicts_with = "csr", value_parser = parse_uri_arg)]
    pub key_in: Option<Box<Pkcs11Uri>>,
    /// Also write BASE-full.crt: the certificate followed by ca.crt.
    #[arg(long)]
    pub chain: bool,
    /// Output base name: writes BASE.crt and BASE.key [default: server, client or
    /// codesign in the CA directory].
    #[arg(short = 'o', long = "out", value_name = "BASE")]
    pub out: Option<PathBuf>,
    /// Replace existing output files.
    #[arg(long)]
    pub force: bool,
}

impl Args {
    fn kind(&self) -> LeafKind {
        if self.server {
            LeafKind::Server
        } else if self.client {
            LeafKind::Client
        } else {
            LeafKind::CodeSigning
        }
    }
}

/// The subject and key of the certificate to be: a fresh key, or a verified request.
enum Subject {
    NewKey(PrivateKey),
    Request(Box<Csr>),
    /// A key in a token (found there or made there now).
    Token(Box<TokenKey>),
    /// A key in a token, to be opened or made once everything else is checked.
    TokenToBe,
}

/// Runs `issue`.
pub fn run(ctx: &mut Ctx<'_>, g: &Globals, args: Args) -> Result<()> {
    g.ca.require()?;
    let kind = args.kind();
    // Without -o the files go into the CA directory under the recipe's names, where
    // `bootsign sign` looks for codesign.crt and codesign.key.
    let default_name = match kind {
        LeafKind::Server => "server",
        LeafKind::Client => "client",
        LeafKind::CodeSigning => "codesign",
    };
    let base = match &args.out {
        None => g.ca.path(default_name),
        // `-o dir/` (or an existing directory): the default names, in that directory.
        Some(out) if out.as_os_str().to_string_lossy().ends_with('/') || out.is_dir() => {
            out.join(default_name)
        }
        Some(out) => out.clone(),
    };
    let with_ext = |ext: &str| crate::fsx::with_suffix(&base, ext);
    let cert_path = with_ext(".crt");
    let key_path = with_ext(".key");
    let uri_path = with_ext(".key.uri");
    let chain_path = with_ext("-full.crt");

    // Everything that can be refused is refused before a key is generated.
    let mut sans = San::parse_list(&args.san)?;
    let days = args.days.unwrap_or(match kind {
        LeafKind::CodeSigning => 1825,
        _ => 825,
    });
    let (not_before, not_after) = validity_days(ctx.now(), days)?;
    refuse_existing(&cert_path, args.force)?;
    if args.csr.is_none() {
        refuse_existing(&key_path, args.force)?;
        refuse_existing(&uri_path, args.force)?;
    }
    if args.chain {
        refuse_existing(&chain_path, args.force)?;
    }
    let issuer = g.ca.issuer(&g.pass, &g.pkcs11, ctx.err)?;

    let subject = match &args.csr {
        Some(path) => {
            let csr = Csr::read(path)?;
            if matches!(csr.key, bootsign_pki::PublicKey::Rsa(_))
                && csr.key.bits() < bootsign_pki::path::MIN_RSA_BITS
            {
                bail!(
                    "{} requests a certificate for a {}-bit RSA key; keys under {} bits are refused (the firmware \
                     would refuse the certificate too)",
                    quote(path),
                    csr.key.bits(),
                    bootsign_pki::path::MIN_RSA_BITS
                );
            }
            for name in &csr.ignored_names {
                writeln!(
                    ctx.err,
                    "warning: {} requests {}; only DNS names and IP addresses are issued",
                    quote(path),
                    escape(name)
                )?;
            }
            for san in &csr.sans {
                if !sans.contains(san) {
                    sans.push(san.clone());
                }
            }
            San::check_count(sans.len(), "the request with --san")?;
            Subject::Request(Box::new(csr))
        }
        // A token key is found or made once the names are checked (below).
        None if args.key_in.is_some() => Subject::TokenToBe,
        None => Subject::NewKey(PrivateKey::generate(args.key)?),
    };

    let (subject_der, cn) = match (&args.cn, &subject) {
        (Some(cn), _) => (name::common_name(cn)?.to_der()?, cn.clone()),
        (None, Subject::Request(csr)) => {
            let parsed = csr.parsed.info.subject.clone();
            let cn = name::cn(&parsed).unwrap_or_else(|| name::oneline(&parsed));
            (csr.subject.clone(), cn)
        }
        (None, Subject::NewKey(_) | Subject::Token(_) | Subject::TokenToBe) => {
            let cn = match kind {
                LeafKind::Server => match sans.first() {
                    Some(San::Dns(d)) => d.clone(),
                    Some(San::Ip(ip)) => ip.to_string(),
                    None => bail!("a server certificate needs a name: give --cn HOST or --san HOST,IP,..."),
                },
                LeafKind::Client => "bootsign client".into(),
                LeafKind::CodeSigning => "bootsign code signing".into(),
            };
            (name::common_name(&cn)?.to_der()?, cn)
        }
    };
    if kind == LeafKind::Server {
        match San::parse(&cn) {
            Ok(as_san) => {
                if !sans.contains(&as_san) {
                    sans.insert(0, as_san);
                }
            }
            Err(e) if args.cn.is_some() => {
                return Err(e).context(format!(
                    "a server's CN is also its subjectAltName, so --cn '{}' must be a host name or IP address",
                    escape(&cn)
                ));
            }
            Err(_) if sans.is_empty() => bail!(
                "the request's CN '{}' is not a host name or IP address and it asks for no other names: \
                 give --cn HOST or --san HOST,IP,...",
                escape(&cn)
            ),
            Err(_) => {}
        }
    }

    let subject = match (subject, &args.key_in) {
        (Subject::TokenToBe, Some(uri)) => {
            let key = TokenKey::open_or_generate(uri, &g.pkcs11, args.key)?;
            if key.was_made() {
                writeln!(ctx.err, "{}", key.provenance())?;
            }
            Subject::Token(Box::new(key))
        }
        (subject, _) => subject,
    };
    let (spki, rsa_key, key_desc) = match &subject {
        Subject::NewKey(key) => (key.spki_der()?, key.is_rsa(), key.describe()),
        Subject::Token(key) => (key.spki_der()?, key.is_rsa(), format!("{}, in a token", key.describe())),
        Subject::TokenToBe => unreachable!("the token key was opened above"),
        Subject::Request(csr) => {
            (csr.spki.clone(), matches!(csr.key, bootsign_pki::PublicKey::Rsa(_)), csr.key.describe())
        }
    };
    let ski = key_identifier(&spki)?;
    let empty_subject = subject_der == [0x30, 0x00];
    if empty_subject && sans.is_empty() {
        bail!("the request has an empty subject and asks for no names: give --san HOST,IP,...");
    }
    let extensions = profile::leaf(kind, rsa_key, &sans, &ski, &issuer.key_id, empty_subject)?;
    let ca_pem = issuer.cert.to_pem();
    let ca_not_after = issuer.cert.not_after();
    let issuer_subject = issuer.cert.fields().subject.to_vec();

    let issued = g.ca.issue_with(ctx.err, |serial| {
        let der = CertSpec {
            serial: serial.bytes(),
            issuer: &issuer_subject,
            subject: &subject_der,
            spki: &spki,
            not_before,
            not_after,
            extensions,
        }
        .sign(&issuer.key)?;
        let cert = Cert::from_der(der).context("internal error: the new certificate does not decode")?;
        let overwrite = if args.force { Overwrite::Replace } else { Overwrite::Never };
        let mut files = FileSet::default();
        match &subject {
            Subject::NewKey(key) => {
                files.add(&key_path, key.to_pem(None)?.as_bytes().to_vec(), MODE_SECRET, overwrite)
            }
            Subject::Token(key) => files.add(&uri_path, key.record(), MODE_PUBLIC, overwrite),
            Subject::Request(_) | Subject::TokenToBe => {}
        }
        files.add(&cert_path, cert.to_pem().into_bytes(), MODE_PUBLIC, overwrite);
        if args.chain {
            files.add(&chain_path, format!("{}{ca_pem}", cert.to_pem()).into_bytes(), MODE_PUBLIC, overwrite);
        }
        Ok((cert, files))
    });
    // A key pair made in the token for a certificate that was not issued goes again.
    let (cert, serial) = issued.inspect_err(|_| {
        if let Subject::Token(key) = &subject {
            key.discard_if_made();
        }
    })?;

    writeln!(
        ctx.err,
        "Issued {} certificate serial {} for \"{}\" ({key_desc})",
        kind.name(),
        serial.hex(),
        escape(&cn)
    )?;
    if !sans.is_empty() {
        let list: Vec<String> = sans.iter().map(ToString::to_string).collect();
        writeln!(ctx.err, "  names        {}", escape(&list.join(", ")))?;
    }
    writeln!(ctx.err, "  valid until  {} ({days} days)", timefmt::date(not_after))?;
    writeln!(ctx.err, "  certificate  {}", cert_path.display())?;
    match &subject {
        Subject::NewKey(_) => writeln!(ctx.err, "  key          {} (mode 0600)", key_path.display())?,
        Subject::Token(key) => {
            writeln!(ctx.err, "  key          in the token: {} (named by {})", key.uri(), uri_path.display())?
        }
        Subject::Request(_) | Subject::TokenToBe => {}
    }
    if args.chain {
        writeln!(ctx.err, "  chain        {}", chain_path.display())?;
    }
    writeln!(ctx.err, "  SHA-256      {}", cert.fingerprint())?;
    if not_after > ca_not_after {
        writeln!(
            ctx.err,
            "warning: the certificate outlives the CA ({}); it stops verifying when the CA expires",
            timefmt::date(ca_not_after)
        )?;
    }
    Ok(())
}
