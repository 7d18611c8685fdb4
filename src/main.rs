//! `bootsign`: a private CA, code signing and network-boot images in one tool.

use std::io::Write as _;
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
    let cli = match bootsign::cmd::Cli::try_parse() {
        Ok(cli) => cli,
        // Help and version go out as clap prints them; a usage error quotes the value it
        // refused, which may be a PKCS#11 URI with a PIN in it: not that part.
        Err(e) if !e.use_stderr() => e.exit(),
        Err(e) => {
            let _ = write!(std::io::stderr(), "{}", bootsign::cmd::hide_pins(&e.render().to_string()));
            return ExitCode::from(e.exit_code() as u8);
        }
    };
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
