//! The command line: one module per command, each with its `Args` and `run`.

pub mod build;
pub mod ca;
pub mod crl;
pub mod cross_sign;
pub mod fingerprint;
pub mod inspect;
pub mod issue;
pub mod list;
pub mod revoke;
pub mod script;
pub mod secureboot;
pub mod sign;
pub mod verify;
pub mod verify_chain;

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};

use crate::ca::CaDir;
use crate::clock::Clock;
use crate::passphrase;

const EXAMPLES: &str = "\
Examples:
  bootsign ca init --cn 'Example boot CA'
      a root CA here: ca.crt, ca.key, ca.idx, serial, signed/ and bootsign.toml
  bootsign issue --server --cn boot.example.lan
      server.crt and server.key, for an HTTPS boot server
  bootsign issue --codesigning
      codesign.crt and codesign.key, for signing kernels
  bootsign issue --client --cn rack7
      client.crt and client.key, a TLS client certificate for the firmware
  bootsign fingerprint ca.crt
      the SHA-256 fingerprint images trust
  bootsign list
      everything this CA has issued
  bootsign crl
      ca.crl: a CRL of everything revoked
  bootsign sign vmlinuz initrd.img
      vmlinuz.sig and initrd.img.sig (CMS, detached, DER)
  bootsign verify vmlinuz --trust ca.crt
      checks a signature as the firmware will
  bootsign build --efi --trust ca.crt --embed boot.ipxe
      bootsign.efi, no compiler needed";

/// Secure network boot: a private CA, code signing and boot images.
#[derive(Parser)]
#[command(name = "bootsign", version, after_help = EXAMPLES, max_term_width = 110)]
pub struct Cli {
    /// The CA directory (ca.crt, ca.key, ca.idx, serial, signed/).
    #[arg(long, global = true, env = "BOOTSIGN_CA_DIR", default_value = ".", value_name = "DIR")]
    pub ca_dir: PathBuf,

    /// Read the passphrase of an encrypted key (the CA key, a signing key, or the
    /// --privkey of an image; with `ca init --encrypt`, the new one), or the user PIN of
    /// a PKCS#11 token, from the first line of FILE instead of asking on the terminal.
    #[arg(long, global = true, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,

    /// Read the user PIN of a PKCS#11 token from the first line of FILE (when the key's
    /// URI has no pin-value or pin-source) instead of asking on the terminal.
    #[arg(long, global = true, env = "BOOTSIGN_PIN_FILE", value_name = "FILE")]
    pub pin_file: Option<PathBuf>,

    /// The PKCS#11 module (the token vendor's library, e.g. /usr/lib/softhsm/libsofthsm2.so)
    /// for keys given as pkcs11: URIs without a module-path.
    #[arg(long, global = true, env = "BOOTSIGN_PKCS11_MODULE", value_name = "FILE")]
    pub pkcs11_module: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Subcommand)]
pub enum Command {
    /// Manage the certificate authority itself.
    #[command(subcommand)]
    Ca(ca::CaCommand),
    /// Issue a server, client or code-signing certificate from the CA.
    Issue(issue::Args),
    /// Certify another root CA with this CA (a cross-certificate).
    CrossSign(cross_sign::Args),
    /// Print SHA-256 fingerprints of certificates.
    Fingerprint(fingerprint::Args),
    /// List the certificates this CA has issued.
    List(list::Args),
    /// Mark an issued certificate as revoked in the CA database.
    Revoke(revoke::Args),
    /// Write a certificate revocation list (CRL) of everything revoked, signed by the CA.
    Crl(crl::Args),
    /// Sign files: detached CMS signatures (FILE.sig), as openssl cms -sign makes.
    Sign(sign::Args),
    /// Verify a signature with the firmware's own verifier.
    Verify(verify::Args),
    /// Check whether the firmware would accept a certificate chain for a purpose and name.
    VerifyChain(verify_chain::Args),
    /// Build boot images from the prebuilt firmware, with trust, certificates and script.
    Build(build::Args),
    /// Show what trust, certificates, key and script an image carries.
    Inspect(inspect::Args),
    /// Boot scripts: check that the firmware can run them.
    #[command(subcommand)]
    Script(script::ScriptCommand),
    /// UEFI Secure Boot: make the platform keys (PK, KEK, db) images are signed for.
    #[command(subcommand)]
    Secureboot(secureboot::SecureBootCommand),
}

/// The world a command runs in: where its output goes and what time it is. `main` passes
/// the process's standard output, standard error and the system clock; tests pass buffers
/// and a fixed clock, and run commands in-process.
///
/// Values for scripts (fingerprints, tables, reports, data written to `-`) go to `out`;
/// what was done, warnings and errors go to `err`. A failed write fails the command.
pub struct Ctx<'a> {
    /// Standard output.
    pub out: &'a mut dyn Write,
    /// Standard error.
    pub err: &'a mut dyn Write,
    /// The time certificates and CRLs are dated by and validity is checked at.
    pub clock: &'a dyn Clock,
}

impl<'a> Ctx<'a> {
    /// A context over these streams and this clock.
    pub fn new(out: &'a mut dyn Write, err: &'a mut dyn Write, clock: &'a dyn Clock) -> Self {
        Self { out, err, clock }
    }

    /// The current time, by the context's clock.
    pub fn now(&self) -> u64 {
        self.clock.now()
    }
}

/// The global options, which every command that touches the CA gets: where the CA is and
/// how to unlock its key.
pub struct Globals {
    /// The CA directory.
    pub ca: CaDir,
    /// Where passphrases come from.
    pub pass: passphrase::Source,
    /// Where token keys' module and PIN come from besides their URIs.
    pub pkcs11: crate::pkcs11::Access,
}

impl Globals {
    /// Opens the signing key `key` (a file or a token key).
    pub fn signer(&self, key: &crate::keys::KeyRef, warn: &mut dyn Write) -> Result<crate::keys::SigningKey> {
        key.open(&self.pass, &self.pkcs11, warn)
    }
}

/// Runs the parsed command line in `ctx`.
pub fn run(cli: Cli, ctx: &mut Ctx<'_>) -> Result<()> {
    let g = Globals {
        ca: CaDir::new(cli.ca_dir),
        pkcs11: crate::pkcs11::Access {
            module: cli.pkcs11_module,
            pin_file: cli.pin_file,
            passphrase_file: cli.passphrase_file.clone(),
        },
        pass: passphrase::Source { file: cli.passphrase_file },
    };
    match cli.command {
        Command::Ca(c) => ca::run(ctx, &g, c),
        Command::Secureboot(c) => secureboot::run(ctx, &g, c),
        Command::Issue(a) => issue::run(ctx, &g, a),
        Command::CrossSign(a) => cross_sign::run(ctx, &g, a),
        Command::Fingerprint(a) => fingerprint::run(ctx, a),
        Command::List(a) => list::run(ctx, &g, a),
        Command::Revoke(a) => revoke::run(ctx, &g, a),
        Command::Crl(a) => crl::run(ctx, &g, a),
        Command::Sign(a) => sign::run(ctx, &g, a),
        Command::Verify(a) => verify::run(ctx, a),
        Command::VerifyChain(a) => verify_chain::run(ctx, a),
        Command::Build(a) => build::run(ctx, &g, a),
        Command::Inspect(a) => inspect::run(ctx, a),
        Command::Script(c) => script::run(ctx, c),
    }
}

/// The text `bootsign` prints for a failed command, without the final newline: `error: `
/// and the chain of causes, each after a colon, printed once.
pub fn error_text(e: &anyhow::Error) -> String {
    // Names from certificates and files are escaped where the message is made;
    // this catches whatever else reached the message raw, line by line.
    let message = format!("{e:#}");
    let lines: Vec<String> =
        message.split('\n').map(|l| bootsign_pki::text::escape_controls(l).to_string()).collect();
    format!("error: {}", lines.join("\n"))
}

/// `text` with every `pin-value=...` value (up to the next `&`, quote or blank) shown as
/// `***`: for messages that quote what was typed.
pub fn hide_pins(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("pin-value=") {
        let (before, after) = rest.split_at(at + "pin-value=".len());
        out.push_str(before);
        let end = after
            .find(|c: char| c == '&' || c == '\'' || c == '"' || c.is_whitespace())
            .unwrap_or(after.len());
        if end > 0 {
            out.push_str("***");
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn pins_are_hidden_in_quoted_values() {
        let said =
            "error: invalid value 'pkcs11:token=a;token=b?pin-value=S3cret&module-path=/m.so' for '--key'";
        assert_eq!(
            super::hide_pins(said),
            "error: invalid value 'pkcs11:token=a;token=b?pin-value=***&module-path=/m.so' for '--key'"
        );
        assert_eq!(super::hide_pins("pin-value=1 and pin-value=2"), "pin-value=*** and pin-value=***");
        assert_eq!(super::hide_pins("no pin here"), "no pin here");
    }
}
