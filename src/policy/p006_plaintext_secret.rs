//! P006: no plaintext secret values — env vars named like secrets, and
//! token-shaped high-entropy literals, must be `secret(name, key)`.

use super::rule;
use crate::diag::{Code, Diagnostic};
use crate::model::{EnvModel, Value, V};

const WORDS: &[&[&str]] = &[
    &["PASSWORD"],
    &["SECRET"],
    &["TOKEN"],
    &["API", "KEY"],
    &["PRIVATE", "KEY"],
];

/// A Cyrillic or Greek letter that looks like a Latin one, as that letter.
fn unconfuse(c: char) -> char {
    match c {
        'А' | 'а' | 'Α' | 'α' => 'A',
        'В' | 'в' | 'Β' | 'β' => 'B',
        'С' | 'с' | 'ϲ' => 'C',
        'Е' | 'е' | 'Ε' | 'ε' => 'E',
        'Н' | 'н' | 'Η' => 'H',
        'І' | 'і' | 'Ι' | 'ι' => 'I',
        'Ј' | 'ј' => 'J',
        'К' | 'к' | 'Κ' | 'κ' => 'K',
        'М' | 'м' | 'Μ' => 'M',
        'Ν' => 'N',
        'О' | 'о' | 'Ο' | 'ο' => 'O',
        'Р' | 'р' | 'Ρ' | 'ρ' => 'P',
        'Ѕ' | 'ѕ' => 'S',
        'Т' | 'т' | 'Τ' | 'τ' => 'T',
        'Х' | 'х' | 'Χ' | 'χ' => 'X',
        'У' | 'у' | 'Υ' => 'Y',
        'Ζ' => 'Z',
        c => c,
    }
}

/// A name as upper-case words: split at `_`, `-`, `.`, spaces and camelCase
/// boundaries, look-alike letters read as Latin ones (`DB-PASSWORD`,
/// `dbPassword`, `DB_PАSSWORD` with a Cyrillic `А` are all `DB PASSWORD`).
pub fn words(name: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in name.chars().map(unconfuse) {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        cur.extend(c.to_uppercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Whether a name contains a secret-like word as whole words.
pub fn secret_name(name: &str) -> Option<String> {
    // Fast path: an ASCII name without any of the words' letters in a row
    // cannot match (most names; look-alike letters are not ASCII).
    if name.is_ascii() {
        let upper = name.to_ascii_uppercase();
        if !["PASSWORD", "SECRET", "TOKEN", "KEY"]
            .iter()
            .any(|w| upper.contains(w))
        {
            return None;
        }
    }
    let parts = words(name);
    for w in WORDS {
        if parts
            .windows(w.len())
            .any(|win| win.iter().zip(w.iter()).all(|(a, b)| a == b))
        {
            return Some(w.join("_"));
        }
    }
    None
}

/// A chart value key that names *where* a secret lives, not the secret:
/// `existingSecret…`, `…SecretName`, `…Key` (`passwordKey`,
/// `adminPasswordKey`, `secretKeys`).
fn names_a_secret(key: &str) -> bool {
    let w = words(key);
    let first = w.first().map(String::as_str);
    let last = w.last().map(String::as_str);
    first == Some("EXISTING")
        || matches!(
            last,
            Some("KEY" | "KEYS" | "REF" | "NAME" | "FILE" | "PATH")
        ) && !w
            .windows(2)
            .any(|p| p == ["API", "KEY"] || p == ["PRIVATE", "KEY"])
}

/// `${env:POSTGRES_PASSWORD}`-style placeholders are filled in elsewhere.
fn placeholder(s: &str) -> bool {
    let t = s.trim();
    (t.starts_with("${") && t.ends_with('}')) || (t.starts_with("{{") && t.ends_with("}}"))
}

/// Whether a literal looks like a credential: ≥ 32 characters of
/// `[A-Za-z0-9+/=_-]`, several character classes, high Shannon entropy.
/// Image digests are not secrets.
pub fn token_shaped(s: &str) -> bool {
    if s.len() < 32 || s.starts_with("sha256:") {
        return false;
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "+/=_-".contains(c))
    {
        return false;
    }
    let classes = [
        s.chars().any(|c| c.is_ascii_lowercase()),
        s.chars().any(|c| c.is_ascii_uppercase()),
        s.chars().any(|c| c.is_ascii_digit()),
    ];
    if classes.iter().filter(|b| **b).count() < 2 {
        return false;
    }
    let mut counts = std::collections::BTreeMap::new();
    for c in s.chars() {
        *counts.entry(c).or_insert(0usize) += 1;
    }
    let n = s.len() as f64;
    let entropy: f64 = counts
        .values()
        .map(|&k| {
            let p = k as f64 / n;
            -p * p.log2()
        })
        .sum();
    entropy >= 3.5
}

fn env_var_checks(owner: &str, vars: Option<&Value>, out: &mut Vec<Diagnostic>) {
    for (name, v) in vars
        .map(|m| m.entries().collect::<Vec<_>>())
        .unwrap_or_default()
    {
        let V::Str(s) = &v.kind else { continue };
        if let Some(word) = secret_name(name) {
            if !s.is_empty() && !placeholder(s) {
                out.push(
                    rule(
                        Code::P006,
                        v.span,
                        format!("`{owner}` sets `{name}` to a plaintext value"),
                    )
                    .label(format!("`{word}` in the name: this looks like a secret"))
                    .help(format!(
                        "reference a Secret: `{name} = secret(\"{}-secrets\", \"{}\")`",
                        crate::names::k8s_name(owner),
                        crate::names::k8s_name(&name.to_ascii_lowercase())
                    )),
                );
                continue;
            }
        }
        if token_shaped(s) {
            out.push(
                rule(
                    Code::P006,
                    v.span,
                    format!("`{owner}` sets `{name}` to what looks like a credential"),
                )
                .label("high-entropy token")
                .help("move it into a Secret and use `secret(name, key)`"),
            );
        }
    }
}

/// Build arguments end up in the image's history and the Tiltfile.
fn build_arg_checks(image: &str, args: Option<&Value>, out: &mut Vec<Diagnostic>) {
    for (name, v) in args.map(Value::entries_in_order).unwrap_or_default() {
        let V::Str(s) = &v.kind else { continue };
        let named = secret_name(name).filter(|_| !s.is_empty() && !placeholder(s));
        if named.is_some() || token_shaped(s) {
            out.push(
                rule(
                    Code::P006,
                    v.span,
                    format!("image `{image}` passes a credential as build argument `{name}`"),
                )
                .label("build arguments are kept in the image's history and the Tiltfile")
                .help("use a build secret (`RUN --mount=type=secret`) instead of a build argument"),
            );
        }
    }
}

fn scan_values(owner: &str, v: &Value, out: &mut Vec<Diagnostic>) {
    match &v.kind {
        V::Str(s) if token_shaped(s) => out.push(
            rule(
                Code::P006,
                v.span,
                format!("infra `{owner}` has a value that looks like a credential"),
            )
            .label("high-entropy token")
            .help("point the chart at an existing Secret (e.g. `existingSecret`) instead"),
        ),
        V::Record(m) => {
            for (k, x) in m {
                if names_a_secret(k) {
                    // `secretKeys { adminPasswordKey = "…" }`: names of keys
                    // in a Secret, all of it; only token-shaped literals count.
                    scan_tokens(owner, x, out);
                    continue;
                }
                if let (V::Str(s), Some(_)) = (&x.kind, secret_name(k)) {
                    if !s.is_empty() && !placeholder(s) {
                        out.push(
                            rule(Code::P006, x.span, format!("infra `{owner}` sets `{k}` to a plaintext value"))
                                .label("this looks like a secret")
                                .help("point the chart at an existing Secret (e.g. `existingSecret`) instead"),
                        );
                        continue;
                    }
                }
                scan_values(owner, x, out);
            }
        }
        V::List(items) => items.iter().for_each(|x| scan_values(owner, x, out)),
        _ => {}
    }
}

/// Only token-shaped literals, anywhere under `v`.
fn scan_tokens(owner: &str, v: &Value, out: &mut Vec<Diagnostic>) {
    match &v.kind {
        V::Record(m) => m.iter().for_each(|(_, x)| scan_tokens(owner, x, out)),
        V::List(items) => items.iter().for_each(|x| scan_tokens(owner, x, out)),
        _ => scan_values(owner, v, out),
    }
}

pub(super) fn check(env: &EnvModel, out: &mut Vec<Diagnostic>) {
    for i in env.images.values() {
        build_arg_checks(&i.id.name, i.image().build_args(), out);
    }
    for s in env.services.values() {
        env_var_checks(&s.id.name, s.service().env_vars(), out);
        for (_, c) in s.service().extra_containers() {
            env_var_checks(&s.id.name, c.env_vars(), out);
        }
    }
    for i in env.infras.values() {
        if let Some(v) = i.infra().values() {
            scan_values(&i.id.name, v, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_tokens() {
        assert_eq!(secret_name("DB_PASSWORD").as_deref(), Some("PASSWORD"));
        assert_eq!(secret_name("STRIPE_API_KEY").as_deref(), Some("API_KEY"));
        assert_eq!(secret_name("KEYBOARD_LAYOUT"), None);
        assert_eq!(secret_name("TOKENIZER"), None);
        assert_eq!(secret_name("DB-PASSWORD").as_deref(), Some("PASSWORD"));
        assert_eq!(secret_name("db password").as_deref(), Some("PASSWORD"));
        assert_eq!(secret_name("adminPassword").as_deref(), Some("PASSWORD"));
        assert_eq!(
            secret_name("DB_P\u{410}SSWORD").as_deref(),
            Some("PASSWORD")
        );
        assert!(names_a_secret("existingSecret"));
        assert!(names_a_secret("adminPasswordKey"));
        assert!(names_a_secret("passwordKey"));
        assert!(names_a_secret("secretKeys"));
        assert!(names_a_secret("userPasswordSecretName"));
        assert!(!names_a_secret("adminPassword"));
        assert!(!names_a_secret("apiKey"));
        assert!(placeholder("${env:POSTGRES_PASSWORD}"));
        assert!(token_shaped("ghp_9fQ2xLk8Zr1Tq0Wm5Bv7Nc3Yh6Jd4Sa2Pe8Ui1"));
        assert!(!token_shaped(
            "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
        ));
        assert!(!token_shaped("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
        assert!(!token_shaped("http://inference-tilt:8000"));
    }
}
