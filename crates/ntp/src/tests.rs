use super::*;

extern crate std;
use std::string::ToString;

/// Decodes hex written in the tests.
fn hex<const N: usize>(s: &str) -> [u8; N] {
    let mut out = [0u8; N];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
    }
    out
}

/// A request and the reply chrony 4.3 (`local stratum 3`, on 127.0.0.1) sent to it,
/// captured on 2026-12-05.
const CHRONY_REQUEST: &str =
    "2300000000000000000000000000000000000000000000000000000000000000000000000000000075d9cbb42d833472";
const CHRONY_REPLY: &str =
    "240300e700000000000000007f7f0101eebe66ac8329cb2e75d9cbb42d833472eebe66adab801d87eebe66adab84fc94";
/// The Unix time of the reply's transmit timestamp (0xeebe66ad - 2208988800).
const CHRONY_UNIX: u64 = 1_796_466_733;
/// 2026-12-05 00:00:00 UTC, a build date.
const BUILT: u64 = 1_796_428_800;

fn chrony_request() -> Request {
    Request::new(hex::<48>(CHRONY_REQUEST)[40..48].try_into().unwrap())
}

#[test]
fn encodes_like_a_client() {
    // The same bytes as the client (Python, mode 3 version 4) that made the capture sent.
    assert_eq!(chrony_request().encode(), hex::<48>(CHRONY_REQUEST));
    let p = Request::new([0; 8]).encode();
    assert_eq!(p[0], 0x23, "LI 0, VN 4, mode 3");
    assert_eq!(&p[40..48], &1u64.to_be_bytes(), "a zero nonce becomes one");
}

#[test]
fn reads_chrony_reply() {
    let reply = chrony_request().check(&hex::<48>(CHRONY_REPLY)).unwrap();
    assert_eq!(reply.stratum, 3);
    assert_eq!(reply.version, 4);
    assert_eq!(reply.reference_id, [127, 127, 1, 1]);
    assert_eq!(reply.transmit.seconds(), 0xeebe_66ad);
    // 0xab84fc94 / 2^32 s = 0.66999 s.
    assert_eq!(reply.transmit.fraction_millis(), 669);
    assert_eq!(reply.transmit.unix_millis(BUILT), CHRONY_UNIX * 1000 + 669);
    // Receive and transmit 0.08 ms apart (the same millisecond): a 40 ms round trip puts the arrival 20 ms later.
    assert_eq!(reply.unix_millis(40, BUILT), CHRONY_UNIX * 1000 + 669 + 20);
    assert_eq!(reply.unix_millis(0, BUILT), CHRONY_UNIX * 1000 + 669);
    assert_eq!(Utc { unix: CHRONY_UNIX }.to_string(), "2026-12-05 10:32:13 UTC");
}

#[test]
fn refuses_what_a_client_must_not_believe() {
    let good = hex::<48>(CHRONY_REPLY);
    let req = chrony_request();
    let with = |f: &dyn Fn(&mut [u8; 48])| {
        let mut p = good;
        f(&mut p);
        req.check(&p)
    };
    assert_eq!(req.check(&good[..47]), Err(NtpError::Truncated(47)));
    assert_eq!(with(&|p| p[0] = 0x23), Err(NtpError::Mode(3)));
    assert_eq!(with(&|p| p[0] = 0x25), Err(NtpError::Mode(5)), "broadcast");
    assert_eq!(with(&|p| p[0] = 0x14), Err(NtpError::Version(2)));
    assert_eq!(with(&|p| p[0] = 0x2c), Err(NtpError::Version(5)));
    assert!(with(&|p| p[0] = 0x1c).is_ok(), "version 3 answers are fine");
    assert_eq!(with(&|p| p[31] ^= 1), Err(NtpError::NotOurs));
    assert_eq!(with(&|p| p[0] = 0xe4), Err(NtpError::Unsynchronised), "leap indicator 3");
    assert_eq!(with(&|p| p[1] = 16), Err(NtpError::Unsynchronised), "stratum 16");
    assert_eq!(with(&|p| p[40..48].fill(0)), Err(NtpError::NoTime));
    // A Kiss-o'-Death: chrony's reply with stratum 0 and the code in the reference id,
    // as RFC 5905 section 7.4 lays it out.
    let kod = with(&|p| {
        p[1] = 0;
        p[12..16].copy_from_slice(b"RATE");
    });
    assert_eq!(kod, Err(NtpError::KissOfDeath(*b"RATE")));
    assert_eq!(
        kod.unwrap_err().to_string(),
        "the NTP server sent a Kiss-o'-Death \"RATE\" (asking too often)"
    );
    assert_eq!(
        NtpError::KissOfDeath([b'D', b'E', 0, 0xff]).to_string(),
        "the NTP server sent a Kiss-o'-Death \"DE\\x00\\xff\" (refused)"
    );
    // A spoofed Kiss-o'-Death (not echoing our nonce) is not believed either.
    assert_eq!(
        with(&|p| {
            p[1] = 0;
            p[24] ^= 0x80;
        }),
        Err(NtpError::NotOurs)
    );
    // Extension fields after the header are ignored.
    let mut long = [0u8; 68];
    long[..48].copy_from_slice(&good);
    assert!(req.check(&long).is_ok());
}

#[test]
fn era_follows_the_pivot() {
    // The last second of era 0 and the first of era 1 (2036-02-07 06:28:16 UTC).
    let rollover = 2_085_978_496u64;
    assert_eq!(Timestamp(0xffff_ffff << 32).unix_millis(BUILT), (rollover - 1) * 1000);
    assert_eq!(Timestamp(0).unix_millis(BUILT), rollover * 1000);
    assert_eq!(Timestamp(5 << 32).unix_millis(BUILT), (rollover + 5) * 1000);
    // Seconds field 0x90000000 is 1976 in era 0 or 2112 in era 1: which one depends on
    // the pivot. Times are never put before the Unix epoch.
    let ts = Timestamp(0x9000_0000 << 32);
    assert_eq!(ts.unix_millis(BUILT), (0x9000_0000 - UNIX_EPOCH_NTP) * 1000);
    assert_eq!(ts.unix_millis(4_000_000_000), (0x1_9000_0000 - UNIX_EPOCH_NTP) * 1000);
    // The Unix epoch itself, from a pivot in 1970.
    assert_eq!(Timestamp(UNIX_EPOCH_NTP << 32).unix_millis(0), 0);
    // A time just before the pivot stays before it.
    let an_hour_earlier = Timestamp((BUILT - 3600 + UNIX_EPOCH_NTP) << 32);
    assert_eq!(an_hour_earlier.unix_millis(BUILT), (BUILT - 3600) * 1000);
}

#[test]
fn a_server_receiving_after_it_sends_counts_no_processing() {
    let mut p = hex::<48>(CHRONY_REPLY);
    // Receive one second after transmit.
    p[32..40].copy_from_slice(&(u64::from(0xeebe_66aeu32) << 32).to_be_bytes());
    let reply = chrony_request().check(&p).unwrap();
    assert_eq!(reply.unix_millis(100, BUILT), CHRONY_UNIX * 1000 + 669 + 50);
}

#[test]
fn formats_dates() {
    assert_eq!(Utc { unix: 0 }.to_string(), "1970-01-01 00:00:00 UTC");
    assert_eq!(Utc { unix: 978_307_212 }.to_string(), "2001-01-01 00:00:12 UTC");
    assert_eq!(Utc { unix: 951_782_400 }.to_string(), "2000-02-29 00:00:00 UTC");
    assert_eq!(Utc { unix: 2_085_978_496 }.to_string(), "2036-02-07 06:28:16 UTC");
    assert_eq!(Utc { unix: BUILT }.day().to_string(), "2026-12-05");
}

#[test]
fn splits_servers() {
    assert_eq!(split_server("pool.ntp.org"), Ok(("pool.ntp.org", 123)));
    assert_eq!(split_server("10.0.2.2:12323"), Ok(("10.0.2.2", 12323)));
    assert_eq!(split_server("10.0.2.2:x").unwrap_err(), "'10.0.2.2:x' has no valid port (ntp SERVER[:PORT])");
    assert!(split_server("10.0.2.2:0").is_err());
    assert!(split_server("10.0.2.2:65536").is_err());
    assert_eq!(split_server(":123").unwrap_err(), "':123' names no server (ntp SERVER[:PORT])");
    assert!(split_server("").is_err());
}

#[test]
fn formats_corrections() {
    assert_eq!(Correction(818_124_288_000).to_string(), "+9469 days 00:44:48");
    assert_eq!(Correction(-86_400_000).to_string(), "-1 days 00:00:00");
    assert_eq!(Correction(-3250).to_string(), "-3.250 s");
    assert_eq!(Correction(12).to_string(), "+12 ms");
    assert_eq!(Correction(0).to_string(), "+0 ms");
    assert_eq!(Correction(i64::MIN).to_string(), "-106751991167 days 07:12:55");
}
