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

/// Whether an env var name contains a secret-like word as whole `_` words.
pub fn secret_name(name: &str) -> Option<String> {
    let upper = name.to_ascii_uppercase();
    let parts: Vec<&str> = upper.split('_').collect();
    for w in WORDS {
        if parts.windows(w.len()).any(|win| win == *w) {
            return Some(w.join("_"));
        }
    }
    None
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
            if !s.is_empty() {
                out.push(
                    rule(
                        Code::P006,
                        v.span,
                        format!("`{owner}` sets `{name}` to a plaintext value"),
                    )
                    .label(format!("`{word}` in the name: this looks like a secret"))
                    .help(format!(
                        "reference a Secret: `{name} = secret(\"{}-secrets\", \"{}\")`",
                        owner.replace('_', "-"),
                        name.to_ascii_lowercase().replace('_', "-")
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

/// `postgresPassword` → `postgres_Password` (chart values use camelCase).
fn camel_words(k: &str) -> String {
    let mut out = String::with_capacity(k.len() + 4);
    let mut prev_lower = false;
    for c in k.chars() {
        if c.is_ascii_uppercase() && prev_lower {
            out.push('_');
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        out.push(c);
    }
    out
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
                if let (V::Str(s), Some(_)) = (&x.kind, secret_name(&camel_words(k))) {
                    if !s.is_empty()
                        && !k.to_ascii_lowercase().contains("existing")
                        && !k.to_ascii_lowercase().ends_with("secretname")
                    {
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

pub(super) fn check(env: &EnvModel, out: &mut Vec<Diagnostic>) {
    for s in env.services.values() {
        env_var_checks(&s.id.name, s.value.get("env_vars"), out);
        for c in s
            .value
            .get("init_containers")
            .map(Value::as_list)
            .unwrap_or(&[])
        {
            env_var_checks(&s.id.name, c.get("env_vars"), out);
        }
    }
    for i in env.infras.values() {
        if let Some(v) = i.value.get("values") {
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
        assert!(token_shaped("ghp_9fQ2xLk8Zr1Tq0Wm5Bv7Nc3Yh6Jd4Sa2Pe8Ui1"));
        assert!(!token_shaped(
            "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
        ));
        assert!(!token_shaped("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
        assert!(!token_shaped("http://inference-tilt:8000"));
    }
}
