//! The client side of SNTP (RFC 4330, with RFC 5905's NTPv4 header), sans-IO.
//!
//! [`Request::new`] takes eight random bytes and [`Request::encode`] makes the 48-byte
//! client packet (version 4, mode 3) carrying them as its transmit timestamp. The server
//! copies that value into its reply's originate timestamp, so a reply that does not
//! echo it is not an answer to this request (RFC 5905's "bogus packet" check, and a
//! defence against off-path spoofing). [`Request::check`] reads a reply through a checked
//! view and refuses what a client must not believe: a wrong mode or version, an
//! unsynchronised server (leap indicator 3, stratum 16 or more), a Kiss-o'-Death
//! (stratum 0, whose four-letter code is reported), a zero transmit timestamp.
//! [`Reply::unix_millis`] turns the server's timestamps and the round trip the caller
//! measured into the time at the moment the reply arrived.
//!
//! NTP counts seconds from 1900 in 32 bits, which wrap on 2036-02-07 06:28:16 UTC.
//! The era is chosen as RFC 5905 suggests: the one that puts the time nearest a pivot
//! the caller trusts (the firmware passes its own build date), so the code keeps working
//! across the rollover for 68 years either side of that date.
//!
//! Not `sntpc` (0.11): it drives the exchange itself through its own socket trait, and
//! stamps requests with the client's clock and computes the offset from it, where this
//! crate leaves sockets and clocks to the caller and needs no client time at all (the
//! firmware's is the one that is wrong).
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;

use alloc::string::String;
use core::fmt;

/// The NTP port.
pub const PORT: u16 = 123;
/// Length of an NTP packet without extension fields or MAC.
pub const PACKET_LEN: usize = 48;
/// Seconds from 1900-01-01 (the NTP epoch) to 1970-01-01 (the Unix epoch).
pub const UNIX_EPOCH_NTP: u64 = 2_208_988_800;

/// A 64-bit NTP timestamp: seconds since the era's start (32 bits) and a fraction of a
/// second in units of 2^-32 s.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// The seconds field.
    pub fn seconds(self) -> u32 {
        (self.0 >> 32) as u32
    }

    /// The fraction in milliseconds (rounded down).
    pub fn fraction_millis(self) -> u64 {
        ((self.0 & 0xffff_ffff) * 1000) >> 32
    }

    /// Milliseconds since the Unix epoch, in the era that puts the time within 2^31
    /// seconds of `pivot_unix` (seconds since the Unix epoch); never before the Unix
    /// epoch, so for a pivot before 2038 the window is 1970 to 2106.
    pub fn unix_millis(self, pivot_unix: u64) -> u64 {
        // The Unix time modulo 2^32 this timestamp gives, then the value congruent to it
        // nearest the pivot.
        let low = (u64::from(self.seconds()) + (1 << 32) - (UNIX_EPOCH_NTP % (1 << 32))) % (1 << 32);
        let base = pivot_unix.saturating_sub(1 << 31);
        // The smallest t >= base with t = low (mod 2^32).
        let secs = base.saturating_add((low + (1 << 32) - base % (1 << 32)) % (1 << 32));
        secs.saturating_mul(1000).saturating_add(self.fraction_millis())
    }
}

/// Why a reply was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NtpError {
    /// Shorter than an NTP header.
    Truncated(usize),
    /// Not a server's reply (mode 4).
    Mode(u8),
    /// A version other than 3 or 4.
    Version(u8),
    /// The originate timestamp does not echo the request's transmit timestamp: a reply
    /// to another request, or forged.
    NotOurs,
    /// Stratum 0: the server refuses to serve (RFC 5905 section 7.4), with its code.
    KissOfDeath([u8; 4]),
    /// The server's own clock is not synchronised (leap indicator 3, or stratum 16 and up).
    Unsynchronised,
    /// The transmit timestamp is zero.
    NoTime,
}

impl NtpError {
    /// What a Kiss-o'-Death code means (RFC 5905 figure 13), for the codes a client may meet.
    fn kiss_meaning(code: &[u8; 4]) -> &'static str {
        match code {
            b"DENY" | b"RSTR" => "access denied",
            b"RATE" => "asking too often",
            b"INIT" => "not yet synchronised",
            b"STEP" => "its clock just stepped",
            b"AUTH" | b"CRYP" | b"AUTO" | b"NKEY" => "authentication required or failed",
            _ => "refused",
        }
    }
}

impl fmt::Display for NtpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated(n) => write!(f, "the NTP reply is {n} bytes, shorter than the 48-byte header"),
            Self::Mode(m) => write!(f, "the NTP reply has mode {m}, not 4 (server)"),
            Self::Version(v) => write!(f, "the NTP reply has version {v}, not 3 or 4"),
            Self::NotOurs => {
                f.write_str("the NTP reply does not answer our request (originate timestamp differs)")
            }
            Self::KissOfDeath(code) => {
                f.write_str("the NTP server sent a Kiss-o'-Death \"")?;
                for &b in code {
                    if b.is_ascii_graphic() || b == b' ' {
                        write!(f, "{}", b as char)?;
                    } else {
                        write!(f, "\\x{b:02x}")?;
                    }
                }
                write!(f, "\" ({})", Self::kiss_meaning(code))
            }
            Self::Unsynchronised => f.write_str("the NTP server's clock is not synchronised"),
            Self::NoTime => f.write_str("the NTP reply carries no time (transmit timestamp zero)"),
        }
    }
}

/// A request sent, remembered to check its reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request {
    nonce: u64,
}

impl Request {
    /// A request whose transmit timestamp is `nonce` (eight random bytes). A zero nonce
    /// would be indistinguishable from "no time": its lowest bit is set instead.
    pub fn new(nonce: [u8; 8]) -> Self {
        let n = u64::from_be_bytes(nonce);
        Self { nonce: if n == 0 { 1 } else { n } }
    }

    /// The client packet: leap indicator 0, version 4, mode 3; everything else zero but
    /// the transmit timestamp, which carries the nonce (RFC 4330 section 5: the server
    /// only copies it, so it need not be the client's time, which is wrong anyway when
    /// this is used).
    pub fn encode(&self) -> [u8; PACKET_LEN] {
        let mut p = [0u8; PACKET_LEN];
        p[0] = (4 << 3) | 3;
        p[40..48].copy_from_slice(&self.nonce.to_be_bytes());
        p
    }

    /// Checks a reply to this request.
    pub fn check(&self, bytes: &[u8]) -> Result<Reply, NtpError> {
        let p = Packet::new_checked(bytes)?;
        if p.mode() != 4 {
            return Err(NtpError::Mode(p.mode()));
        }
        if !matches!(p.version(), 3 | 4) {
            return Err(NtpError::Version(p.version()));
        }
        if p.originate().0 != self.nonce {
            return Err(NtpError::NotOurs);
        }
        match p.stratum() {
            0 => return Err(NtpError::KissOfDeath(p.reference_id())),
            16.. => return Err(NtpError::Unsynchronised),
            _ => {}
        }
        if p.leap() == 3 {
            return Err(NtpError::Unsynchronised);
        }
        if p.transmit().0 == 0 {
            return Err(NtpError::NoTime);
        }
        Ok(Reply {
            stratum: p.stratum(),
            version: p.version(),
            reference_id: p.reference_id(),
            receive: p.receive(),
            transmit: p.transmit(),
        })
    }
}

/// A view of an NTP packet whose length was checked once.
struct Packet<'a>(&'a [u8]);

impl<'a> Packet<'a> {
    fn new_checked(bytes: &'a [u8]) -> Result<Self, NtpError> {
        if bytes.len() < PACKET_LEN {
            return Err(NtpError::Truncated(bytes.len()));
        }
        Ok(Self(bytes))
    }

    fn leap(&self) -> u8 {
        self.0[0] >> 6
    }

    fn version(&self) -> u8 {
        (self.0[0] >> 3) & 7
    }

    fn mode(&self) -> u8 {
        self.0[0] & 7
    }

    fn stratum(&self) -> u8 {
        self.0[1]
    }

    fn reference_id(&self) -> [u8; 4] {
        [self.0[12], self.0[13], self.0[14], self.0[15]]
    }

    fn timestamp(&self, at: usize) -> Timestamp {
        let mut b = [0u8; 8];
        b.copy_from_slice(&self.0[at..at + 8]);
        Timestamp(u64::from_be_bytes(b))
    }

    fn originate(&self) -> Timestamp {
        self.timestamp(24)
    }

    fn receive(&self) -> Timestamp {
        self.timestamp(32)
    }

    fn transmit(&self) -> Timestamp {
        self.timestamp(40)
    }
}

/// A reply that passed the checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reply {
    /// The server's stratum (1 for a reference clock, ...).
    pub stratum: u8,
    /// The version it answered with.
    pub version: u8,
    /// Its reference identifier (a clock's code at stratum 1, else an address).
    pub reference_id: [u8; 4],
    /// When the server received the request.
    pub receive: Timestamp,
    /// When it sent the reply.
    pub transmit: Timestamp,
}

impl Reply {
    /// The time (milliseconds since the Unix epoch) at the moment the reply arrived,
    /// given the round trip the client measured on its own clock from sending the
    /// request to receiving this, in milliseconds: the server's transmit time plus half
    /// the network delay (the round trip less the server's own processing time).
    /// `pivot_unix` picks the era (see [`Timestamp::unix_millis`]).
    pub fn unix_millis(&self, round_trip_ms: u64, pivot_unix: u64) -> u64 {
        let transmit = self.transmit.unix_millis(pivot_unix);
        let receive = self.receive.unix_millis(pivot_unix);
        // A server's receive time after its transmit time is nonsense: count no processing.
        let processing = transmit.saturating_sub(receive).min(round_trip_ms);
        transmit.saturating_add((round_trip_ms - processing) / 2)
    }
}

/// Splits `ntp`'s argument, `HOST` or `HOST:PORT` (the port is an extension of iPXE's
/// `ntp SERVER`, for servers not on port 123), into host and port.
pub fn split_server(server: &str) -> Result<(&str, u16), String> {
    let (host, port) = match server.rsplit_once(':') {
        Some((host, port)) => {
            let port = port.parse::<u16>().ok().filter(|&p| p != 0);
            (host, port.ok_or_else(|| alloc::format!("'{server}' has no valid port (ntp SERVER[:PORT])"))?)
        }
        None => (server, PORT),
    };
    if host.is_empty() {
        return Err(alloc::format!("'{server}' names no server (ntp SERVER[:PORT])"));
    }
    Ok((host, port))
}

/// A correction of the clock in milliseconds, for messages: `+9469 days 10:44:48`,
/// `-3.250 s`, `+12 ms`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Correction(pub i64);

impl fmt::Display for Correction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { '-' } else { '+' };
        let abs = self.0.unsigned_abs();
        let secs = abs / 1000;
        if secs >= 86_400 {
            let s = secs % 86_400;
            write!(f, "{sign}{} days {:02}:{:02}:{:02}", secs / 86_400, s / 3600, s / 60 % 60, s % 60)
        } else if secs > 0 {
            write!(f, "{sign}{secs}.{:03} s", abs % 1000)
        } else {
            write!(f, "{sign}{abs} ms")
        }
    }
}

/// A date and time of day in UTC, for messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Utc {
    /// Seconds since the Unix epoch.
    pub unix: u64,
}

impl Utc {
    /// Year, month (1-12), day (1-31) of the date.
    pub fn date(&self) -> (i64, u32, u32) {
        // Howard Hinnant's civil_from_days.
        let z = (self.unix / 86_400) as i64 + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        (year, month, day)
    }

    /// Only the date, `YYYY-MM-DD`.
    pub fn day(&self) -> impl fmt::Display {
        let (y, m, d) = self.date();
        DayOnly(y, m, d)
    }
}

struct DayOnly(i64, u32, u32);

impl fmt::Display for DayOnly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.0, self.1, self.2)
    }
}

impl fmt::Display for Utc {
    /// `YYYY-MM-DD HH:MM:SS UTC`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.unix % 86_400;
        write!(f, "{} {:02}:{:02}:{:02} UTC", self.day(), s / 3600, s / 60 % 60, s % 60)
    }
}

#[cfg(test)]
mod tests;
