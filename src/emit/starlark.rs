//! Starlark (Tiltfile) literals. Every string spliced into a Tiltfile goes
//! through [`string`], so no name, path or command can inject code.

/// A double-quoted Starlark string literal.
pub fn string(s: &str) -> String {
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\n' => q.push_str("\\n"),
            '\r' => q.push_str("\\r"),
            '\t' => q.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                q.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

/// A list of string literals.
pub fn list<S: AsRef<str>>(items: &[S]) -> String {
    let parts: Vec<String> = items.iter().map(|s| string(s.as_ref())).collect();
    format!("[{}]", parts.join(", "))
}

/// A dict of string literals, keys sorted.
pub fn dict(items: &std::collections::BTreeMap<String, String>) -> String {
    let parts: Vec<String> = items
        .iter()
        .map(|(k, v)| format!("{}: {}", string(k), string(v)))
        .collect();
    format!("{{{}}}", parts.join(", "))
}

/// A POSIX shell word: single-quoted, with `'` written as `'\''`.
pub fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c))
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_cannot_escape() {
        assert_eq!(
            string("a\"); local('rm -rf /')#"),
            "\"a\\\"); local('rm -rf /')#\""
        );
        assert_eq!(string("x\ny\\"), "\"x\\ny\\\\\"");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
        assert_eq!(shell_word("svc/redis-master"), "svc/redis-master");
        assert_eq!(shell_word("$(reboot)"), "'$(reboot)'");
    }
}
