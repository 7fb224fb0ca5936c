//! Container-level rules Kubernetes enforces at apply time, checked at
//! compile time instead: env var names (E2032), `$(X)` references to a
//! variable listed later (E2031: the kubelet expands only variables
//! defined earlier in the list, and leaves the text as is otherwise), and
//! volume names (DNS labels, E2006), and what init containers and sidecars
//! may say (E2039): unique container names, ports that are the service's
//! labels and served by one container, mounts of the pod's own volumes, and
//! no probes or ports on init containers (Kubernetes refuses them).

use crate::diag::{suggest, Code, Diagnostic, Diagnostics};
use crate::model::{ContainerRole, Decl, Value};
use crate::names;
use std::collections::BTreeMap;

/// Check the main container and every init container of a service.
pub fn check(d: &Decl, diags: &mut Diagnostics) {
    env_vars(d.service().env_vars(), diags);
    for (_, c) in d.service().extra_containers() {
        env_vars(c.env_vars(), diags);
    }
    pod_containers(d, diags);
    for (name, vol) in d
        .service()
        .volumes()
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

/// Init containers and sidecars against the pod they join (E2039).
fn pod_containers(d: &Decl, diags: &mut Diagnostics) {
    let v = d.service();
    let main = v
        .container_name()
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| crate::names::k8s_name(&d.id.name));
    let labels: Vec<String> = v.port_entries().map(|(k, _)| k.to_string()).collect();
    let volumes: Vec<String> = v.volume_entries().map(|(k, _)| k.to_string()).collect();
    let mut names: BTreeMap<String, crate::Span> = BTreeMap::new();
    let mut served: BTreeMap<String, crate::Span> = BTreeMap::new();
    for (role, c) in v.extra_containers() {
        let field = match role {
            ContainerRole::Init => "init_containers",
            ContainerRole::Sidecar => "sidecars",
        };
        if let Some(n) = c.name() {
            let name = n.as_str().unwrap_or("");
            if name == main {
                diags.push(
                    Diagnostic::new(Code::E2039, n.span, format!("container `{name}` has the name of the service's main container"))
                        .label("container names are unique in a pod")
                        .help("rename this container, or set the main one's with `container_name = \"…\"`"),
                );
            } else if let Some(first) = names.insert(name.to_string(), n.span) {
                diags.push(
                    Diagnostic::new(Code::E2039, n.span, format!("two containers of `{}` are named `{name}`", d.id.name))
                        .label("second container with this name")
                        .secondary(first, "first one")
                        .help("container names are unique in a pod (init containers and sidecars included)"),
                );
            }
        }
        if role == ContainerRole::Init {
            for (f, x) in [
                ("ports", c.ports()),
                ("readiness", c.readiness()),
                ("liveness", c.liveness()),
                ("startup", c.startup()),
            ] {
                let Some(x) = x else { continue };
                if f == "ports" && x.as_list().is_empty() {
                    continue;
                }
                diags.push(
                    Diagnostic::new(
                        Code::E2039,
                        x.span,
                        format!("an init container takes no `{f}`"),
                    )
                    .label("init containers run to completion before the pod is ready")
                    .help(
                        "move this container to `sidecars` if it keeps running beside the main one",
                    ),
                );
            }
        }
        for p in c.ports().map(Value::as_list).unwrap_or(&[]) {
            let Some(label) = p.as_str() else { continue };
            if !labels.iter().any(|l| l == label) {
                let help = suggest::did_you_mean(label, &labels).unwrap_or_else(|| {
                    format!("declare it on the service (`port {label} = …`); the sidecar serves it")
                });
                diags.push(
                    Diagnostic::new(
                        Code::E2024,
                        p.span,
                        format!("`{}` has no port `{label}`", d.id.name),
                    )
                    .label("a container's ports are labels of the service's ports")
                    .help(help),
                );
            } else if role == ContainerRole::Sidecar {
                if let Some(first) = served.insert(label.to_string(), p.span) {
                    diags.push(
                        Diagnostic::new(
                            Code::E2039,
                            p.span,
                            format!("port `{label}` is served by two sidecars"),
                        )
                        .label("second sidecar with this port")
                        .secondary(first, "first one")
                        .help("each port belongs to one container"),
                    );
                }
            }
        }
        for (volume, path) in c.mounts().map(Value::entries_in_order).unwrap_or_default() {
            if !volumes.iter().any(|x| x == volume) {
                let help = suggest::did_you_mean(volume, &volumes).unwrap_or_else(|| {
                    format!("declare it in the service's `volumes` (e.g. `{volume} = scratch(mount = \"/…\")`)")
                });
                diags.push(
                    Diagnostic::new(
                        Code::E2039,
                        path.span,
                        format!(
                            "`{}` has no volume `{volume}` to mount in `{field}`",
                            d.id.name
                        ),
                    )
                    .label("a container mounts the pod's volumes")
                    .help(help),
                );
            } else if !path.as_str().is_some_and(|p| p.starts_with('/')) {
                diags.push(
                    Diagnostic::new(
                        Code::E2039,
                        path.span,
                        format!("the mount path of `{volume}` must be absolute"),
                    )
                    .label("not an absolute path")
                    .help("write a path inside the container, starting with `/`"),
                );
            }
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
