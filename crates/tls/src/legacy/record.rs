//! The record layer: framing, the 16 KiB limits, and which protection each direction
//! has (none until ChangeCipherSpec, then CBC).
//!
//! Incoming bytes are parsed through a five-byte header view checked before any use;
//! partial records stay in the caller's buffer until the rest arrives.

use alloc::boxed::Box;
use alloc::vec::Vec;

use super::cipher::CbcProtection;
use super::error::LegacyError;
use crate::platform::RandomSource;

/// The largest plaintext fragment of a record (RFC 5246 §6.2.1).
pub(crate) const MAX_FRAGMENT: usize = 16384;
/// The largest protected fragment (RFC 5246 §6.2.3).
const MAX_CIPHERTEXT: usize = MAX_FRAGMENT + 2048;
const HEADER_LEN: usize = 5;

/// A record's content type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ContentType {
    ChangeCipherSpec = 20,
    Alert = 21,
    Handshake = 22,
    ApplicationData = 23,
}

impl ContentType {
    fn from_u8(v: u8) -> Result<Self, LegacyError> {
        Ok(match v {
            20 => Self::ChangeCipherSpec,
            21 => Self::Alert,
            22 => Self::Handshake,
            23 => Self::ApplicationData,
            other => return Err(LegacyError::UnknownContentType(other)),
        })
    }
}

/// A received record, decrypted.
#[derive(Debug)]
pub(crate) struct Record {
    pub(crate) typ: ContentType,
    pub(crate) payload: Vec<u8>,
}

/// The record header at the front of a buffer, checked: type known, TLS version, length
/// within the limit.
struct Header {
    typ: ContentType,
    version: u16,
    len: usize,
}

impl Header {
    /// `Ok(None)` while fewer than five bytes have arrived.
    fn parse(buf: &[u8], protected: bool) -> Result<Option<Self>, LegacyError> {
        let Some(h) = buf.get(..HEADER_LEN) else { return Ok(None) };
        let typ = ContentType::from_u8(h[0])?;
        let version = u16::from_be_bytes([h[1], h[2]]);
        if h[1] != 3 {
            return Err(LegacyError::NotTls { version });
        }
        let len = usize::from(u16::from_be_bytes([h[3], h[4]]));
        let limit = if protected { MAX_CIPHERTEXT } else { MAX_FRAGMENT };
        if len > limit {
            return Err(LegacyError::RecordOverflow { len });
        }
        Ok(Some(Self { typ, version, len }))
    }
}

/// Both directions' protection, and the version written in outgoing headers.
pub(crate) struct RecordLayer {
    // Boxed: AES key schedules are large, and the client is moved around by value.
    read: Option<Box<CbcProtection>>,
    write: Option<Box<CbcProtection>>,
    /// The version in outgoing record headers: TLS 1.0 for the ClientHello (what old
    /// servers expect), the negotiated one after the ServerHello.
    pub(crate) version: u16,
    rng: &'static dyn RandomSource,
}

impl RecordLayer {
    pub(crate) fn new(rng: &'static dyn RandomSource) -> Self {
        Self { read: None, write: None, version: 0x0301, rng }
    }

    /// Protects what is read from now on (after the server's ChangeCipherSpec).
    pub(crate) fn set_read(&mut self, p: Box<CbcProtection>) {
        self.read = Some(p);
    }

    /// Protects what is written from now on (after our ChangeCipherSpec).
    pub(crate) fn set_write(&mut self, p: Box<CbcProtection>) {
        self.write = Some(p);
    }

    /// Takes the next whole record from the front of `incoming` and decrypts it;
    /// `Ok(None)` until one has fully arrived.
    pub(crate) fn next_record(&mut self, incoming: &mut Vec<u8>) -> Result<Option<Record>, LegacyError> {
        let Some(h) = Header::parse(incoming, self.read.is_some())? else { return Ok(None) };
        let Some(fragment) = incoming.get(HEADER_LEN..HEADER_LEN + h.len) else { return Ok(None) };
        let payload = match &mut self.read {
            Some(p) => p.open(h.typ as u8, h.version, fragment)?,
            None => fragment.to_vec(),
        };
        incoming.drain(..HEADER_LEN + h.len);
        Ok(Some(Record { typ: h.typ, payload }))
    }

    /// Frames `data` as records of type `typ` (at most 16 KiB each, protected if the
    /// write side is) onto `out`. Empty data makes one empty record.
    pub(crate) fn write(
        &mut self,
        typ: ContentType,
        data: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), LegacyError> {
        let mut chunks = data.chunks(MAX_FRAGMENT);
        let first = chunks.next().unwrap_or(&[]);
        for chunk in core::iter::once(first).chain(chunks) {
            let sealed;
            let fragment = match &mut self.write {
                Some(p) => {
                    sealed = p.seal(typ as u8, self.version, chunk, self.rng)?;
                    &sealed[..]
                }
                None => chunk,
            };
            out.push(typ as u8);
            out.extend_from_slice(&self.version.to_be_bytes());
            out.extend_from_slice(&(fragment.len() as u16).to_be_bytes());
            out.extend_from_slice(fragment);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::legacy::suites::MacAlgorithm;

    #[derive(Debug)]
    struct Zero;
    impl RandomSource for Zero {
        fn fill(&self, buf: &mut [u8]) -> Result<(), crate::RngError> {
            buf.fill(0);
            Ok(())
        }
    }
    static ZERO: Zero = Zero;

    fn protection() -> Box<CbcProtection> {
        Box::new(CbcProtection::new(MacAlgorithm::Sha256, &[1; 32], &[2; 16], None).unwrap())
    }

    #[test]
    fn plaintext_records_split_and_reassemble() {
        let mut layer = RecordLayer::new(&ZERO);
        let mut wire = Vec::new();
        let data: Vec<u8> = (0..MAX_FRAGMENT + 10).map(|i| i as u8).collect();
        layer.write(ContentType::Handshake, &data, &mut wire).unwrap();
        // Fed a byte at a time, records come out only when complete.
        let mut incoming = Vec::new();
        let mut got = Vec::new();
        for b in wire {
            incoming.push(b);
            while let Some(r) = layer.next_record(&mut incoming).unwrap() {
                assert_eq!(r.typ, ContentType::Handshake);
                got.extend(r.payload);
            }
        }
        assert_eq!(got, data);
    }

    #[test]
    fn tampered_record_through_the_record_layer_is_bad_record_mac() {
        let mut tx = RecordLayer::new(&ZERO);
        tx.version = 0x0303;
        tx.set_write(protection());
        let mut wire = Vec::new();
        tx.write(ContentType::ApplicationData, b"GET /boot.ipxe HTTP/1.1\r\n", &mut wire).unwrap();
        let mut rx = RecordLayer::new(&ZERO);
        rx.set_read(protection());
        let mut good = wire.clone();
        assert_eq!(rx.next_record(&mut good).unwrap().unwrap().payload, b"GET /boot.ipxe HTTP/1.1\r\n");

        let last = wire.len() - 1;
        wire[last] ^= 0x80;
        let mut rx = RecordLayer::new(&ZERO);
        rx.set_read(protection());
        assert_eq!(rx.next_record(&mut wire).unwrap_err(), LegacyError::BadRecordMac);
    }

    #[test]
    fn bad_headers_are_refused() {
        let mut layer = RecordLayer::new(&ZERO);
        assert_eq!(
            layer.next_record(&mut alloc::vec![99, 3, 3, 0, 0]).unwrap_err(),
            LegacyError::UnknownContentType(99)
        );
        assert!(matches!(
            layer.next_record(&mut alloc::vec![22, 2, 0, 0, 0]),
            Err(LegacyError::NotTls { .. })
        ));
        assert!(matches!(
            layer.next_record(&mut alloc::vec![22, 3, 3, 0x40, 1]),
            Err(LegacyError::RecordOverflow { len: 16385 })
        ));
        assert!(layer.next_record(&mut alloc::vec![22, 3]).unwrap().is_none());
    }
}
