//! Crash safety: `issue`, `cross-sign` and `sign a b` are killed (SIGKILL, through strace's
//! fault injection) at every file-changing system call they make, in turn. After each
//! crash the next run puts things back, and then: no serial was given twice, `ca.idx`,
//! `serial` and `signed/` agree, no temporary file is left, the outputs are all there or
//! none is, a rerun of the same command succeeds, and `openssl ca` still issues.

mod common;

use std::collections::BTreeSet;
use std::process::Command;

use common::*;

/// The system calls that change files, as strace names them.
const FILE_CALLS: &str =
    "openat,write,fsync,rename,renameat,renameat2,link,linkat,unlink,unlinkat,mkdir,mkdirat,fchmod";

/// The file-changing calls `args` makes, in order: (syscall name, its occurrence number).
fn file_calls(env: &Env, args: &[&str]) -> Vec<(String, usize)> {
    let log = env.path("trace.log");
    let out = Command::new("strace")
        .current_dir(env.path(""))
        .args(["-f", "-qq", "-o"])
        .arg(&log)
        .args(["-e", &format!("trace={FILE_CALLS}")])
        .arg(env!("CARGO_BIN_EXE_bootsign"))
        .args(args)
        .output()
        .expect("strace (installed by scripts/setup.sh)");
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&log).unwrap();
    std::fs::remove_file(&log).unwrap();
    let mut seen = std::collections::HashMap::<String, usize>::new();
    text.lines()
        .filter_map(|l| {
            // "PID name(args) = result"
            let call = l.split_once(' ').map(|(_, r)| r).unwrap_or(l);
            let name = call.split('(').next()?.trim();
            if name.is_empty() || name.starts_with("+++") || name.starts_with("---") || name.contains(' ') {
                return None;
            }
            let n = seen.entry(name.to_string()).or_default();
            *n += 1;
            Some((name.to_string(), *n))
        })
        .collect()
}

/// Runs `args` and kills it when it enters the `nth` call of `syscall`.
fn run_killed(env: &Env, args: &[&str], syscall: &str, nth: usize) -> bool {
    let status = Command::new("strace")
        .current_dir(env.path(""))
        .args(["-f", "-qq", "-o", "/dev/null"])
        .args(["-e", &format!("inject={syscall}:signal=KILL:when={nth}")])
        .arg(env!("CARGO_BIN_EXE_bootsign"))
        .args(args)
        .output()
        .unwrap()
        .status;
    status.success()
}

/// ca.idx, serial and signed/ agree; no serial twice; nothing temporary left behind.
fn check_ca(env: &Env, what: &str) {
    // `list` takes the lock: a crashed run's leftovers are put back.
    let out = env.run(&["list"]);
    assert!(out.status.success(), "{what}: list: {}", String::from_utf8_lossy(&out.stderr));
    let list = String::from_utf8(out.stdout).unwrap();
    let idx = String::from_utf8(env.read("ca.idx")).unwrap();
    let serials: Vec<u128> =
        idx.lines().map(|l| u128::from_str_radix(l.split('\t').nth(3).unwrap(), 16).unwrap()).collect();
    let unique: BTreeSet<u128> = serials.iter().copied().collect();
    assert_eq!(unique.len(), serials.len(), "{what}: a serial appears twice:\n{idx}");
    let next = u128::from_str_radix(String::from_utf8(env.read("serial")).unwrap().trim(), 16).unwrap();
    assert!(serials.iter().all(|s| *s < next), "{what}: serial file {next:X} is not past {serials:X?}");
    let signed: BTreeSet<u128> = std::fs::read_dir(env.path("signed"))
        .map(|d| {
            d.map(|e| {
                let name = e.unwrap().file_name().into_string().unwrap();
                u128::from_str_radix(name.strip_suffix(".pem").unwrap(), 16).unwrap()
            })
            .collect()
        })
        .unwrap_or_default();
    assert_eq!(signed, unique, "{what}: signed/ and ca.idx differ");
    assert_eq!(list.lines().count(), serials.len() + 1, "{what}: {list}");
    no_leftovers(env, what);
}

fn no_leftovers(env: &Env, what: &str) {
    for dir in ["", "signed"] {
        let Ok(entries) = std::fs::read_dir(env.path(dir)) else { continue };
        for e in entries {
            let name = e.unwrap().file_name().into_string().unwrap();
            assert!(!name.starts_with(".bootsign-"), "{what}: {dir}/{name} left behind");
        }
    }
}

/// Kills `args` at each file operation in turn, starting each time with `outputs` absent;
/// after each crash `check` runs on the state the next bootsign run sees, then `rerun`,
/// which must succeed.
fn kill_everywhere(
    env: &Env,
    args: &[&str],
    outputs: &[&str],
    check: &dyn Fn(&str),
    rerun: &dyn Fn(&str),
) -> usize {
    let clean = || {
        for f in outputs {
            let _ = std::fs::remove_file(env.path(f));
        }
    };
    clean();
    let calls = file_calls(env, args);
    assert!(calls.len() > 10, "{args:?} made only {} file calls: {calls:?}", calls.len());
    let mut killed = 0;
    let mut unkilled = Vec::new();
    for (name, nth) in &calls {
        let what = format!("{args:?} killed at {name} #{nth}");
        clean();
        let finished = run_killed(env, args, name, *nth);
        killed += usize::from(!finished);
        if finished {
            unkilled.push(format!("{name} #{nth}"));
        }
        check(&what);
        clean();
        rerun(&what);
    }
    // Nearly every call is a point where the process died. A run may make a few calls fewer
    // than the counted one (CI saw 5 of 261 run to the end): those runs were checked like
    // the others, but most runs must have been killed or the injection is not working.
    assert!(
        killed * 20 >= calls.len() * 19,
        "{args:?}: only {killed} of {} runs were killed; these ran to the end: {unkilled:?}\nthe calls: {calls:?}",
        calls.len()
    );
    eprintln!("{args:?}: ran to the end: {unkilled:?}");
    calls.len()
}

#[test]
fn issue_and_cross_sign_survive_a_kill_at_every_file_operation() {
    let env = Env::new();
    env.ok(&["ca", "init", "--key", "p256", "--cn", "Crash CA"]);
    let issue = ["issue", "--client", "--key", "p256", "--cn", "crash", "-o", "c", "--chain"];
    // A rerun must succeed; afterwards the outputs are complete and belong together.
    let rerun_issue = |what: &str| {
        env.ok(&issue);
        let key_pub = env.openssl_ok(&["pkey", "-in", "c.key", "-pubout"]);
        let crt_pub = env.openssl_ok(&["x509", "-in", "c.crt", "-noout", "-pubkey"]);
        assert_eq!(key_pub, crt_pub, "{what}: c.key and c.crt do not belong together");
        check_ca(&env, what);
    };
    let check_outputs = |what: &str| {
        // All of the caller's files, or none (once the next run has put things back).
        let out = env.run(&["list"]);
        assert!(out.status.success(), "{what}: list: {}", String::from_utf8_lossy(&out.stderr));
        let present: Vec<bool> =
            ["c.crt", "c.key", "c-full.crt"].iter().map(|f| env.path(f).exists()).collect();
        assert!(present.iter().all(|p| *p) || present.iter().all(|p| !*p), "{what}: outputs {present:?}");
        check_ca(&env, what);
    };
    let n = kill_everywhere(&env, &issue, &["c.crt", "c.key", "c-full.crt"], &check_outputs, &rerun_issue);
    eprintln!("issue: killed at {n} file operations");

    env.openssl_cert("other", None, "/CN=Other Root", CA_EXT);
    let cross = ["cross-sign", "other.crt", "-o", "x.crt"];
    let rerun_cross = |what: &str| {
        env.ok(&cross);
        env.openssl_ok(&["verify", "-CAfile", "ca.crt", "x.crt"]);
        check_ca(&env, what);
    };
    let check_cross = |what: &str| check_ca(&env, what);
    let n = kill_everywhere(&env, &cross, &["x.crt"], &check_cross, &rerun_cross);
    eprintln!("cross-sign: killed at {n} file operations");

    // openssl ca goes on from where bootsign left the serial, with no clash.
    env.write_recipe_cnf();
    env.openssl_ec_csr("o.key", "o.csr", "/CN=by openssl", &[]);
    let before = String::from_utf8(env.read("serial")).unwrap();
    env.openssl_ok(&["ca", "-batch", "-config", "ca.cnf", "-in", "o.csr", "-out", "o.crt"]);
    let serial = env.openssl_ok(&["x509", "-in", "o.crt", "-noout", "-serial"]);
    assert_eq!(serial.trim().trim_start_matches("serial="), before.trim());
    check_ca(&env, "after openssl ca");
}

#[test]
fn signing_two_files_survives_a_kill_at_every_file_operation() {
    let env = Env::new();
    env.ok(&["ca", "init", "--key", "p256", "--cn", "Crash CA"]);
    env.ok(&["issue", "--codesigning", "--key", "p256"]);
    env.write("a", vec![1u8; 5000]);
    env.write("b", vec![2u8; 7000]);
    let sign = ["sign", "a", "b"];
    let rerun = |what: &str| {
        env.ok(&sign);
        env.ok(&["verify", "a", "--trust", "ca.crt"]);
        env.ok(&["verify", "b", "--trust", "ca.crt"]);
        no_leftovers(&env, what);
    };
    let check = |what: &str| {
        // The next run in the directory puts back what the crash left.
        let out = env.run(&["sign", "a", "b"]);
        let (a, b) = (env.path("a.sig").exists(), env.path("b.sig").exists());
        if out.status.success() {
            // Nothing had been placed: the rerun wrote both.
            assert!(a && b, "{what}");
        } else {
            // Both were placed before the crash: complete, valid, and refused without --force.
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(a && b && err.contains("already exists"), "{what}: a {a} b {b}: {err}");
            env.ok(&["verify", "a", "--trust", "ca.crt"]);
            env.ok(&["verify", "b", "--trust", "ca.crt"]);
        }
        no_leftovers(&env, what);
    };
    let n = kill_everywhere(&env, &sign, &["a.sig", "b.sig"], &check, &rerun);
    eprintln!("sign a b: killed at {n} file operations");
}
