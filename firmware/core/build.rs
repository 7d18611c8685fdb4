//! The firmware's build date, for telling a clock that is clearly wrong (earlier than
//! the firmware itself): SOURCE_DATE_EPOCH when set (reproducible builds), else the time
//! of the commit being built, else now. The firmware reads it as BOOTSIGN_BUILD_EPOCH.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn main() {
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    let epoch = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) => {
            v.trim().parse::<u64>().unwrap_or_else(|_| panic!("SOURCE_DATE_EPOCH={v:?} is not a number"))
        }
        Err(_) => {
            // A new commit moves the date: watch HEAD and the branch it names (when the
            // files exist; a missing watched file would rebuild the firmware every time).
            let branch =
                git(&["rev-parse", "--symbolic-full-name", "HEAD"]).filter(|b| b.starts_with("refs/"));
            for name in ["HEAD".to_string()].into_iter().chain(branch) {
                if let Some(path) = git(&["rev-parse", "--git-path", &name])
                    && std::path::Path::new(&path).exists()
                {
                    println!("cargo:rerun-if-changed={path}");
                }
            }
            git(&["log", "-1", "--format=%ct"]).and_then(|t| t.parse().ok()).unwrap_or_else(|| {
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
            })
        }
    };
    println!("cargo:rustc-env=BOOTSIGN_BUILD_EPOCH={epoch}");
}
