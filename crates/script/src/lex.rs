//! Lines, labels, `${...}` expansion and word splitting, as iPXE reads a script.
//!
//! A script is lines; `#` starts a comment line, `:name` is a label. When a line runs,
//! it is split into words at whitespace, honouring double quotes and backslash escapes,
//! and only then are settings expanded inside each word (`${name}`, `${net0/name}`,
//! `${name:type}`; unknown names expand to nothing). A value can therefore never become
//! script syntax: a DHCP boot file name containing `|| imgtrust --allow` stays one word.
//! (iPXE expands first and splits after, which lets such values inject commands.)
//! Unquoted `||` and `&&` are operators.

use alloc::string::String;
use alloc::vec::Vec;

/// One line of a script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// Blank, a comment, or the `#!ipxe` signature.
    Nothing,
    /// `:label`.
    Label(&'a str),
    /// A command line, unexpanded.
    Command(&'a str),
}

/// Classifies each line of `script`.
pub fn lines(script: &str) -> Vec<Line<'_>> {
    script
        .lines()
        .map(|raw| {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                Line::Nothing
            } else if let Some(label) = line.strip_prefix(':') {
                Line::Label(label.trim())
            } else {
                Line::Command(line)
            }
        })
        .collect()
}

/// Expands `${...}` references with `lookup`. An unterminated `${` is kept as text.
pub fn expand(line: &str, lookup: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) => {
                let name = &after[..end];
                // `${name:type}`: the type only changes formatting, which we keep as stored.
                let name = name.split(':').next().unwrap_or(name);
                if let Some(value) = lookup(name) {
                    out.push_str(&value);
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Why a line could not be split.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SplitError {
    /// A double quote was not closed.
    UnclosedQuote,
}

/// A word of a line, and whether any part of it was quoted or escaped (a quoted `||`
/// is an argument, not an operator).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    /// The word with quotes and escapes removed.
    pub text: String,
    /// Whether it contained quotes or escapes.
    pub quoted: bool,
}

/// Splits a line into words.
pub fn split(line: &str) -> Result<Vec<String>, SplitError> {
    Ok(tokens(line)?.into_iter().map(|t| t.text).collect())
}

/// Splits a line into tokens.
pub fn tokens(line: &str) -> Result<Vec<Token>, SplitError> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quoted = false;
    let mut marked = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    word.push(next);
                }
                in_word = true;
                marked = true;
            }
            '"' => {
                quoted = !quoted;
                in_word = true;
                marked = true;
            }
            c if c.is_whitespace() && !quoted => {
                if in_word {
                    words.push(Token { text: core::mem::take(&mut word), quoted: marked });
                    in_word = false;
                    marked = false;
                }
            }
            c => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if quoted {
        return Err(SplitError::UnclosedQuote);
    }
    if in_word {
        words.push(Token { text: word, quoted: marked });
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn classify() {
        let s = "#!ipxe\n\n# note\n:start\n  echo hi  \n";
        assert_eq!(
            lines(s),
            vec![Line::Nothing, Line::Nothing, Line::Nothing, Line::Label("start"), Line::Command("echo hi")]
        );
    }

    #[test]
    fn expansion() {
        let lookup = |n: &str| match n {
            "next-server" => Some("10.0.2.2".into()),
            "net0/mac" => Some("52:54:00:12:34:56".into()),
            _ => None,
        };
        assert_eq!(
            expand("http://${next-server}/boot/${net0/mac:hexhyp}.ipxe", &lookup),
            "http://10.0.2.2/boot/52:54:00:12:34:56.ipxe"
        );
        assert_eq!(expand("a${missing}b", &lookup), "ab");
        assert_eq!(expand("open ${brace", &lookup), "open ${brace");
    }

    #[test]
    fn splitting() {
        assert_eq!(
            split("  kernel  http://x/vmlinuz   console=ttyS0 ").unwrap(),
            vec!["kernel", "http://x/vmlinuz", "console=ttyS0"]
        );
        assert_eq!(
            split(r#"echo "two words" a\ b "" end"#).unwrap(),
            vec!["echo", "two words", "a b", "", "end"]
        );
        assert_eq!(split("dhcp || goto retry").unwrap(), vec!["dhcp", "||", "goto", "retry"]);
        assert_eq!(split("echo \"open"), Err(SplitError::UnclosedQuote));
        let t = tokens(r#"a "||" \&& ||"#).unwrap();
        assert_eq!(t.iter().map(|t| t.quoted).collect::<Vec<_>>(), [false, true, true, false]);
    }
}
