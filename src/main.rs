//! `bootsign`: a private CA, code signing and network-boot images in one tool.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = bootsign::cmd::Cli::parse();
    match bootsign::cmd::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
