//! `bootsign script check`: reads boot scripts as the firmware does and reports every
//! line it would refuse or cannot run (the same crate as the firmware's interpreter:
//! `bootsign_script::check`).

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use clap::{Args as ClapArgs, Subcommand};

use bootsign_script::check::{Finding, Kind, check};

use super::Ctx;
use crate::fsx::quote;

/// `script` subcommands.
#[derive(Subcommand)]
pub enum ScriptCommand {
    /// Report every line of iPXE scripts the firmware would refuse or cannot run.
    #[command(after_help = "Examples:\n  bootsign script check boot.ipxe menu.ipxe\n      \
        each line that cannot run, as FILE:LINE: the line, then why\n      \
        (and what iPXE does); exit status 0 only when every script can run")]
    Check(CheckArgs),
}

/// `script check` options.
#[derive(ClapArgs)]
pub struct CheckArgs {
    /// The scripts.
    #[arg(required = true, value_name = "SCRIPT")]
    pub files: Vec<PathBuf>,
}

/// Runs a `script` subcommand.
pub fn run(ctx: &mut Ctx<'_>, command: ScriptCommand) -> Result<()> {
    let ScriptCommand::Check(args) = command;
    let mut failing = 0;
    for path in &args.files {
        let findings = check(&read(path)?);
        write!(ctx.out, "{}", report(path, &findings))?;
        if findings.iter().any(Finding::stops) {
            failing += 1;
        } else {
            writeln!(ctx.out, "{}: can run", path.display())?;
        }
    }
    if failing > 0 {
        bail!("{failing} of {} scripts cannot run as written", args.files.len());
    }
    Ok(())
}

/// A script's text; it must be UTF-8.
pub fn read(path: &Path) -> Result<String> {
    let bytes = crate::fsx::read_capped(path, crate::fsx::MAX_INPUT, "the script")?;
    String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("the script {} is not UTF-8 text", quote(path)))
}

/// The findings as `FILE:LINE: text` lines, each followed by the problem, indented,
/// and whose it is: iPXE refuses the line too, or it is only a warning.
pub fn report(path: &Path, findings: &[Finding]) -> String {
    let mut text = String::new();
    for f in findings {
        let whose = match f.kind {
            Kind::Unsupported => "",
            Kind::Broken => " (iPXE refuses this line too)",
            Kind::Suspicious => " (warning: iPXE and bootsign both run it so)",
        };
        text.push_str(&format!(
            "{}:{}: {}\n    {}{whose}\n",
            path.display(),
            f.line,
            bootsign_pki::text::escape_controls(&f.text),
            f.problem
        ));
    }
    text
}
