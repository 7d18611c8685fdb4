//! `${...}` expansion inside a word, innermost reference first, as iPXE does it.
//!
//! `${name}`, `${net0/name}`, `${name:type}` are looked up (unknown names and names that
//! do not parse expand to nothing), and a reference may be built from others:
//! `${net${idx}/mac}` expands `${idx}` first. An unterminated `${` is kept as text, with
//! any complete reference after it still expanded.
//!
//! One difference from iPXE, on purpose: a value is inserted as it is and never expanded
//! again. iPXE rescans the whole string after each substitution, so a value that
//! contains `${...}` (from a DHCP server, say) is expanded too, and a setting whose value
//! names itself loops forever.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

/// Nesting deeper than this is kept as text (no real script nests more than two or three
/// levels, and the firmware's stack is small).
pub const MAX_NESTING: usize = 16;

/// Expands the references in `word`, looking each complete name up with `lookup`.
pub fn expand(word: &str, lookup: &dyn Fn(&str) -> Option<String>) -> String {
    // Each `${` paired with the `}` that closes it, in one pass with a stack; one left
    // open pairs with nothing.
    let bytes = word.as_bytes();
    let mut close = BTreeMap::new();
    let mut open = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'$' && bytes.get(i + 1) == Some(&b'{') {
            open.push(i);
            i += 2;
            continue;
        }
        if bytes[i] == b'}'
            && let Some(start) = open.pop()
        {
            close.insert(start, i);
        }
        i += 1;
    }
    let mut out = String::new();
    expand_range(word, 0, word.len(), &close, 0, lookup, &mut out);
    out
}

/// Expands `word[from..to]` into `out`; `close` pairs each `${` with its `}`.
fn expand_range(
    word: &str,
    from: usize,
    to: usize,
    close: &BTreeMap<usize, usize>,
    depth: usize,
    lookup: &dyn Fn(&str) -> Option<String>,
    out: &mut String,
) {
    let mut at = from;
    while let Some(rel) = word[at..to].find("${") {
        let start = at + rel;
        out.push_str(&word[at..start]);
        match close.get(&start).copied() {
            Some(end) if end < to && depth < MAX_NESTING => {
                let mut name = String::new();
                expand_range(word, start + 2, end, close, depth + 1, lookup, &mut name);
                if let Some(value) = lookup(&name) {
                    out.push_str(&value);
                }
                at = end + 1;
            }
            Some(end) if end < to => {
                // Too deep: the reference stays as it is written.
                out.push_str(&word[start..=end]);
                at = end + 1;
            }
            _ => {
                // No matching `}`: the `${` is text; references inside still expand.
                out.push_str("${");
                at = start + 2;
            }
        }
    }
    out.push_str(&word[at..to]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    fn lookup(name: &str) -> Option<String> {
        match name {
            "next-server" => Some("10.0.2.2".into()),
            "idx" => Some("1".into()),
            "net1/mac" => Some("52:54:00:12:34:57".into()),
            "loop" => Some("${loop}".into()),
            "brace" => Some("}".into()),
            _ => None,
        }
    }

    #[test]
    fn plain_nested_and_unknown() {
        assert_eq!(expand("http://${next-server}/boot.ipxe", &lookup), "http://10.0.2.2/boot.ipxe");
        assert_eq!(expand("${net${idx}/mac}", &lookup), "52:54:00:12:34:57");
        assert_eq!(expand("a${missing}b", &lookup), "ab");
        assert_eq!(expand("${}", &lookup), "");
    }

    #[test]
    fn unterminated_references_stay_text() {
        assert_eq!(expand("open ${brace", &lookup), "open ${brace");
        assert_eq!(expand("${a${idx}", &lookup), "${a1");
        assert_eq!(expand("x}${idx}}", &lookup), "x}1}");
    }

    #[test]
    fn deep_and_long_input_stays_bounded() {
        // Nesting past the limit is kept as text; the pairing is one pass, so a long run
        // of unclosed references is quick.
        // (The innermost levels stay text, so the names around them are unknown: nothing.)
        let deep = alloc::format!("{}idx{}", "${".repeat(40), "}".repeat(40));
        assert_eq!(expand(&deep, &lookup), "");
        let at_limit = alloc::format!("{}idx{}", "${".repeat(MAX_NESTING + 1), "}".repeat(MAX_NESTING + 1));
        assert_eq!(expand(&at_limit, &lookup), "");
        let open = "${".repeat(200_000);
        assert_eq!(expand(&open, &lookup), open);
    }

    #[test]
    fn values_are_not_expanded_again() {
        assert_eq!(expand("${loop}", &lookup), "${loop}");
        assert_eq!(expand("${brace}${idx}", &lookup), "}1");
        assert_eq!(expand("no references", &lookup), "no references".to_string());
    }
}
