//! The `serial` file: the next serial number, in hex, as OpenSSL keeps it.

use anyhow::{Result, bail};

/// A positive serial number of any length (OpenSSL's `-create_serial` makes 159-bit ones).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Serial(Vec<u8>);

impl Serial {
    /// Parses the hex text of the `serial` file or a `ca.idx` column.
    pub fn parse(text: &str) -> Result<Self> {
        let t = text.trim();
        if t.is_empty() || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
            // Short values are shown; a long one (a key pasted in the wrong file, say) is not.
            if t.len() <= 40 && t.chars().all(|c| c.is_ascii_graphic()) {
                bail!("'{t}' is not a hexadecimal serial number");
            }
            bail!("its {} characters are not a hexadecimal serial number", t.chars().count());
        }
        let padded = if !t.len().is_multiple_of(2) { format!("0{t}") } else { t.to_string() };
        let mut bytes: Vec<u8> = (0..padded.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&padded[i..i + 2], 16).expect("hex checked"))
            .collect();
        while bytes.len() > 1 && bytes[0] == 0 {
            bytes.remove(0);
        }
        Ok(Self(bytes))
    }

    /// Big-endian magnitude without leading zeros.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// Upper-case hex with an even number of digits, as OpenSSL writes it (`01`, `0A1B`).
    pub fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02X}")).collect()
    }

    /// The serial after this one.
    pub fn next(&self) -> Self {
        let mut bytes = self.0.clone();
        for b in bytes.iter_mut().rev() {
            let (v, carry) = b.overflowing_add(1);
            *b = v;
            if !carry {
                return Self(bytes);
            }
        }
        bytes.insert(0, 1);
        Self(bytes)
    }

    /// Whether this is zero (not a valid certificate serial).
    pub fn is_zero(&self) -> bool {
        self.0.iter().all(|&b| b == 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_format_increment() {
        assert_eq!(Serial::parse("01\n").unwrap().hex(), "01");
        assert_eq!(Serial::parse("1").unwrap().hex(), "01");
        assert_eq!(Serial::parse("00ff").unwrap().next().hex(), "0100");
        assert_eq!(Serial::parse("0A").unwrap().next().hex(), "0B");
        assert_eq!(Serial::parse("FFFF").unwrap().next().hex(), "010000");
        assert_eq!(Serial::parse("1f").unwrap(), Serial::parse("001F").unwrap());
        assert!(Serial::parse("00").unwrap().is_zero());
        assert!(Serial::parse("xyz").is_err());
        assert!(Serial::parse("").is_err());
    }
}
