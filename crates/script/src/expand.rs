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

use alloc::string::String;

/// Expands the references in `word`, looking each complete name up with `lookup`.
pub fn expand(word: &str, lookup: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::new();
    let mut rest = word;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let inner = &rest[start + 2..];
        match closing(inner) {
            Some(end) => {
                let name = expand(&inner[..end], lookup);
                if let Some(value) = lookup(&name) {
                    out.push_str(&value);
                }
                rest = &inner[end + 1..];
            }
            None => {
                // No matching `}`: the `${` is text; references inside still expand.
                out.push_str("${");
                rest = inner;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The index of the `}` closing a reference whose name starts `text`, counting nested
/// `${`s.
fn closing(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'$' && bytes.get(i + 1) == Some(&b'{') {
            depth += 1;
            i += 2;
            continue;
        }
        if bytes[i] == b'}' {
            if depth == 0 {
                return Some(i);
            }
            depth -= 1;
        }
        i += 1;
    }
    None
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
    fn values_are_not_expanded_again() {
        assert_eq!(expand("${loop}", &lookup), "${loop}");
        assert_eq!(expand("${brace}${idx}", &lookup), "}1");
        assert_eq!(expand("no references", &lookup), "no references".to_string());
    }
}
