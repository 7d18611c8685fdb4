//! `bootsign`: a private CA, code signing and network-boot images in one tool.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Output piped into `head` should end quietly, as with other Unix tools, not panic.
    // SAFETY: setting a signal disposition to SIG_DFL has no preconditions and happens
    // before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = bootsign::cmd::Cli::parse();
    match bootsign::cmd::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Names from certificates and files are escaped where the message is made;
            // this catches whatever else reached the message raw, line by line.
            let message = format!("{e:#}");
            let lines: Vec<String> =
                message.split('\n').map(|l| bootsign_pki::text::escape_controls(l).to_string()).collect();
            eprintln!("error: {}", lines.join("\n"));
            ExitCode::FAILURE
        }
    }
}
