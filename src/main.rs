//! `bootsign`: a private CA, code signing and network-boot images in one tool.

use std::process::ExitCode;

use bootsign::clock::SystemClock;
use bootsign::cmd::{Ctx, error_text};
use clap::Parser;

fn main() -> ExitCode {
    // Output piped into `head` should end quietly, as with other Unix tools, not panic.
    // SAFETY: setting a signal disposition to SIG_DFL has no preconditions and happens
    // before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = bootsign::cmd::Cli::parse();
    let mut out = std::io::stdout();
    let mut err = std::io::stderr();
    let mut ctx = Ctx::new(&mut out, &mut err, &SystemClock);
    let result = bootsign::cmd::run(cli, &mut ctx).and_then(|()| Ok(ctx.out.flush()?));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Standard error is the last place to report to; if it is gone, the exit
            // status still says what happened.
            let _ = writeln!(ctx.err, "{}", error_text(&e));
            ExitCode::FAILURE
        }
    }
}
