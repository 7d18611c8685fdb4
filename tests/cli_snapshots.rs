//! The CLI's text as tested output: every `--help`, `inspect` on each image format, a
//! whole workflow's talk, and the main errors, as insta snapshots in `tests/snapshots/`.
//!
//! Commands run in-process through [`bootsign::cmd::Ctx`], with buffers for stdout and
//! stderr and a fixed clock, so dates and the CA's sequential serials are the same on
//! every run. What still varies (fresh keys, so fingerprints, image sizes and random
//! serials; temporary paths; the version) is redacted by the filters in [`settings`].
//!
//! A changed text fails the test and, outside CI, leaves a `.snap.new` beside the
//! snapshot to review (`cargo insta review`, or rename it by hand). With `CI` set, insta
//! writes nothing and only fails.

use std::path::PathBuf;

use bootsign::clock::FixedClock;
use bootsign::cmd::{Cli, Ctx, error_text, run};
use clap::{CommandFactory, Parser};

/// 2027-01-15 08:00:00 UTC: the time every command here runs at.
const NOW: u64 = 1_800_000_000;

/// What a command said, and whether it succeeded.
struct Outcome {
    ok: bool,
    out: String,
    err: String,
}

impl Outcome {
    /// The transcript as snapshots show it.
    fn text(&self) -> String {
        let mut s = format!("{}\n", if self.ok { "ok" } else { "failed" });
        if !self.out.is_empty() {
            s.push_str(&format!("--- stdout\n{}", self.out));
        }
        if !self.err.is_empty() {
            s.push_str(&format!("--- stderr\n{}", self.err));
        }
        s
    }
}

/// Runs `bootsign ARGS` in-process at [`NOW`], as `main` does: clap's own errors as
/// clap prints them, the command's as `error: ...`.
fn bootsign(args: &[&str]) -> Outcome {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let ok = match Cli::try_parse_from(std::iter::once("bootsign").chain(args.iter().copied())) {
        Err(e) => {
            let text = e.render().to_string();
            if e.use_stderr() {
                err.extend(text.bytes())
            } else {
                out.extend(text.bytes())
            }
            e.exit_code() == 0
        }
        Ok(cli) => {
            let clock = FixedClock(NOW);
            let mut ctx = Ctx::new(&mut out, &mut err, &clock);
            match run(cli, &mut ctx) {
                Ok(()) => true,
                Err(e) => {
                    std::io::Write::write_all(ctx.err, format!("{}\n", error_text(&e)).as_bytes()).unwrap();
                    false
                }
            }
        }
    };
    Outcome { ok, out: String::from_utf8(out).unwrap(), err: String::from_utf8(err).unwrap() }
}

/// A scratch directory; commands get absolute paths inside it, since tests share the
/// process's working directory.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Self {
        Self { dir: tempfile::tempdir().unwrap() }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// `rel` inside the scratch directory, as an argument.
    fn p(&self, rel: &str) -> String {
        self.path(rel).to_str().unwrap().to_string()
    }

    fn write(&self, rel: &str, data: impl AsRef<[u8]>) {
        std::fs::write(self.path(rel), data).unwrap();
    }

    /// Runs bootsign with `--ca-dir` set to the scratch directory, requiring `ok`.
    fn expect(&self, ok: bool, args: &[&str]) -> Outcome {
        let dir = self.p("");
        let mut all = vec!["--ca-dir", dir.trim_end_matches('/')];
        all.extend_from_slice(args);
        let outcome = bootsign(&all);
        assert_eq!(outcome.ok, ok, "bootsign {args:?}:\n{}", outcome.text());
        outcome
    }

    fn ok(&self, args: &[&str]) -> Outcome {
        self.expect(true, args)
    }

    fn fails(&self, args: &[&str]) -> Outcome {
        self.expect(false, args)
    }

    /// A CA with a P-256 root (fast to make), as `ca init` makes it.
    fn with_ca(self) -> Self {
        self.ok(&["ca", "init", "--cn", "Snapshot CA", "--key", "p256"]);
        self
    }

    /// Snapshot filters for this directory.
    fn settings(&self) -> insta::Settings {
        settings(&[(self, "[TMP]")])
    }
}

/// What varies between runs, and what it is shown as.
const FILTERS: &[(&str, &str)] = &[
    // SHA-256 fingerprints, as bootsign and openssl print them and as plain hex.
    (r"\b(?:[0-9A-F]{2}:){31}[0-9A-F]{2}\b", "[SHA256]"),
    (r"\b[0-9a-f]{64}\b", "[SHA256-HEX]"),
    // Image sizes change with the firmware and with the certificates' signature lengths.
    (r"\b\d+ bytes\b", "[N] bytes"),
    // The firmware's version, which the crate's version sets.
    (r"bootsign \d+\.\d+\.\d+\S*", "bootsign [VERSION]"),
    // Random 16-byte serials (roots); the CA's own serials are sequential and stay.
    (r"\b[0-9A-F]{32}\b", "[SERIAL]"),
    // The help shows the variable's value when it is set.
    (r"\[env: BOOTSIGN_CA_DIR=[^\]]*\]", "[env: BOOTSIGN_CA_DIR=]"),
];

fn regex_escape(s: &str) -> String {
    s.chars()
        .map(
            |c| {
                if c.is_ascii_alphanumeric() || c == '/' || c == '_' {
                    c.to_string()
                } else {
                    format!("\\{c}")
                }
            },
        )
        .collect()
}

/// Snapshot settings: the scratch directories' paths shown as names, then [`FILTERS`].
fn settings(dirs: &[(&Scratch, &str)]) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_prepend_module_to_snapshot(false);
    s.set_omit_expression(true);
    for (dir, name) in dirs {
        let path = dir.dir.path();
        s.add_filter(&regex_escape(path.to_str().unwrap()), *name);
        let canonical = std::fs::canonicalize(path).unwrap();
        if canonical != path {
            s.add_filter(&regex_escape(canonical.to_str().unwrap()), *name);
        }
    }
    for (regex, replacement) in FILTERS {
        s.add_filter(regex, *replacement);
    }
    s
}

// ----- help -----

/// Every command and subcommand in clap's tree, with its path (`[]` for the root), built
/// so usage lines read `bootsign ca init`. Taken from the tree, so a new command gets a
/// snapshot (and fails until one is accepted) without anyone listing it here.
fn commands(width: usize) -> Vec<(Vec<String>, clap::Command)> {
    fn walk(
        cmd: &clap::Command,
        path: Vec<String>,
        width: usize,
        out: &mut Vec<(Vec<String>, clap::Command)>,
    ) {
        out.push((path.clone(), cmd.clone().term_width(width)));
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            let mut p = path.clone();
            p.push(sub.get_name().to_string());
            walk(sub, p, width, out);
        }
    }
    let mut root = Cli::command().term_width(width);
    root.build();
    let mut out = Vec::new();
    walk(&root, Vec::new(), width, &mut out);
    out
}

fn help_name(path: &[String]) -> String {
    if path.is_empty() { "help_root".into() } else { format!("help_{}", path.join("_").replace('-', "_")) }
}

#[test]
fn help_of_every_command() {
    let all = commands(80);
    // The tree is what the snapshots follow; this only checks it was walked.
    let names: Vec<String> = all.iter().map(|(p, _)| p.join(" ")).collect();
    for expected in ["", "ca", "ca init", "issue", "verify", "build", "inspect"] {
        assert!(names.iter().any(|n| n == expected), "{expected:?} missing from {names:?}");
    }
    settings(&[]).bind(|| {
        for (path, mut cmd) in all {
            insta::assert_snapshot!(help_name(&path), cmd.render_long_help().to_string());
        }
    });
}

/// The help a person reads: `--help` through the parser, as `bootsign ca init --help`
/// prints it, is the one snapshotted from the tree.
#[test]
fn help_through_the_parser_is_the_snapshotted_one() {
    let through_parser = bootsign(&["ca", "init", "--help"]);
    assert!(through_parser.ok && through_parser.err.is_empty());
    let (_, mut cmd) = commands(80).into_iter().find(|(p, _)| p.join(" ") == "ca init").unwrap();
    // The parser renders at the terminal's width; compare what does not depend on it.
    let words = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    assert_eq!(words(&through_parser.out), words(&cmd.render_long_help().to_string()));
}

/// At 80 (and 100) columns no help line is longer than the terminal, and the examples
/// are written to fit 80 columns, so clap never breaks an example command in two.
#[test]
fn help_fits_80_columns() {
    let mut too_long = Vec::new();
    for width in [80, 100] {
        for (path, mut cmd) in commands(width) {
            for line in cmd.render_long_help().to_string().lines() {
                if line.chars().count() > width {
                    too_long.push(format!("at {width}, bootsign {}: {line:?}", path.join(" ")));
                }
            }
        }
    }
    for (path, cmd) in commands(80) {
        for text in [cmd.get_after_help(), cmd.get_after_long_help()].into_iter().flatten() {
            for line in text.to_string().lines() {
                if line.chars().count() > 80 {
                    too_long.push(format!("examples of bootsign {}: {line:?}", path.join(" ")));
                }
            }
        }
    }
    assert!(too_long.is_empty(), "lines longer than the terminal:\n{}", too_long.join("\n"));
}

// ----- inspect -----

#[test]
fn inspect_each_image_format() {
    let s = Scratch::new().with_ca();
    s.write("boot.ipxe", "#!ipxe\ndhcp\nchain http://boot.example.lan/boot.ipxe\n");
    std::fs::create_dir(s.path("img")).unwrap();
    let (ca, script, img) = (s.p("ca.crt"), s.p("boot.ipxe"), s.p("img"));
    let built = s.ok(&[
        "build",
        "--no-config",
        "--efi",
        "--iso",
        "--usb",
        "--rom",
        "--lkrn",
        "--pci",
        "1af4:1000",
        "--trust",
        &ca,
        "--embed",
        &script,
        "--require-signed",
        "-o",
        &img,
    ]);
    s.settings().bind(|| {
        insta::assert_snapshot!("build_all_formats", built.text());
        for format in ["efi", "iso", "usb", "rom", "lkrn"] {
            let image = s.p(&format!("img/bootsign.{format}"));
            insta::assert_snapshot!(format!("inspect_{format}"), s.ok(&["inspect", &image]).text());
        }
    });
}

// ----- a workflow's talk -----

/// What a person sees going through the README's steps: what was written, with serials,
/// dates and names.
#[test]
fn workflow() {
    let s = Scratch::new();
    let mut transcript = String::new();
    let mut step = |args: &[&str], outcome: Outcome| {
        let shown: Vec<String> =
            args.iter().map(|a| if a.contains(' ') { format!("'{a}'") } else { a.to_string() }).collect();
        transcript.push_str(&format!("$ bootsign {}\n{}\n", shown.join(" "), outcome.text()));
    };
    let args = ["ca", "init", "--cn", "Snapshot CA", "--key", "p256"];
    step(&args, s.ok(&args));
    let args = ["issue", "--codesigning", "--key", "p256"];
    step(&args, s.ok(&args));
    let args =
        ["issue", "--server", "--cn", "boot.example.lan", "--san", "10.0.2.2", "--key", "p256", "--chain"];
    step(&args, s.ok(&args));
    s.write("vmlinuz", "a kernel\n");
    let (vmlinuz, ca, server_full) = (s.p("vmlinuz"), s.p("ca.crt"), s.p("server-full.crt"));
    let args = ["sign", &vmlinuz];
    step(&args, s.ok(&args));
    let args = ["verify", &vmlinuz, "--trust", &ca];
    step(&args, s.ok(&args));
    let args = ["verify-chain", &server_full, "--trust", &ca, "--host", "boot.example.lan"];
    step(&args, s.ok(&args));
    let args = ["fingerprint", &ca];
    step(&args, s.ok(&args));
    let args = ["revoke", "02", "--reason", "superseded"];
    step(&args, s.ok(&args));
    let args = ["list"];
    step(&args, s.ok(&args));
    let args = ["crl"];
    step(&args, s.ok(&args));
    s.settings().bind(|| insta::assert_snapshot!("workflow", transcript));
}

// ----- errors -----

/// The main ways a command is refused, each with what it says.
#[test]
fn errors() {
    let s = Scratch::new().with_ca();
    s.ok(&["issue", "--codesigning", "--key", "p256"]);
    s.ok(&["issue", "--server", "--cn", "boot.example.lan", "--key", "p256"]);
    s.write("notes.txt", "hello, this is not a certificate\n");
    s.write("vmlinuz", "a kernel\n");
    s.write("pass.txt", "correct horse\n");
    s.write("wrong.txt", "wrong horse\n");
    let (notes, vmlinuz, ca) = (s.p("notes.txt"), s.p("vmlinuz"), s.p("ca.crt"));
    s.ok(&["sign", &vmlinuz]);

    let mut cases: Vec<(&str, Outcome)> = Vec::new();
    cases.push(("fingerprint of a text file", s.fails(&["fingerprint", &notes])));
    cases.push(("fingerprint of a missing file", s.fails(&["fingerprint", &s.p("absent.crt")])));
    cases
        .push(("a key given as the trust anchor", s.fails(&["verify", &vmlinuz, "--trust", &s.p("ca.key")])));
    cases.push(("a text file as the signing key", {
        let (cert, key) = (s.p("codesign.crt"), notes.clone());
        s.fails(&["sign", &vmlinuz, "--cert", &cert, "--key", &key, "-o", &s.p("other.sig")])
    }));
    cases.push((
        "a text file as a request",
        s.fails(&["issue", "--server", "--csr", &notes, "-o", &s.p("web")]),
    ));
    cases.push(("a text file as a CRL", s.fails(&["verify", &vmlinuz, "--trust", &ca, "--crl", &notes])));
    cases.push((
        "a text file as the signature",
        s.fails(&["verify", &vmlinuz, "--sig", &notes, "--trust", &ca]),
    ));
    s.write("vmlinuz", "a changed kernel\n");
    cases.push(("verify on a changed file", s.fails(&["verify", &vmlinuz, "--trust", &ca])));

    let other = Scratch::new();
    other.ok(&["ca", "init", "--cn", "Other CA", "--key", "p256"]);
    let other_ca = other.p("ca.crt");
    s.write("vmlinuz", "a kernel\n");
    cases.push(("a signer under another CA", s.fails(&["verify", &vmlinuz, "--trust", &other_ca])));
    cases.push((
        "a server certificate for another name",
        s.fails(&["verify-chain", &s.p("server.crt"), "--trust", &ca, "--host", "other.example.lan"]),
    ));
    cases.push(("revoking an unknown serial", s.fails(&["revoke", "99"])));
    s.ok(&["revoke", "02"]);
    cases.push(("revoking twice", s.fails(&["revoke", "02"])));
    cases.push(("ca init over a CA", s.fails(&["ca", "init", "--cn", "Again", "--key", "p256"])));
    cases.push(("issue over existing files", s.fails(&["issue", "--codesigning", "--key", "p256"])));
    cases.push(("issue without a kind", s.fails(&["issue", "--cn", "x"])));
    cases.push(("cross-signing a leaf", s.fails(&["cross-sign", &s.p("server.crt")])));
    cases
        .push(("build without a format", s.fails(&["build", "--no-config", "--trust", &ca, "-o", &s.p("")])));
    cases.push((
        "build --rom without --pci",
        s.fails(&["build", "--no-config", "--rom", "--trust", &ca, "-o", &s.p("")]),
    ));
    cases.push((
        "build embedding the CA key",
        s.fails(&[
            "build",
            "--no-config",
            "--efi",
            "--trust",
            &ca,
            "--cert",
            &ca,
            "--privkey",
            &s.p("ca.key"),
            "-o",
            &s.p(""),
        ]),
    ));

    let missing = Scratch::new();
    let gone = missing.p("no-such-ca");
    cases.push(("no CA directory", bootsign(&["--ca-dir", &gone, "issue", "--codesigning"])));
    cases.push((
        "a directory without a CA",
        bootsign(&["--ca-dir", missing.dir.path().to_str().unwrap(), "list"]),
    ));
    cases.push(("sign without a signer", {
        std::fs::write(missing.path("f"), "data").unwrap();
        let args = ["--ca-dir", missing.dir.path().to_str().unwrap(), "sign", &missing.p("f")];
        bootsign(&args)
    }));

    let enc = Scratch::new();
    let (pass, wrong) = (s.p("pass.txt"), s.p("wrong.txt"));
    enc.ok(&["--passphrase-file", &pass, "ca", "init", "--cn", "Locked CA", "--key", "p256", "--encrypt"]);
    cases.push(("wrong passphrase", enc.fails(&["--passphrase-file", &wrong, "issue", "--codesigning"])));

    let mut text = String::new();
    for (what, outcome) in &cases {
        assert!(!outcome.ok, "{what} succeeded");
        text.push_str(&format!("# {what}\n{}\n", outcome.text()));
    }
    let settings = settings(&[(&other, "[OTHER]"), (&missing, "[MISSING]"), (&enc, "[ENC]"), (&s, "[TMP]")]);
    settings.bind(|| insta::assert_snapshot!("errors", text));
}

/// The context is what commands write through: nothing reaches the process's own
/// streams, and the clock is the one given.
#[test]
fn commands_use_the_context_clock() {
    let s = Scratch::new().with_ca();
    let issued = s.ok(&["issue", "--codesigning", "--key", "p256", "--days", "10"]);
    // NOW + 10 days is 2027-01-25.
    assert!(issued.err.contains("valid until  2027-01-25 (10 days)"), "{}", issued.text());
    let listed = s.ok(&["list"]);
    assert!(listed.out.contains("01      valid   2027-01-25"), "{}", listed.text());
}
