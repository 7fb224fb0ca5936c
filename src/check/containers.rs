//! Container-level rules Kubernetes enforces at apply time, checked at
//! compile time instead: env var names (E2032), `$(X)` references to a
//! variable listed later (E2031: the kubelet expands only variables
//! defined earlier in the list, and leaves the text as is otherwise), and
//! volume names (DNS labels, E2006).

use super::names;
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{Decl, Value};

/// Check the main container and every init container of a service.
pub fn check(d: &Decl, diags: &mut Diagnostics) {
    env_vars(d.value.get("env_vars"), diags);
    for c in d
        .value
        .get("init_containers")
        .map(Value::as_list)
        .unwrap_or(&[])
    {
        env_vars(c.get("env_vars"), diags);
    }
    for (name, vol) in d
        .value
        .get("volumes")
        .map(Value::entries_in_order)
        .unwrap_or_default()
    {
        if let Err(e) = names::dns_label(name) {
            diags.push(
                Diagnostic::new(
                    Code::E2006,
                    vol.span,
                    format!("volume name `{name}` is not valid in Kubernetes: {e}"),
                )
                .label("this volume")
                .help("name volumes with lowercase letters, digits and `-` (a DNS label)"),
            );
        }
    }
}

/// Kubernetes' rule for env var names (`[-._a-zA-Z][-._a-zA-Z0-9]*`).
pub fn env_var_name(s: &str) -> Result<(), String> {
    let mut chars = s.chars();
    match chars.next() {
        None => return Err("it is empty".into()),
        Some(c) if c.is_ascii_digit() => return Err("it starts with a digit".into()),
        _ => {}
    }
    match s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "-._".contains(*c)))
    {
        Some(c) => Err(format!("`{}` is not allowed", c.escape_debug())),
        None => Ok(()),
    }
}

/// The names `$(NAME)` refers to in a value (`$$(NAME)` is an escape).
pub fn references(s: &str) -> Vec<&str> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < b.len() {
        if b.get(i) == Some(&b'$') {
            match b.get(i + 1) {
                Some(b'$') => {
                    i += 2;
                    continue;
                }
                Some(b'(') => {
                    if let Some(end) = s.get(i + 2..).and_then(|r| r.find(')')) {
                        if let Some(name) = s.get(i + 2..i + 2 + end) {
                            out.push(name);
                        }
                        i += 2 + end + 1;
                        continue;
                    }
                }
                _ => {}
            }
        }
        i += 1;
    }
    out
}

fn env_vars(v: Option<&Value>, diags: &mut Diagnostics) {
    let Some(v) = v else { return };
    let list = v.entries_in_order();
    for (i, (name, value)) in list.iter().enumerate() {
        if let Err(e) = env_var_name(name) {
            diags.push(
                Diagnostic::new(
                    Code::E2032,
                    value.span,
                    format!(
                        "env var name `{}` is not valid in Kubernetes: {e}",
                        name.escape_debug()
                    ),
                )
                .label("the value of this variable")
                .help("use letters, digits, `_`, `-` and `.`, not starting with a digit"),
            );
        }
        let Some(text) = value.as_str() else { continue };
        for r in references(text) {
            let later = list.iter().skip(i).find(|(n, _)| n.as_str() == r);
            if let Some((_, def)) = later {
                diags.push(
                    Diagnostic::new(
                        Code::E2031,
                        value.span,
                        format!("`{name}` uses `$({r})`, but `{r}` is defined {}", if def.span == value.span { "by this variable itself" } else { "after it" }),
                    )
                    .label("the kubelet leaves `$(…)` as written unless the variable comes earlier")
                    .secondary(def.span, format!("`{r}` is defined here"))
                    .help(format!("define `{r}` before `{name}` in `env_vars` (variables keep their source order)")),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn kubelet_references() {
        assert_eq!(references("$(A).x:$(B_2)"), ["A", "B_2"]);
        assert_eq!(references("$$(A) $(B"), Vec::<&str>::new());
        assert_eq!(references("cost $5 $(C)"), ["C"]);
    }

    #[test]
    fn env_var_names() {
        assert!(env_var_name("OTEL_RESOURCE_ATTRIBUTES").is_ok());
        assert!(env_var_name("a.b-c").is_ok());
        assert!(env_var_name("").is_err());
        assert!(env_var_name("A=B").is_err());
        assert!(env_var_name("1A").is_err());
    }
}
