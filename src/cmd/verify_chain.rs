//! `bootsign verify-chain`: would the firmware accept this certificate and chain for this
//! purpose and name? Runs the firmware's path validation on the host.

use std::net::IpAddr;
use std::path::PathBuf;

use anyhow::{Result, anyhow, bail};
use bootsign_pki::text::escape_controls;
use bootsign_pki::{Cert, Policy, Purpose, Revocation, ServerName, verify_path};
use clap::{Args as ClapArgs, ValueEnum};

use super::Ctx;
use crate::fsx::quote;
use crate::timefmt;
use crate::trust::{CrlFile, TrustArgs, check_crl_issuers, read_crls};
use crate::x509::cert::Cert as FileCert;

/// What the certificate is checked for.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum PurposeArg {
    /// TLS server (serverAuth).
    Server,
    /// TLS client (clientAuth).
    Client,
    /// Code signing (codeSigning).
    Codesigning,
}

/// `verify-chain` options.
#[derive(ClapArgs)]
#[command(
    after_help = "Examples:\n  bootsign verify-chain server-full.crt --trust ca.crt --host boot.example.lan\n      \
                        whether the firmware would accept this server as boot.example.lan\n  \
                        bootsign verify-chain leaf.crt --untrusted intermediates.pem \\\n                        \
                        --trust ca.crt --ip 10.0.2.2\n      \
                        a chain put together from the intermediates, for an IP address\n  \
                        bootsign verify-chain server.crt --trust ca.crt --crl ca.crl\n      \
                        and refused if ca.crl revokes a certificate of the chain"
)]
pub struct Args {
    /// The certificate to check; further certificates in the file are chain material.
    #[arg(value_name = "CERT")]
    pub cert: PathBuf,
    /// More chain material (intermediates, cross-certificates), in any order.
    #[arg(long, value_name = "FILE")]
    pub untrusted: Vec<PathBuf>,
    #[command(flatten)]
    pub trust: TrustArgs,
    /// The host name the certificate must be valid for.
    #[arg(long, value_name = "NAME", conflicts_with = "ip")]
    pub host: Option<String>,
    /// The IP address the certificate must be valid for.
    #[arg(long, value_name = "ADDR")]
    pub ip: Option<IpAddr>,
    /// What the certificate is used for.
    #[arg(long, value_enum, default_value = "server")]
    pub purpose: PurposeArg,
}

/// Runs `verify-chain`.
pub fn run(ctx: &mut Ctx<'_>, args: Args) -> Result<()> {
    let anchors = args.trust.anchors()?;
    let time = args.trust.time(ctx.now())?;
    let mut given = FileCert::read_all(&args.cert)?;
    let leaf_file = given.remove(0);
    for f in &args.untrusted {
        given.extend(FileCert::read_all(f)?);
    }
    let leaf = Cert::parse(&leaf_file.der).map_err(|e| anyhow!("{}: {e}", quote(&args.cert)))?;
    let mut pool = Vec::new();
    for c in given.iter().chain(anchors.certs.iter()) {
        pool.push(Cert::parse(&c.der).map_err(|e| anyhow!("chain material: {e}"))?);
    }
    let ip_bytes: Option<Vec<u8>> = args.ip.map(|ip| match ip {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    });
    let server_name = match (&args.host, &ip_bytes) {
        (Some(h), _) => Some(ServerName::Dns(h)),
        (None, Some(ip)) => Some(ServerName::Ip(ip)),
        (None, None) => None,
    };
    let purpose = match args.purpose {
        PurposeArg::Server => Purpose::ServerAuth,
        PurposeArg::Client => Purpose::ClientAuth,
        PurposeArg::Codesigning => Purpose::CodeSigning,
    };
    if matches!(purpose, Purpose::CodeSigning) && server_name.is_some() {
        bail!("--host and --ip apply to TLS certificates, not code signing");
    }
    let crl_files = read_crls(&args.trust.crl)?;
    let known: Vec<&[u8]> = std::iter::once(leaf_file.der.as_slice())
        .chain(given.iter().chain(anchors.certs.iter()).map(|c| c.der.as_slice()))
        .collect();
    check_crl_issuers(&crl_files, &known, time, ctx.err)?;
    let crls = crl_files.iter().map(CrlFile::parse).collect::<Result<Vec<_>>>()?;
    let revocation = Revocation { crls: &crls, require_fresh: args.trust.require_fresh_crl };
    let policy = Policy { purpose, time, server_name, revocation };
    let path = verify_path(&leaf, &pool, &anchors.fingerprints, &policy)
        .map_err(|e| anyhow!("{} is not accepted for {}: {e}", quote(&args.cert), purpose.name()))?;
    writeln!(ctx.out, "{}: OK for {}", args.cert.display(), purpose.name())?;
    for (i, c) in path.chain().iter().enumerate() {
        let trusted = if i + 1 == path.chain().len() { ", trusted" } else { "" };
        writeln!(
            ctx.out,
            "  {}{}  (SHA-256 {}, until {}{trusted})",
            "  ".repeat(i),
            escape_controls(&c.subject_text),
            c.fingerprint(),
            timefmt::date(c.not_after)
        )?;
    }
    Ok(())
}
