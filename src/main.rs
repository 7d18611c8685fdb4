//! `bootsign`: a private CA, code signing and network-boot images in one tool.

mod ca;
mod cmd;
mod fsx;
mod keys;
mod passphrase;
mod timefmt;
mod x509;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cmd::Cli::parse();
    match cmd::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
