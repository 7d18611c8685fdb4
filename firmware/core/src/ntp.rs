//! The clock from the network: one SNTP exchange over a UDP socket of the stack (the
//! protocol is `crates/ntp`), the clock set from it, and the words that tell a person
//! the clock is what made a certificate fail.

use alloc::string::{String, ToString};

use bootsign_ntp::{Correction, NtpError, Request, Utc};
use bootsign_tls::RandomSource;
use smoltcp::wire::Ipv4Address;

use crate::clock::{BUILT, Clock, RtcOutcome};
use crate::net::Net;

/// How long to wait for each reply, and how many requests to send.
const TIMEOUT_MS: u64 = 2_000;
const TRIES: u64 = 3;

/// Sets `clock` from the SNTP server at `ip`:`port` (`host` names it in messages), up to
/// [`TRIES`] requests through `net`, each with its own nonce. Returns the console line:
/// the server, the time before and after, the correction, and whether the RTC was set.
pub fn sync(net: &mut Net, clock: Clock, host: &str, ip: Ipv4Address, port: u16) -> Result<String, String> {
    let before = clock.unix_time();
    for _ in 0..TRIES {
        let mut nonce = [0u8; 8];
        if crate::rng::RNG.fill(&mut nonce).is_err() {
            // Without a random source the nonce still pairs replies with requests; only
            // guessing it gets easier for an off-path forger.
            nonce = (crate::clock::tsc() ^ clock.now_ms().rotate_left(32)).to_be_bytes();
        }
        let request = Request::new(nonce);
        // Replies to other requests (an earlier try's, or forged) are skipped; anything
        // else from the server answers, refusals included.
        let answer = net.udp_exchange((ip, port), &request.encode(), TIMEOUT_MS, |data| {
            request.check(data) != Err(NtpError::NotOurs)
        })?;
        let Some((data, round_trip)) = answer else { continue };
        let reply = request.check(&data).map_err(|e| alloc::format!("{host}:{port} ({ip}): {e}"))?;
        let now_ms = reply.unix_millis(round_trip, BUILT);
        if now_ms / 1000 < BUILT {
            // Certainly wrong, and the one time an answer must never move the clock to.
            return Err(alloc::format!(
                "{host}:{port} ({ip}) says it is {}, before this firmware was built ({}): refused",
                Utc { unix: now_ms / 1000 },
                Utc { unix: BUILT }.day()
            ));
        }
        let (correction, rtc) = clock.set(now_ms)?;
        return Ok(alloc::format!(
            "ntp: {host}:{port} ({ip}, stratum {}, {round_trip} ms round trip): the clock was {}, is now {} \
             (corrected by {}); {}",
            reply.stratum,
            before.map_or_else(|| "unreadable".into(), |t| Utc { unix: t }.to_string()),
            Utc { unix: now_ms / 1000 },
            Correction(correction),
            match rtc {
                RtcOutcome::Set => String::from("the RTC is set"),
                RtcOutcome::Failed(why) => alloc::format!(
                    "the RTC could not be set ({why}): the correction holds until this firmware exits"
                ),
                RtcOutcome::Kept => String::from(
                    "the RTC is left as it was (only one earlier than this firmware's build is rewritten)"
                ),
            }
        ));
    }
    Err(alloc::format!(
        "no reply from {host}:{port} ({ip}) to {TRIES} NTP requests, {} s each",
        TIMEOUT_MS / 1000
    ))
}

/// The clock's time, for messages.
pub fn clock_text(clock: &Clock) -> String {
    match clock.unix_time() {
        Some(t) => Utc { unix: t }.to_string(),
        None => "nothing (it cannot be read)".into(),
    }
}

/// `error`, with what the clock says and how to set it when the error `depends_on_the_clock`
/// (a certificate outside its validity period or a CRL past its nextUpdate, as the PKI
/// and TLS errors' predicate of that name says).
pub fn validity_hint(clock: &Clock, error: String, depends_on_the_clock: bool) -> String {
    if !depends_on_the_clock {
        return error;
    }
    if clock.clearly_wrong() {
        alloc::format!(
            "{error}; the clock says {}, before this firmware was built ({}): set it with `ntp SERVER`",
            clock_text(clock),
            Utc { unix: BUILT }.day()
        )
    } else if !clock.synced() {
        alloc::format!(
            "{error}; the clock says {}: if that is wrong, set it with `ntp SERVER`",
            clock_text(clock)
        )
    } else {
        error
    }
}
