//! Showing untrusted text on a terminal or the firmware console.
//!
//! Names in certificates, signer names in signatures, CRL issuers, URLs, settings and
//! script lines come from whoever made the file or answered on the network. Printed as
//! they are, their control characters would move the cursor, clear the screen or retitle
//! the window, and Unicode's bidirectional overrides would reorder what is shown, so a
//! failure could be drawn over with "signature OK". [`escape`] makes every such
//! character visible instead: `\x1b`, `\r`, `\u{9b}`, `\u{202e}`, and a literal
//! backslash as `\\`, so the escaped form cannot be forged by the text itself.
//!
//! [`escape_controls`] is the same without doubling backslashes, for text that is already
//! in an escaped notation (RFC 4514 names, which write `\,` and `\1b`) or that was put
//! together from escaped parts (a whole message, just before the console).
//!
//! Printable text, non-ASCII letters included, passes through unchanged.

use core::fmt;

/// Text shown with its terminal-controlling characters escaped: see [`escape`].
#[derive(Clone, Copy, Debug)]
pub struct Escaped<'a> {
    text: &'a str,
    backslash: bool,
}

/// `text` for a terminal: C0 controls, DEL, C1 controls and the Unicode direction
/// overrides, isolates and marks as escapes (`\x1b`, `\t`, `\r`, `\n`, `\u{85}`,
/// `\u{202e}`), and `\` as `\\`.
pub fn escape(text: &str) -> Escaped<'_> {
    Escaped { text, backslash: true }
}

/// As [`escape`], but a backslash stays as it is: for text already escaped by its own
/// rules (RFC 4514 distinguished names) or assembled from parts escaped with [`escape`].
pub fn escape_controls(text: &str) -> Escaped<'_> {
    Escaped { text, backslash: false }
}

/// Whether a terminal would act on `c` rather than show it: C0 controls, DEL, C1
/// controls, the bidirectional formatting characters (LRE, RLE, PDF, LRO, RLO, LRI, RLI,
/// FSI, PDI, and the marks LRM, RLM and ALM) and the line and paragraph separators.
pub fn is_unsafe(c: char) -> bool {
    matches!(
        c,
        '\u{0}'..='\u{1f}'
            | '\u{7f}'..='\u{9f}'
            | '\u{61c}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
    )
}

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.text;
        // Runs of plain text are written in one piece.
        while let Some((at, c)) =
            rest.char_indices().find(|&(_, c)| is_unsafe(c) || (self.backslash && c == '\\'))
        {
            f.write_str(&rest[..at])?;
            match c {
                '\\' => f.write_str("\\\\")?,
                '\t' => f.write_str("\\t")?,
                '\n' => f.write_str("\\n")?,
                '\r' => f.write_str("\\r")?,
                c if (c as u32) < 0x80 => write!(f, "\\x{:02x}", c as u32)?,
                c => write!(f, "\\u{{{:x}}}", c as u32)?,
            }
            rest = &rest[at + c.len_utf8()..];
        }
        f.write_str(rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn controls_and_overrides_are_escaped() {
        let hostile =
            "A\x1b[2J\x1b[1;1Hsignature OK\r\n\t\x07\x7f\u{85}\u{9b}\u{202e}gpj.exe\u{2066}x\u{2069}";
        assert_eq!(
            escape(hostile).to_string(),
            "A\\x1b[2J\\x1b[1;1Hsignature OK\\r\\n\\t\\x07\\x7f\\u{85}\\u{9b}\\u{202e}gpj.exe\\u{2066}x\\u{2069}"
        );
        let out = escape(hostile).to_string();
        assert!(!out.chars().any(is_unsafe), "{out}");
        for c in ['\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}', '\u{2067}', '\u{2068}', '\u{0}', '\u{1f}'] {
            assert!(is_unsafe(c), "{c:?}");
        }
    }

    #[test]
    fn backslashes_are_doubled_so_escapes_cannot_be_faked() {
        // A name that spells out an escape is shown differently from one holding the character.
        assert_eq!(escape("a\\x1b").to_string(), "a\\\\x1b");
        assert_ne!(escape("a\\x1b").to_string(), escape("a\x1b").to_string());
        assert_eq!(escape_controls("CN=a\\,b\x1b").to_string(), "CN=a\\,b\\x1b");
    }

    #[test]
    fn printable_text_passes_unchanged() {
        for plain in
            ["", "CN=Build CA", "chain http://${next-server}/boot.ipxe", "Zürich 東京 ünïcödé", "é\u{200d}"]
        {
            assert_eq!(escape(plain).to_string(), plain);
        }
    }
}
