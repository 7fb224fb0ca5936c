//! A small deterministic YAML writer for JSON-shaped values: block style,
//! two-space indentation, keys in sorted order (serde_json's map is a
//! BTreeMap), and strings quoted whenever a YAML 1.1 or 1.2 parser could
//! read them as anything but that string (`yes`, `on`, `0123`, `1e3`,
//! `null`, `~`, leading indicators, `: `, ` #`, …).

use serde_json::Value;

/// Render one document (no `---`), ending with a newline.
pub fn to_string(v: &Value) -> String {
    let mut out = String::new();
    match v {
        Value::Object(m) if !m.is_empty() => write_map(&mut out, m, 0),
        Value::Array(a) if !a.is_empty() => write_seq(&mut out, a, 0),
        other => {
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
    out
}

/// Render several documents separated by `---`.
pub fn documents(vs: &[Value]) -> String {
    let mut out = String::new();
    for (i, v) in vs.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        out.push_str(&to_string(v));
    }
    out
}

fn indent(out: &mut String, n: usize) {
    for _ in 0..n {
        out.push(' ');
    }
}

fn write_map(out: &mut String, m: &serde_json::Map<String, Value>, level: usize) {
    for (k, v) in m {
        indent(out, level);
        push_key(out, k);
        out.push(':');
        write_value_after_key(out, v, level);
    }
}

fn write_value_after_key(out: &mut String, v: &Value, level: usize) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            write_map(out, m, level + 2);
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            write_seq(out, a, level);
        }
        other => write_scalar_line(out, other, level),
    }
}

/// ` value\n` after a key or dash: a block string when it has newlines.
fn write_scalar_line(out: &mut String, v: &Value, level: usize) {
    out.push(' ');
    match v {
        Value::String(s) if s.contains('\n') => block_string(out, s, level + 2),
        other => {
            push_scalar(out, other);
            out.push('\n');
        }
    }
}

fn write_seq(out: &mut String, a: &[Value], level: usize) {
    for v in a {
        indent(out, level);
        out.push('-');
        match v {
            Value::Object(m) if !m.is_empty() => {
                // First key on the dash line, the rest aligned under it.
                let mut first = true;
                for (k, x) in m {
                    if first {
                        out.push(' ');
                        first = false;
                    } else {
                        indent(out, level + 2);
                    }
                    push_key(out, k);
                    out.push(':');
                    write_value_after_key(out, x, level + 2);
                }
            }
            Value::Array(inner) if !inner.is_empty() => {
                out.push('\n');
                write_seq(out, inner, level + 2);
            }
            other => write_scalar_line(out, other, level),
        }
    }
}

fn block_string(out: &mut String, s: &str, level: usize) {
    // `|` keeps newlines; `|-` strips the final one; `+` keeps trailing ones.
    let chomp = if s.ends_with("\n\n") {
        "+"
    } else if s.ends_with('\n') {
        ""
    } else {
        "-"
    };
    let leading_space = s.starts_with(' ') || s.starts_with('\t');
    if leading_space || s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        out.push_str(&quote(s));
        out.push('\n');
        return;
    }
    out.push('|');
    out.push_str(chomp);
    out.push('\n');
    let body = s.strip_suffix('\n').unwrap_or(s);
    for line in body.split('\n') {
        if !line.is_empty() {
            indent(out, level);
            out.push_str(line);
        }
        out.push('\n');
    }
}

fn push_key(out: &mut String, k: &str) {
    if needs_quotes(k) {
        push_quoted(out, k);
    } else {
        out.push_str(k);
    }
}

fn push_scalar(out: &mut String, v: &Value) {
    match v {
        Value::String(s) if !needs_quotes(s) => out.push_str(s),
        Value::String(s) => push_quoted(out, s),
        other => out.push_str(&scalar(other)),
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => {
            if needs_quotes(s) {
                quote(s)
            } else {
                s.clone()
            }
        }
        Value::Array(_) => "[]".into(),
        Value::Object(_) => "{}".into(),
    }
}

/// Whether a plain scalar would not read back as this exact string.
pub fn needs_quotes(s: &str) -> bool {
    let (Some(first), Some(last)) = (s.chars().next(), s.chars().next_back()) else {
        return true;
    };
    if first.is_whitespace() || last.is_whitespace() {
        return true;
    }
    const WORDS: &[&str] = &[
        "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", ".nan", ".inf", "-.inf",
        "+.inf",
    ];
    if s.len() <= 5 && WORDS.iter().any(|w| w.eq_ignore_ascii_case(s)) {
        return true;
    }
    // Anything a YAML 1.1 or 1.2 parser may read as a number or timestamp:
    // ints (0123, 0x1f, 0o7, 0b1, 1_000), floats (1e3, .5, 1.5), sexagesimal
    // (1:30) and dates (2024-01-02). Quantities such as `100m` or `64Mi`
    // have other letters and stay plain.
    let second = s.chars().nth(1);
    let starts_numeric = first.is_ascii_digit()
        || ("+-.".contains(first) && second.is_some_and(|c| c.is_ascii_digit() || c == '.'));
    if starts_numeric
        && s.chars()
            .all(|c| c.is_ascii_hexdigit() || "xXoO_.:+-".contains(c))
    {
        return true;
    }
    if matches!(
        first,
        '-' | '?'
            | ':'
            | ','
            | '['
            | ']'
            | '{'
            | '}'
            | '#'
            | '&'
            | '*'
            | '!'
            | '|'
            | '>'
            | '\''
            | '"'
            | '%'
            | '@'
            | '`'
    ) || last == ':'
    {
        return true;
    }
    // One byte pass for `: `, ` #` and ASCII control characters (tabs,
    // newlines, DEL); C1 controls are non-ASCII, so only non-ASCII text
    // needs the char pass.
    let bytes = s.as_bytes();
    let mut prev = 0u8;
    for &b in bytes {
        if (prev == b':' && b == b' ') || (prev == b' ' && b == b'#') || b < 0x20 || b == 0x7f {
            return true;
        }
        prev = b;
    }
    !s.is_ascii() && s.chars().any(|c| c.is_control())
}

/// A double-quoted YAML string with escapes.
pub fn quote(s: &str) -> String {
    let mut q = String::with_capacity(s.len() + 2);
    push_quoted(&mut q, s);
    q
}

fn push_quoted(q: &mut String, s: &str) {
    q.push('"');
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\n' => q.push_str("\\n"),
            '\t' => q.push_str("\\t"),
            '\r' => q.push_str("\\r"),
            c if c.is_control() => q.push_str(&format!("\\u{:04x}", c as u32)),
            c => q.push(c),
        }
    }
    q.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ambiguous_strings_are_quoted() {
        for s in [
            "yes", "on", "0123", "1e3", "null", "~", "", " x", "a: b", "-x", "1.5", "0x1F",
            "12:30", "True", "NO",
        ] {
            assert!(needs_quotes(s), "{s}");
        }
        for s in [
            "nginx",
            "http",
            "app.kubernetes.io/name",
            "registry.example.com/a:1.0",
            "100m",
            "64Mi",
        ] {
            assert!(!needs_quotes(s), "{s}");
        }
    }

    #[test]
    fn renders_block_yaml() {
        let v = json!({"b": [1, {"x": "yes", "y": []}], "a": {"k": "v\nw\n"}, "c": {}});
        assert_eq!(
            to_string(&v),
            "a:\n  k: |\n    v\n    w\nb:\n- 1\n- x: \"yes\"\n  \"y\": []\nc: {}\n"
        );
    }
}
