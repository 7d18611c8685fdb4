//! Lines, labels, words and command separators, exactly as iPXE reads a script.
//!
//! - A physical line ends at `\n`; one trailing `\r` is dropped. A line ending in `\`
//!   continues on the next one (the backslash goes, nothing is put in its place).
//! - After leading whitespace, `:name` is a label; whatever follows it on the line is a
//!   command that runs when execution reaches the line, by `goto` or in order.
//! - A command line is split into words at whitespace only. There is no quoting and no
//!   escaping: `"` and `\` are ordinary characters, so `nuke="dwipe --autonuke"` reaches a
//!   kernel command line as the two words `nuke="dwipe` and `--autonuke"`, joined again
//!   by a space, exactly as written.
//! - The words `||`, `&&` and `;` separate commands: the next command runs after a
//!   failure, after a success, or always. An empty command (as in `dhcp ||`) succeeds.
//!   A word starting with `#` ends the line (the rest is a comment).
//! - Settings are expanded inside each word after the line is split
//!   ([`expand`](crate::expand)), so a value can never become syntax: a DHCP boot file
//!   name containing `|| imgtrust --allow` stays one argument. iPXE does the same.

use alloc::string::String;
use alloc::vec::Vec;

/// One logical line of a script (physical lines joined by `\` continuations).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// The number (from 1) of the first physical line it came from.
    pub number: usize,
    /// The label, for a line starting `:label`.
    pub label: Option<String>,
    /// The command text (after the label, if any), unexpanded; may be empty.
    pub command: String,
}

/// iPXE's `isspace`: space, `\t`, `\n`, `\v`, `\f`, `\r`.
pub fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r')
}

/// The logical lines of `script`.
pub fn lines(script: &str) -> Vec<Line> {
    let mut out = Vec::new();
    let mut pending = String::new();
    let mut first = None;
    let mut physical = script.split('\n').enumerate().peekable();
    while let Some((i, raw)) = physical.next() {
        // The text after the last newline is a line only if it is not empty.
        if physical.peek().is_none() && raw.is_empty() && first.is_none() {
            break;
        }
        let number = *first.get_or_insert(i + 1);
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if let Some(joined) = raw.strip_suffix('\\') {
            pending.push_str(joined);
            if physical.peek().is_some() {
                continue;
            }
        } else {
            pending.push_str(raw);
        }
        out.push(split_label(number, core::mem::take(&mut pending)));
        first = None;
    }
    out
}

/// Splits a logical line into its label (if it starts with `:`) and its command.
fn split_label(number: usize, text: String) -> Line {
    let trimmed = text.trim_start_matches(is_space);
    let Some(rest) = trimmed.strip_prefix(':') else {
        return Line { number, label: None, command: text };
    };
    let (label, command) = match rest.find(is_space) {
        // iPXE ends the label at the first whitespace character and drops that one.
        Some(end) => (&rest[..end], &rest[end + rest[end..].chars().next().map_or(0, char::len_utf8)..]),
        None => (rest, ""),
    };
    Line { number, label: Some(label.into()), command: command.into() }
}

/// The words of a command line, split at whitespace.
pub fn words(command: &str) -> Vec<&str> {
    command.split(is_space).filter(|w| !w.is_empty()).collect()
}

/// When the command after a separator runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Then {
    /// `||`: after a failure.
    OnFailure,
    /// `&&`: after a success.
    OnSuccess,
    /// `;`: always.
    Always,
}

/// One command of a line and what decides whether the next one runs (`None`: the line
/// ends here).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Command<'a> {
    /// Its words, unexpanded; empty for an empty command.
    pub words: Vec<&'a str>,
    /// The separator after it.
    pub then: Option<Then>,
}

/// Splits a command line into commands at `||`, `&&` and `;`, up to a word starting
/// with `#`.
pub fn commands(command: &str) -> Vec<Command<'_>> {
    let mut out = Vec::new();
    let mut current = Vec::new();
    for word in words(command) {
        let then = match word {
            "||" => Then::OnFailure,
            "&&" => Then::OnSuccess,
            ";" => Then::Always,
            w if w.starts_with('#') => break,
            w => {
                current.push(w);
                continue;
            }
        };
        out.push(Command { words: core::mem::take(&mut current), then: Some(then) });
    }
    out.push(Command { words: current, then: None });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn line(number: usize, label: Option<&str>, command: &str) -> Line {
        Line { number, label: label.map(Into::into), command: command.into() }
    }

    #[test]
    fn lines_labels_and_continuations() {
        let s = "#!ipxe\r\n\n:start\n  :retry dhcp || goto retry\nkernel http://x/k \\\n  quiet \\\r\n  splash\necho end";
        assert_eq!(
            lines(s),
            vec![
                line(1, None, "#!ipxe"),
                line(2, None, ""),
                line(3, Some("start"), ""),
                line(4, Some("retry"), "dhcp || goto retry"),
                line(5, None, "kernel http://x/k   quiet   splash"),
                line(8, None, "echo end"),
            ]
        );
        // A final newline ends the last line; it does not start another.
        assert_eq!(lines("echo a\n").len(), 1);
        // A continuation on the last line ends the script.
        assert_eq!(lines("echo a \\"), vec![line(1, None, "echo a ")]);
        // The label ends at the first whitespace, tabs included.
        assert_eq!(lines(":menu\techo hi"), vec![line(1, Some("menu"), "echo hi")]);
    }

    #[test]
    fn words_split_at_whitespace_only() {
        assert_eq!(
            words("  kernel  http://x/vmlinuz \t console=ttyS0 "),
            ["kernel", "http://x/vmlinuz", "console=ttyS0"]
        );
        // No quoting or escaping: iPXE passes quotes and backslashes through.
        assert_eq!(
            words(r#"set nuke nuke="dwipe --autonuke" a\ b"#),
            ["set", "nuke", "nuke=\"dwipe", "--autonuke\"", "a\\", "b"]
        );
        assert_eq!(words("a\x0bb\x0cc"), ["a", "b", "c"]);
    }

    #[test]
    fn separators_and_comments() {
        let c = commands("dhcp || goto retry && echo ok ; echo always # echo never");
        let shape: Vec<(Vec<&str>, Option<Then>)> = c.into_iter().map(|c| (c.words, c.then)).collect();
        assert_eq!(
            shape,
            vec![
                (vec!["dhcp"], Some(Then::OnFailure)),
                (vec!["goto", "retry"], Some(Then::OnSuccess)),
                (vec!["echo", "ok"], Some(Then::Always)),
                (vec!["echo", "always"], None),
            ]
        );
        // `cmd ||` ends with an empty command; `#` starts a comment only at a word's start.
        let c = commands("imgfree ||");
        assert_eq!((c.len(), c[1].words.is_empty()), (2, true));
        assert_eq!(commands("echo a#b #c")[0].words, ["echo", "a#b"]);
        assert_eq!(commands("#!ipxe")[0].words, Vec::<&str>::new());
        // Separators are words of their own.
        assert_eq!(commands("echo a;b")[0].words, ["echo", "a;b"]);
    }
}
