//! A checked cursor over untrusted bytes, and the length-prefixed writers of TLS's
//! presentation language.
//!
//! Every read checks the remaining length first and fails with
//! [`LegacyError::Decode`] naming the message being read: no index can panic.

use alloc::vec::Vec;

use super::error::LegacyError;

/// A read position in a message being decoded.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    /// Reads `buf`, reporting failures as a malformed `what`.
    pub(crate) fn new(buf: &'a [u8], what: &'static str) -> Self {
        Self { buf, what }
    }

    fn error(&self) -> LegacyError {
        LegacyError::Decode { what: self.what }
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], LegacyError> {
        if n > self.buf.len() {
            return Err(self.error());
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, LegacyError> {
        Ok(self.take(1)?[0])
    }

    pub(crate) fn u16(&mut self) -> Result<u16, LegacyError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub(crate) fn u24(&mut self) -> Result<usize, LegacyError> {
        let b = self.take(3)?;
        Ok(usize::from(b[0]) << 16 | usize::from(b[1]) << 8 | usize::from(b[2]))
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], LegacyError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    /// A vector with a one-byte length prefix, as a reader of its own.
    pub(crate) fn vec8(&mut self) -> Result<Reader<'a>, LegacyError> {
        let n = usize::from(self.u8()?);
        Ok(Reader::new(self.take(n)?, self.what))
    }

    /// A vector with a two-byte length prefix, as a reader of its own.
    pub(crate) fn vec16(&mut self) -> Result<Reader<'a>, LegacyError> {
        let n = usize::from(self.u16()?);
        Ok(Reader::new(self.take(n)?, self.what))
    }

    /// A vector with a three-byte length prefix, as a reader of its own.
    pub(crate) fn vec24(&mut self) -> Result<Reader<'a>, LegacyError> {
        let n = self.u24()?;
        Ok(Reader::new(self.take(n)?, self.what))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub(crate) fn rest(&self) -> &'a [u8] {
        self.buf
    }

    /// Fails unless everything was read.
    pub(crate) fn end(&self) -> Result<(), LegacyError> {
        if self.buf.is_empty() { Ok(()) } else { Err(self.error()) }
    }
}

pub(crate) fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

pub(crate) fn put_u24(out: &mut Vec<u8>, v: usize) {
    out.extend_from_slice(&[(v >> 16) as u8, (v >> 8) as u8, v as u8]);
}

/// Appends `body` with a one-byte length prefix (callers keep it under 256 bytes).
pub(crate) fn put_vec8(out: &mut Vec<u8>, body: &[u8]) {
    out.push(body.len() as u8);
    out.extend_from_slice(body);
}

/// Appends `body` with a two-byte length prefix (callers keep it under 64 KiB).
pub(crate) fn put_vec16(out: &mut Vec<u8>, body: &[u8]) {
    put_u16(out, body.len() as u16);
    out.extend_from_slice(body);
}

/// Appends `body` with a three-byte length prefix.
pub(crate) fn put_vec24(out: &mut Vec<u8>, body: &[u8]) {
    put_u24(out, body.len());
    out.extend_from_slice(body);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_checked() {
        let mut r = Reader::new(&[0, 2, 1, 2], "test");
        let mut v = r.vec16().unwrap_or_else(|_| panic!("a two-byte vector"));
        assert!(v.u8().is_ok() && v.u8().is_ok());
        assert_eq!(v.u8(), Err(LegacyError::Decode { what: "test" }));
        assert!(r.end().is_ok());
        assert!(Reader::new(&[5, 1], "x").vec8().is_err());
        assert!(Reader::new(&[], "x").u24().is_err());
    }

    #[test]
    fn writers_prefix_lengths() {
        let mut out = Vec::new();
        put_vec8(&mut out, b"ab");
        put_vec16(&mut out, b"c");
        put_vec24(&mut out, b"");
        assert_eq!(out, [2, b'a', b'b', 0, 1, b'c', 0, 0, 0]);
    }
}
