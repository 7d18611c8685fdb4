//! Conformance harness: runs `bootsign_pki::verify_path` (and, side by side, rustls-webpki
//! 0.103) over the x509-limbo path-validation suite and reports where bootsign disagrees
//! with the expected verdict.
//!
//! ```text
//! cargo run --release -p bootsign-pki --example limbo -- LIMBO.json [options]
//!   --filter TEXT     only cases whose id contains TEXT
//!   --all             list every disagreement (default: 25 per group and error kind)
//!   --show-skipped    list every skipped case with its reason
//!   --crl             also run the has-crl cases through bootsign's Revocation (reported
//!                     apart, never in the agreement figures)
//!   --json FILE       write per-case results (id, expected, bootsign, webpki, error)
//! ```
//!
//! `limbo.json` is C2SP/x509-limbo's compiled suite (`python -m limbo compile`; the
//! BetterTLS cases need `limbo/_assets/bettertls.json`, exported by Netflix/bettertls).
//!
//! Mapping onto bootsign: anchors are the SHA-256 fingerprints of `trusted_certs`; the pool is
//! `untrusted_intermediates` + `trusted_certs` (each parsed with `Cert::parse`; one that does
//! not parse is left out, a peer that does not parse is a rejection); the policy is
//! ServerAuth for SERVER cases (ClientAuth for CLIENT), `validation_time` (now when absent),
//! the DNS or IP `expected_peer_name`, and no CRLs. Cases bootsign has no way to express are
//! skipped with a reason and left out of the agreement denominator: a required EKU other than
//! serverAuth/clientAuth, a `max_chain_depth`, CRLs, RFC 822 peer names, signature-algorithm
//! restrictions, a keyUsage requirement other than digitalSignature.
//!
//! A false accept (bootsign accepts, the suite expects a rejection) is marked `[webpki also
//! accepts]` when rustls-webpki makes the same mistake, and `[v1 CN-only leniency]` when the
//! end entity is an X.509 v1 certificate without extensions (the documented leniency for the
//! OpenSSL recipe's server certificates).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bootsign_pki::crl::Crl;
use bootsign_pki::{Cert, Fingerprint, Policy, Purpose, Revocation, ServerName, verify_path};
use rustls_pki_types::{CertificateDer, CertificateRevocationListDer, UnixTime};
use serde::Deserialize;
use webpki::ring as algs;

#[derive(Deserialize)]
struct Limbo {
    version: u32,
    testcases: Vec<Testcase>,
}

#[derive(Deserialize)]
struct PeerName {
    kind: String,
    value: String,
}

#[derive(Deserialize)]
struct Testcase {
    id: String,
    #[serde(default)]
    features: Option<Vec<String>>,
    validation_kind: String,
    trusted_certs: Vec<String>,
    untrusted_intermediates: Vec<String>,
    peer_certificate: String,
    validation_time: Option<String>,
    #[serde(default)]
    signature_algorithms: Option<Vec<String>>,
    #[serde(default)]
    key_usage: Option<Vec<String>>,
    #[serde(default)]
    extended_key_usage: Option<Vec<String>>,
    expected_result: String,
    expected_peer_name: Option<PeerName>,
    #[serde(default)]
    expected_peer_names: Option<Vec<PeerName>>,
    max_chain_depth: Option<u32>,
    #[serde(default)]
    crls: Option<Vec<String>>,
}

impl Testcase {
    fn features(&self) -> &[String] {
        self.features.as_deref().unwrap_or(&[])
    }
    fn has_feature(&self, f: &str) -> bool {
        self.features().iter().any(|x| x == f)
    }
    fn crls(&self) -> &[String] {
        self.crls.as_deref().unwrap_or(&[])
    }
}

/// A verdict: accepted, or rejected with a reason.
#[derive(Clone, Debug)]
enum Verdict {
    Accept,
    Reject(String),
}

impl Verdict {
    fn accepted(&self) -> bool {
        matches!(self, Verdict::Accept)
    }
}

fn der_of(pem_text: &str) -> Result<Vec<u8>, String> {
    pem::parse(pem_text).map(|p| p.into_contents()).map_err(|e| format!("PEM: {e}"))
}

/// Days from 1970-01-01 to a civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// Parses limbo's `validation_time`: `YYYY-MM-DDTHH:MM:SS[.fff](+00:00|Z)`.
fn parse_time(s: &str) -> Result<u64, String> {
    let bad = || format!("unparseable validation_time {s:?}");
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| s[r].parse::<i64>().map_err(|_| bad());
    let (y, mo, d, h, mi, se) =
        (num(0..4)?, num(5..7)?, num(8..10)?, num(11..13)?, num(14..16)?, num(17..19)?);
    let mut rest = &s[19..];
    if let Some(r) = rest.strip_prefix('.') {
        rest = r.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    if !(rest == "Z" || rest == "+00:00" || rest.is_empty()) {
        return Err(bad());
    }
    let secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
    u64::try_from(secs).map_err(|_| bad())
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Why a case cannot be put to bootsign, if it cannot.
fn skip_reason(tc: &Testcase, crl_mode: bool) -> Option<String> {
    if tc.max_chain_depth.is_some() {
        return Some(format!(
            "max_chain_depth={} (bootsign has a fixed MAX_DEPTH)",
            tc.max_chain_depth.unwrap_or(0)
        ));
    }
    if (!tc.crls().is_empty() || tc.has_feature("has-crl")) && !crl_mode {
        return Some("CRLs given in the case (run with --crl for the side report)".into());
    }
    if tc.signature_algorithms.as_ref().is_some_and(|v| !v.is_empty()) {
        return Some("signature_algorithms restriction".into());
    }
    if let Some(ku) = &tc.key_usage
        && ku.iter().any(|k| k != "digitalSignature")
    {
        return Some(format!("key_usage {ku:?} (bootsign's purposes imply their own keyUsage)"));
    }
    if let Some(eku) = &tc.extended_key_usage {
        let want = if tc.validation_kind == "CLIENT" { "clientAuth" } else { "serverAuth" };
        if let Some(e) = eku.iter().find(|e| e.as_str() != want) {
            return Some(format!("extended_key_usage {e} (no bootsign Purpose for it with this kind)"));
        }
    }
    if tc.expected_peer_name.as_ref().is_some_and(|p| p.kind == "RFC822")
        || tc.expected_peer_names.iter().flatten().any(|p| p.kind == "RFC822")
    {
        return Some("RFC 822 peer name (bootsign matches DNS and IP names only)".into());
    }
    None
}

fn server_name_bytes(tc: &Testcase) -> Result<Option<(bool, String, Vec<u8>)>, String> {
    let Some(p) = &tc.expected_peer_name else { return Ok(None) };
    match p.kind.as_str() {
        "DNS" => Ok(Some((false, p.value.clone(), Vec::new()))),
        "IP" => {
            let ip: IpAddr = p.value.parse().map_err(|_| format!("bad IP peer name {:?}", p.value))?;
            let bytes = match ip {
                IpAddr::V4(v) => v.octets().to_vec(),
                IpAddr::V6(v) => v.octets().to_vec(),
            };
            Ok(Some((true, p.value.clone(), bytes)))
        }
        k => Err(format!("peer name kind {k}")),
    }
}

/// The variant name of a PathError's Debug form, for grouping.
fn kind_of(debug: &str) -> String {
    debug.split([' ', '{', '(']).next().unwrap_or(debug).to_string()
}

struct BootsignRun {
    verdict: Verdict,
    kind: String,
    /// The end entity is X.509 v1 without extensions.
    v1_bare: bool,
    elapsed: Duration,
}

fn run_bootsign(tc: &Testcase, time: u64, with_crls: bool) -> Result<BootsignRun, String> {
    let peer_der = der_of(&tc.peer_certificate)?;
    let pool_der: Vec<Vec<u8>> = tc
        .untrusted_intermediates
        .iter()
        .chain(tc.trusted_certs.iter())
        .map(|p| der_of(p))
        .collect::<Result<_, _>>()?;
    let anchors: Vec<Fingerprint> = tc
        .trusted_certs
        .iter()
        .map(|p| der_of(p).map(|d| Fingerprint::of_der(&d)))
        .collect::<Result<_, _>>()?;
    let crl_der: Vec<Vec<u8>> =
        if with_crls { tc.crls().iter().map(|p| der_of(p)).collect::<Result<_, _>>()? } else { Vec::new() };
    let name = server_name_bytes(tc)?;
    let start = Instant::now();
    let peer = match Cert::parse(&peer_der) {
        Ok(c) => c,
        Err(e) => {
            return Ok(BootsignRun {
                verdict: Verdict::Reject(format!("peer does not parse: {e}")),
                kind: "CertParse".into(),
                v1_bare: false,
                elapsed: start.elapsed(),
            });
        }
    };
    let v1_bare = peer.version == 1;
    let pool: Vec<Cert<'_>> = pool_der.iter().filter_map(|d| Cert::parse(d).ok()).collect();
    let mut crls = Vec::new();
    for d in &crl_der {
        match Crl::parse(d) {
            Ok(c) => crls.push(c),
            Err(e) => {
                return Ok(BootsignRun {
                    verdict: Verdict::Reject(format!("CRL does not parse: {e}")),
                    kind: "CrlParse".into(),
                    v1_bare,
                    elapsed: start.elapsed(),
                });
            }
        }
    }
    let server_name = name.as_ref().map(|(is_ip, text, bytes)| {
        if *is_ip { ServerName::Ip(bytes.as_slice()) } else { ServerName::Dns(text.as_str()) }
    });
    let purpose = if tc.validation_kind == "CLIENT" { Purpose::ClientAuth } else { Purpose::ServerAuth };
    let revocation =
        if with_crls { Revocation { crls: &crls, require_fresh: false } } else { Revocation::NONE };
    let policy = Policy { purpose, time, server_name, revocation };
    let (verdict, kind) = match verify_path(&peer, &pool, &anchors, &policy) {
        Ok(_) => (Verdict::Accept, String::new()),
        Err(e) => (Verdict::Reject(e.to_string()), kind_of(&format!("{e:?}"))),
    };
    Ok(BootsignRun { verdict, kind, v1_bare, elapsed: start.elapsed() })
}

fn run_webpki(tc: &Testcase, time: u64) -> Result<Verdict, String> {
    if tc.validation_kind != "SERVER" {
        return Ok(Verdict::Reject("not run (CLIENT case)".into()));
    }
    let leaf_der = CertificateDer::from(der_of(&tc.peer_certificate)?);
    let Ok(leaf) = webpki::EndEntityCert::try_from(&leaf_der) else {
        return Ok(Verdict::Reject("leaf does not parse".into()));
    };
    let inter: Vec<CertificateDer<'static>> = tc
        .untrusted_intermediates
        .iter()
        .map(|p| der_of(p).map(CertificateDer::from))
        .collect::<Result<_, _>>()?;
    let ta_der: Vec<CertificateDer<'static>> =
        tc.trusted_certs.iter().map(|p| der_of(p).map(CertificateDer::from)).collect::<Result<_, _>>()?;
    let anchors: Vec<_> = ta_der.iter().filter_map(|d| webpki::anchor_from_trusted_cert(d).ok()).collect();
    // The same algorithm list as x509-limbo's rustls-webpki harness.
    let sig_algs = &[
        algs::ECDSA_P256_SHA256,
        algs::ECDSA_P384_SHA384,
        algs::RSA_PKCS1_2048_8192_SHA256,
        algs::RSA_PKCS1_2048_8192_SHA384,
        algs::RSA_PKCS1_2048_8192_SHA512,
        algs::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
        algs::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
        algs::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
    ];
    let crl_owned: Vec<webpki::CertRevocationList<'static>> = tc
        .crls()
        .iter()
        .map(|p| {
            let der = CertificateRevocationListDer::from(der_of(p)?);
            webpki::OwnedCertRevocationList::from_der(der.as_ref())
                .map(Into::into)
                .map_err(|e| format!("webpki CRL: {e}"))
        })
        .collect::<Result<_, _>>()?;
    let crl_refs: Vec<&webpki::CertRevocationList<'_>> = crl_owned.iter().collect();
    let revocation = if crl_refs.is_empty() {
        None
    } else {
        Some(
            webpki::RevocationOptionsBuilder::new(&crl_refs)
                .map_err(|e| format!("{e:?}"))?
                .with_depth(webpki::RevocationCheckDepth::Chain)
                .with_status_policy(webpki::UnknownStatusPolicy::Deny)
                .with_expiration_policy(webpki::ExpirationPolicy::Enforce)
                .build(),
        )
    };
    let t = UnixTime::since_unix_epoch(Duration::from_secs(time));
    if let Err(e) = leaf.verify_for_usage(
        sig_algs,
        &anchors,
        &inter,
        t,
        webpki::KeyUsage::server_auth(),
        revocation,
        None,
    ) {
        return Ok(Verdict::Reject(e.to_string()));
    }
    if let Some(p) = &tc.expected_peer_name {
        let Ok(name) = rustls_pki_types::ServerName::try_from(p.value.as_str()) else {
            return Ok(Verdict::Reject(format!("peer name {:?} not acceptable to pki-types", p.value)));
        };
        if let Err(e) = leaf.verify_is_valid_for_subject_name(&name) {
            return Ok(Verdict::Reject(format!("name: {e}")));
        }
    }
    Ok(Verdict::Accept)
}

/// The group a case is reported under: the id without its last component.
fn group_of(id: &str) -> String {
    match id.rfind("::") {
        Some(i) => id[..i].to_string(),
        None => id.to_string(),
    }
}

fn panic_text(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".into())
}

struct Row {
    id: String,
    expected_ok: bool,
    bootsign: Verdict,
    kind: String,
    webpki: Verdict,
    v1_bare: bool,
    features: Vec<String>,
    elapsed: Duration,
}

fn pct(a: usize, b: usize) -> String {
    if b == 0 { "-".into() } else { format!("{:.2}%", 100.0 * a as f64 / b as f64) }
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"?\"".into())
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut path = None;
    let (mut filter, mut all, mut show_skipped, mut crl_side, mut json_out) =
        (None, false, false, false, None);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--filter" => filter = args.next(),
            "--all" => all = true,
            "--show-skipped" => show_skipped = true,
            "--crl" => crl_side = true,
            "--json" => json_out = args.next(),
            "-h" | "--help" => {
                eprintln!(
                    "usage: limbo LIMBO.json [--filter TEXT] [--all] [--show-skipped] [--crl] [--json FILE]"
                );
                return;
            }
            _ if path.is_none() => path = Some(a),
            _ => {
                eprintln!("unexpected argument {a}");
                std::process::exit(2);
            }
        }
    }
    let path = path.unwrap_or_else(|| "/work/limbo/limbo.json".into());
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        eprintln!("cannot read {path}: {e}");
        std::process::exit(2)
    });
    let limbo: Limbo = serde_json::from_str(&text).unwrap_or_else(|e| {
        eprintln!("cannot parse {path}: {e}");
        std::process::exit(2)
    });
    assert_eq!(limbo.version, 1, "limbo schema version");
    // Quiet the default panic message: panics are caught per case and reported.
    std::panic::set_hook(Box::new(|_| {}));

    let total = limbo.testcases.len();
    let mut considered = 0usize;
    let mut skipped: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut rows: Vec<Row> = Vec::new();
    let mut crl_rows: Vec<Row> = Vec::new();
    let started = Instant::now();
    for tc in &limbo.testcases {
        if filter.as_ref().is_some_and(|f| !tc.id.contains(f.as_str())) {
            continue;
        }
        considered += 1;
        let is_crl_case = !tc.crls().is_empty() || tc.has_feature("has-crl");
        if let Some(reason) = skip_reason(tc, false) {
            skipped.entry(reason).or_default().push(tc.id.clone());
            if !(crl_side && is_crl_case && skip_reason(tc, true).is_none()) {
                continue;
            }
        }
        let time = match &tc.validation_time {
            Some(s) => parse_time(s).unwrap_or_else(|e| panic!("{}: {e}", tc.id)),
            None => now(),
        };
        let into_row = |with_crls: bool| -> Row {
            let b = catch_unwind(AssertUnwindSafe(|| run_bootsign(tc, time, with_crls)));
            let (verdict, kind, v1_bare, elapsed) = match b {
                Ok(Ok(r)) => (r.verdict, r.kind, r.v1_bare, r.elapsed),
                Ok(Err(e)) => {
                    (Verdict::Reject(format!("harness: {e}")), "Harness".into(), false, Duration::ZERO)
                }
                Err(p) => (
                    Verdict::Reject(format!("PANIC: {}", panic_text(p))),
                    "Panic".into(),
                    false,
                    Duration::ZERO,
                ),
            };
            let webpki = match catch_unwind(AssertUnwindSafe(|| run_webpki(tc, time))) {
                Ok(Ok(v)) => v,
                Ok(Err(e)) => Verdict::Reject(format!("harness: {e}")),
                Err(p) => Verdict::Reject(format!("PANIC: {}", panic_text(p))),
            };
            // The leniency covers v1 end entities only, which carry no extensions at all.
            Row {
                id: tc.id.clone(),
                expected_ok: tc.expected_result == "SUCCESS",
                bootsign: verdict,
                kind,
                webpki,
                v1_bare,
                features: tc.features().to_vec(),
                elapsed,
            }
        };
        if is_crl_case {
            if crl_side {
                crl_rows.push(into_row(true));
            }
        } else {
            rows.push(into_row(false));
        }
    }
    let wall = started.elapsed();

    // --- Summary table.
    let applicable = rows.len();
    let agree = rows.iter().filter(|r| r.bootsign.accepted() == r.expected_ok).count();
    let fa: Vec<&Row> = rows.iter().filter(|r| r.bootsign.accepted() && !r.expected_ok).collect();
    let fr: Vec<&Row> = rows.iter().filter(|r| !r.bootsign.accepted() && r.expected_ok).collect();
    let w_agree = rows.iter().filter(|r| r.webpki.accepted() == r.expected_ok).count();
    let w_fa = rows.iter().filter(|r| r.webpki.accepted() && !r.expected_ok).count();
    let w_fr = rows.iter().filter(|r| !r.webpki.accepted() && r.expected_ok).count();
    let fa_webpki_refuses: Vec<&&Row> = fa.iter().filter(|r| !r.webpki.accepted() && !r.v1_bare).collect();
    let skipped_n: usize = skipped.values().map(Vec::len).sum();
    let mut out = String::new();
    let _ = writeln!(out, "x509-limbo: {path}");
    let _ = writeln!(out, "cases in suite        {total}");
    if filter.is_some() {
        let _ = writeln!(out, "matching --filter     {considered}");
    }
    let _ = writeln!(out, "skipped (n/a)         {skipped_n}");
    let _ = writeln!(out, "applicable            {applicable}");
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<16}{:>8}{:>10}{:>15}{:>15}{:>12}",
        "", "agree", "disagree", "false accept", "false reject", "agreement"
    );
    let _ = writeln!(
        out,
        "{:<16}{:>8}{:>10}{:>15}{:>15}{:>12}",
        "bootsign",
        agree,
        applicable - agree,
        fa.len(),
        fr.len(),
        pct(agree, applicable)
    );
    let _ = writeln!(
        out,
        "{:<16}{:>8}{:>10}{:>15}{:>15}{:>12}",
        "rustls-webpki",
        w_agree,
        applicable - w_agree,
        w_fa,
        w_fr,
        pct(w_agree, applicable)
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "bootsign false accepts that rustls-webpki refuses (v1 CN-only leniency excluded): {}",
        fa_webpki_refuses.len()
    );
    let _ = writeln!(
        out,
        "bootsign false accepts under the v1 CN-only leniency: {}",
        fa.iter().filter(|r| r.v1_bare).count()
    );
    let slow: Vec<&Row> = rows.iter().filter(|r| r.elapsed > Duration::from_millis(500)).collect();
    let panics = rows.iter().filter(|r| r.kind == "Panic").count();
    let _ = writeln!(
        out,
        "panics: {panics}; cases over 0.5 s: {}; wall time {:.1} s",
        slow.len(),
        wall.as_secs_f64()
    );
    for r in &slow {
        let _ = writeln!(out, "  slow: {} {:.2} s", r.id, r.elapsed.as_secs_f64());
    }

    let _ = writeln!(out, "\nSkipped (not applicable), by reason:");
    for (reason, ids) in &skipped {
        let _ = writeln!(out, "  {:>4}  {reason}", ids.len());
        if show_skipped {
            for id in ids {
                let _ = writeln!(out, "          {id}");
            }
        }
    }

    // --- Disagreements grouped by id prefix, then error kind.
    let print_group = |out: &mut String, title: &str, list: &[&Row]| {
        let mut groups: BTreeMap<(String, String), Vec<&Row>> = BTreeMap::new();
        for r in list {
            let kind = if r.bootsign.accepted() { "accepted".to_string() } else { r.kind.clone() };
            groups.entry((group_of(&r.id), kind)).or_default().push(r);
        }
        let _ = writeln!(out, "\n{title}: {}", list.len());
        for ((group, kind), rs) in &groups {
            let wa = rs.iter().filter(|r| r.webpki.accepted() == r.expected_ok).count();
            let _ = writeln!(
                out,
                "  [{group}] bootsign {kind}: {} case(s), rustls-webpki right on {wa}",
                rs.len()
            );
            let limit = if all { usize::MAX } else { 25 };
            for r in rs.iter().take(limit) {
                let mut tags = Vec::new();
                if !r.features.is_empty() {
                    tags.push(r.features.join(","));
                }
                if r.bootsign.accepted() && r.webpki.accepted() {
                    tags.push("webpki also accepts".into());
                }
                if r.bootsign.accepted() && r.v1_bare {
                    tags.push("v1 CN-only leniency".into());
                }
                let tags = if tags.is_empty() { String::new() } else { format!(" [{}]", tags.join("; ")) };
                let msg = match &r.bootsign {
                    Verdict::Accept => match &r.webpki {
                        Verdict::Accept => "bootsign accepts".to_string(),
                        Verdict::Reject(w) => format!("bootsign accepts; webpki: {w}"),
                    },
                    Verdict::Reject(e) => match &r.webpki {
                        Verdict::Accept => format!("{e}  (webpki accepts)"),
                        Verdict::Reject(_) => e.clone(),
                    },
                };
                let _ = writeln!(out, "    {}{tags}: {msg}", r.id);
            }
            if rs.len() > limit {
                let _ = writeln!(out, "    ... {} more (--all)", rs.len() - limit);
            }
        }
    };
    print_group(&mut out, "FALSE ACCEPTS (expected FAILURE, bootsign accepts)", &fa);
    print_group(&mut out, "FALSE REJECTS (expected SUCCESS, bootsign rejects)", &fr);

    if crl_side {
        let ok = crl_rows.iter().filter(|r| r.bootsign.accepted() == r.expected_ok).count();
        let wok = crl_rows.iter().filter(|r| r.webpki.accepted() == r.expected_ok).count();
        let _ = writeln!(
            out,
            "\nCRL side report (not in the figures above; Revocation {{ require_fresh: false }}): bootsign {ok}/{}, rustls-webpki {wok}/{}",
            crl_rows.len(),
            crl_rows.len()
        );
        for r in &crl_rows {
            let b = match &r.bootsign {
                Verdict::Accept => "accept".to_string(),
                Verdict::Reject(e) => format!("reject: {e}"),
            };
            let w = if r.webpki.accepted() { "accept" } else { "reject" };
            let mark = if r.bootsign.accepted() == r.expected_ok { "ok " } else { "BAD" };
            let exp = if r.expected_ok { "SUCCESS" } else { "FAILURE" };
            let _ = writeln!(out, "  {mark} {} expected {exp}; webpki {w}; bootsign {b}", r.id);
        }
    }
    print!("{out}");

    if let Some(file) = json_out {
        let mut j = String::from("[\n");
        for (i, r) in rows.iter().chain(crl_rows.iter()).enumerate() {
            let v = |v: &Verdict| match v {
                Verdict::Accept => ("SUCCESS", String::new()),
                Verdict::Reject(e) => ("FAILURE", e.clone()),
            };
            let (b, be) = v(&r.bootsign);
            let (w, we) = v(&r.webpki);
            let _ = writeln!(
                j,
                "  {{\"id\": {}, \"expected\": \"{}\", \"bootsign\": \"{b}\", \"bootsign_kind\": {}, \"bootsign_error\": {}, \"webpki\": \"{w}\", \"webpki_error\": {}}}{}",
                json_str(&r.id),
                if r.expected_ok { "SUCCESS" } else { "FAILURE" },
                json_str(&r.kind),
                json_str(&be),
                json_str(&we),
                if i + 1 < rows.len() + crl_rows.len() { "," } else { "" }
            );
        }
        j.push_str("]\n");
        if let Err(e) = std::fs::write(&file, j) {
            eprintln!("cannot write {file}: {e}");
        }
    }
}
