//! Times as the CA database and certificates spell them.
//!
//! Everything is whole seconds since the Unix epoch (UTC). Certificates use UTCTime
//! up to 2049 and GeneralizedTime from 2050 (RFC 5280 §4.1.2.5); `ca.idx` stores the
//! same text OpenSSL writes (`YYMMDDHHMMSSZ`, or `YYYYMMDDHHMMSSZ` from 2050).

use std::time::Duration;

use anyhow::{Context, Result, bail};
use der::DateTime;
use der::asn1::{GeneralizedTime, UtcTime};
use x509_cert::time::Time;

/// Seconds in a day.
pub const DAY: u64 = 86_400;

fn datetime(secs: u64) -> Result<DateTime> {
    DateTime::from_unix_duration(Duration::from_secs(secs))
        .with_context(|| format!("time {secs} is out of the range certificates can hold"))
}

/// An X.509 `Time` for `secs`.
pub fn x509_time(secs: u64) -> Result<Time> {
    let dt = datetime(secs)?;
    Ok(if dt.year() < 2050 {
        Time::UtcTime(UtcTime::from_date_time(dt)?)
    } else {
        Time::GeneralTime(GeneralizedTime::from_date_time(dt))
    })
}

/// Seconds since the epoch of an X.509 `Time`.
pub fn from_x509_time(t: &Time) -> u64 {
    t.to_unix_duration().as_secs()
}

/// The `ca.idx` spelling of `secs`.
pub fn index_time(secs: u64) -> Result<String> {
    let dt = datetime(secs)?;
    let rest =
        format!("{:02}{:02}{:02}{:02}{:02}Z", dt.month(), dt.day(), dt.hour(), dt.minutes(), dt.seconds());
    Ok(if dt.year() < 2050 {
        format!("{:02}{rest}", dt.year() % 100)
    } else {
        format!("{:04}{rest}", dt.year())
    })
}

/// Parses a `ca.idx` time (UTCTime or GeneralizedTime text).
pub fn parse_index_time(text: &str) -> Result<u64> {
    let digits = text.strip_suffix('Z').unwrap_or("");
    let n = |s: &str| s.parse::<u16>().ok();
    let (year, rest) = match digits.len() {
        12 => {
            let yy = n(&digits[..2]).unwrap_or(99);
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &digits[2..])
        }
        14 => (n(&digits[..4]).unwrap_or(0), &digits[4..]),
        _ => bail!("'{text}' is not a time in YYMMDDHHMMSSZ form"),
    };
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        bail!("'{text}' is not a time in YYMMDDHHMMSSZ form");
    }
    let part = |i: usize| rest[i..i + 2].parse::<u8>().unwrap_or(255);
    let dt = DateTime::new(year, part(0), part(2), part(4), part(6), part(8))
        .map_err(|_| anyhow::anyhow!("'{text}' is not a valid date and time"))?;
    Ok(dt.unix_duration().as_secs())
}

/// `YYYY-MM-DD` for people.
pub fn date(secs: u64) -> String {
    match datetime(secs) {
        Ok(dt) => format!("{:04}-{:02}-{:02}", dt.year(), dt.month(), dt.day()),
        Err(_) => "?".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_time_round_trips_in_both_forms() {
        // 2026-11-25 00:15:00 UTC and 2051-01-02 03:04:05 UTC.
        for (secs, text) in [(1_795_565_700, "261125001500Z"), (2_556_241_445, "20510102030405Z")] {
            assert_eq!(index_time(secs).unwrap(), text);
            assert_eq!(parse_index_time(text).unwrap(), secs);
        }
        assert!(matches!(x509_time(1_795_565_700).unwrap(), Time::UtcTime(_)));
        assert!(matches!(x509_time(2_556_241_445).unwrap(), Time::GeneralTime(_)));
        assert_eq!(date(1_795_565_700), "2026-11-25");
    }

    #[test]
    fn bad_index_times() {
        for t in ["", "2611250015Z", "261325001500Z", "26112500150xZ", "261125001500"] {
            assert!(parse_index_time(t).is_err(), "{t}");
        }
    }
}

/// Parses a time given on the command line: RFC 3339 in full (`2027-01-31T12:00:00Z`,
/// `2027-01-31t12:00:00.250+02:00`, lower-case `t`/`z`, fractional seconds, which are
/// dropped), the same with a space for the `T` or without a zone (taken as UTC), a bare
/// date `2027-01-31` (midnight UTC), or `@SECONDS` since the epoch.
pub fn parse_user_time(text: &str) -> Result<u64> {
    let t = text.trim();
    if let Some(secs) = t.strip_prefix('@') {
        return secs.parse().with_context(|| format!("'{text}' is not @SECONDS"));
    }
    let bad = || {
        anyhow::anyhow!(
            "'{text}' is not a time: use YYYY-MM-DD, RFC 3339 (YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)) or @SECONDS"
        )
    };
    let (date, rest) = match t.split_once(['T', 't', ' ']) {
        Some((d, r)) => (d, Some(r)),
        None => (t, None),
    };
    let digits = |s: &str, n: usize| -> Result<u16> {
        if s.len() != n || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        s.parse::<u16>().map_err(|_| bad())
    };
    let d: Vec<&str> = date.split('-').collect();
    if d.len() != 3 {
        return Err(bad());
    }
    let (year, month, day) = (digits(d[0], 4)?, digits(d[1], 2)?, digits(d[2], 2)?);
    let (mut hms, mut offset) = ([0u16; 3], 0i64);
    if let Some(rest) = rest {
        // The zone: Z, z, +HH:MM or -HH:MM; none means UTC.
        let (clock, zone) = match rest.find(['Z', 'z', '+', '-']) {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        offset = match zone {
            "" | "Z" | "z" => 0,
            _ => {
                let sign = if zone.starts_with('-') { -1 } else { 1 };
                let (h, m) = zone[1..].split_once(':').ok_or_else(bad)?;
                let (h, m) = (digits(h, 2)?, digits(m, 2)?);
                if h > 23 || m > 59 {
                    return Err(bad());
                }
                sign * (i64::from(h) * 3600 + i64::from(m) * 60)
            }
        };
        let clock = match clock.split_once('.') {
            Some((c, frac)) if !frac.is_empty() && frac.bytes().all(|b| b.is_ascii_digit()) => c,
            Some(_) => return Err(bad()),
            None => clock,
        };
        let parts: Vec<&str> = clock.split(':').collect();
        if parts.len() != 3 {
            return Err(bad());
        }
        for (slot, part) in hms.iter_mut().zip(&parts) {
            *slot = digits(part, 2)?;
        }
        // A leap second (":60") is read as the last second of its minute.
        hms[2] = hms[2].min(59);
    }
    let dt = DateTime::new(year, month as u8, day as u8, hms[0] as u8, hms[1] as u8, hms[2] as u8)
        .map_err(|_| bad())?;
    let local = i64::try_from(dt.unix_duration().as_secs()).map_err(|_| bad())?;
    u64::try_from(local - offset).map_err(|_| bad())
}

#[cfg(test)]
mod user_time_tests {
    use super::*;

    #[test]
    fn forms() {
        assert_eq!(parse_user_time("2026-11-25").unwrap(), 1_795_564_800);
        assert_eq!(parse_user_time("2026-11-25T00:15:00Z").unwrap(), 1_795_565_700);
        assert_eq!(parse_user_time("2026-11-25 00:15:00").unwrap(), 1_795_565_700);
        assert_eq!(parse_user_time("@1795565700").unwrap(), 1_795_565_700);
        // RFC 3339: offsets, fractions, lower case.
        assert_eq!(parse_user_time("2026-11-25T00:15:00+00:00").unwrap(), 1_795_565_700);
        assert_eq!(parse_user_time("2026-11-25T02:15:00+02:00").unwrap(), 1_795_565_700);
        assert_eq!(parse_user_time("2026-11-24T19:15:00-05:00").unwrap(), 1_795_565_700);
        assert_eq!(parse_user_time("2026-11-25t00:15:00.999z").unwrap(), 1_795_565_700);
        assert_eq!(parse_user_time("2026-11-25T00:15:00.5Z").unwrap(), 1_795_565_700);
        assert_eq!(parse_user_time("2016-12-31T23:59:60Z").unwrap(), 1_483_228_799);
        for bad in [
            "2026-13-01",
            "yesterday",
            "2026-11",
            "@x",
            "2026-11-25T00:15Z",
            "2026-11-25T00:15:00.Z",
            "2026-11-25T00:15:00+0200",
            "2026-11-25T00:15:00+24:00",
            "26-11-25",
            "2026-11-25T0:15:00Z",
        ] {
            assert!(parse_user_time(bad).is_err(), "{bad}");
        }
    }
}
