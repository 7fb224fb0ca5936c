//! Constraints checked on an evaluated env: Kubernetes names after the
//! release suffix (E2006), Helm's 53-character release names (E2012), IANA
//! port names (E2007), replica and int32 ranges (E2010), whole-second probe
//! timings (E2011), port labels used by probes, forwards and `expose`
//! (E2024), schedules (E2025), RWO volumes shared by replicas (E2020), lock
//! key collisions (E2027) and the env fields a target needs (E2003).

use crate::diag::{suggest, Code, Diagnostic, Diagnostics};
use crate::model::view::{Probe, Security, Volume, Workload};
use crate::model::{Decl, EnvKind, EnvModel, QuantityKind, Value, V};
use crate::names;
use crate::source::Span;

const INT32_MAX: i64 = i32::MAX as i64;

/// Check one declaration of a service (env-independent parts included).
pub fn service(d: &Decl, env_kind: Option<EnvKind>, diags: &mut Diagnostics) {
    let v = d.service();
    k8s_name(d, diags);
    if env_kind == Some(EnvKind::Helmfile) && d.k8s_name.len() > 53 {
        release_too_long(d, diags);
    }
    let ports: Vec<&str> = v.port_entries().map(|(k, _)| k.as_str()).collect();
    port_labels(d, &ports, diags);
    if let Some(r) = v.replicas().and_then(Value::as_int) {
        if !(0..=INT32_MAX).contains(&r) {
            let span = v.replicas().map_or(d.name_span, |x| x.span);
            diags.push(
                Diagnostic::new(
                    Code::E2010,
                    span,
                    format!("replicas must be between 0 and {INT32_MAX}, found {r}"),
                )
                .label("out of range")
                .help("use `replicas = 0` to scale a service down"),
            );
        }
    }
    super::scaling::service(d, diags);
    super::pod::service(d, diags);
    super::rbac::service(d, diags);
    super::network::check(d, diags);
    super::secrets::references(d, diags);
    // Each kind of probe, the service's then its containers'.
    let probe_sets: Vec<[Option<&Value>; 3]> =
        std::iter::once([v.readiness(), v.liveness(), v.startup()])
            .chain(
                v.extra_containers()
                    .map(|(_, c)| [c.readiness(), c.liveness(), c.startup()]),
            )
            .collect();
    for kind in 0..3 {
        for p in probe_sets
            .iter()
            .filter_map(|set| set.get(kind).copied().flatten())
        {
            probe_checks(&d.id.name, p, &ports, diags);
        }
    }
    for f in v.port_forwards().map(Value::as_list).unwrap_or(&[]) {
        if let Some(Value {
            kind: V::Str(label),
            span,
        }) = crate::model::view::PortForward::of(f).port()
        {
            if !ports.contains(&label.as_str()) {
                unknown_port(&d.id.name, label, *span, &ports, diags);
            }
        }
    }
    if let Some(t) = v.termination_grace() {
        whole_seconds("termination_grace", t, diags);
    }
    schedule(d, diags);
    shared_volumes(d, diags);
    security(v.security(), diags);
    for (_, c) in v.extra_containers() {
        security(c.security(), diags);
    }
    super::containers::check(d, diags);
}

/// Port labels: IANA names (E2007); every label `internal`, `node_ports`,
/// `expose` and `load_balancer` name exists (E2024); node ports in range
/// and on a Service type that has them (E2010, E2038).
fn port_labels(d: &Decl, ports: &[&str], diags: &mut Diagnostics) {
    let v = d.service();
    for (label, pv) in v.port_entries() {
        port_label(label, pv.span, diags);
    }
    for label in v.internal().map(Value::as_list).unwrap_or(&[]) {
        if let Some(l) = label.as_str().filter(|l| !ports.iter().any(|p| p == l)) {
            unknown_port(&d.id.name, l, label.span, ports, diags);
        }
    }
    let service_type = v
        .service_type()
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP");
    for (label, np) in v.node_ports().into_iter().flat_map(Value::entries) {
        if !ports.contains(&label.as_str()) {
            unknown_port(&d.id.name, label, np.span, ports, diags);
        }
        if np.as_int().is_some_and(|n| !(30000..=32767).contains(&n)) {
            diags.push(
                Diagnostic::new(
                    Code::E2010,
                    np.span,
                    "a node port is between 30000 and 32767",
                )
                .label("out of the default node-port range")
                .help("leave it out and Kubernetes assigns one"),
            );
        }
        if service_type == "ClusterIP" {
            diags.push(
                Diagnostic::new(
                    Code::E2038,
                    np.span,
                    "a node port needs `service_type = \"NodePort\"` (or \"LoadBalancer\")",
                )
                .label("a ClusterIP Service has no node ports")
                .help("set `service_type = \"NodePort\"`, per env if only some envs expose it"),
            );
        }
    }
    for field in [v.expose(), v.load_balancer()] {
        for (label, ev) in field.into_iter().flat_map(Value::entries) {
            if !ports.contains(&label.as_str()) {
                unknown_port(&d.id.name, label, ev.span, ports, diags);
            }
        }
    }
}

/// A cronjob's `schedule`, and a schedule on anything else (E2025).
fn schedule(d: &Decl, diags: &mut Diagnostics) {
    let v = d.service();
    let workload = v.workload_kind();
    match (workload, v.schedule()) {
        (Workload::CronJob, None) => diags.push(
            Diagnostic::new(
                Code::E2025,
                v.workload().map_or(d.name_span, |w| w.span),
                "a cronjob needs a `schedule`",
            )
            .label("no schedule set")
            .help("add `schedule = \"*/5 * * * *\"`"),
        ),
        (Workload::CronJob, Some(s)) => {
            if let Err(e) = names::cron(s.as_str().unwrap_or("")) {
                diags.push(
                    Diagnostic::new(Code::E2025, s.span, e)
                        .label("not a cron schedule")
                        .help("write five fields, e.g. `\"0 3 * * *\"`"),
                );
            }
        }
        (_, Some(s)) => diags.push(
            Diagnostic::new(
                Code::E2025,
                s.span,
                format!(
                    "`schedule` is only used by cronjobs, but this is a {}",
                    v.workload().and_then(Value::as_str).unwrap_or("deployment")
                ),
            )
            .label("ignored schedule")
            .help("set `workload = \"cronjob\"`, or remove the schedule"),
        ),
        _ => {}
    }
}

/// A ReadWriteOnce volume on a deployment with several replicas (E2020).
fn shared_volumes(d: &Decl, diags: &mut Diagnostics) {
    let v = d.service();
    let workload = v.workload_kind();
    let replicas = v.replicas().and_then(Value::as_int).unwrap_or(1);
    if workload == Workload::Deployment && replicas > 1 {
        for (name, vol) in v.volume_entries() {
            let Some(Volume::Persistent(p)) = Volume::of(vol) else {
                continue;
            };
            let access = p.access().and_then(Value::as_str).unwrap_or("rwo");
            if access == "rwo" {
                diags.push(
                    Diagnostic::new(Code::E2020, vol.span, format!("volume `{name}` is ReadWriteOnce but the deployment has {replicas} replicas"))
                        .label("one node can mount this volume")
                        .secondary(v.replicas().map_or(d.name_span, |r| r.span), "replicas set here")
                        .help("use `workload = \"statefulset\"` (one volume per replica) or `access = \"rwx\"`"),
                );
            }
        }
    }
}

fn security(s: Option<&Value>, diags: &mut Diagnostics) {
    let Some(s) = s.map(Security::of) else {
        return;
    };
    for (f, x) in [
        ("run_as", s.run_as()),
        ("run_as_group", s.run_as_group()),
        ("fs_group", s.fs_group()),
    ] {
        if let Some(x) = x {
            if let Some(n) = x.as_int() {
                if !(0..=INT32_MAX).contains(&n) {
                    diags.push(
                        Diagnostic::new(
                            Code::E2010,
                            x.span,
                            format!("`{f}` must be between 0 and {INT32_MAX}"),
                        )
                        .label("out of range"),
                    );
                }
            }
        }
    }
}

/// Check an infra declaration.
pub fn infra(d: &Decl, env_kind: Option<EnvKind>, diags: &mut Diagnostics) {
    k8s_name(d, diags);
    if env_kind == Some(EnvKind::Helmfile) && d.k8s_name.len() > 53 {
        release_too_long(d, diags);
    }
    for (label, pv) in d.infra().ports().into_iter().flat_map(Value::entries) {
        port_label(label, pv.span, diags);
    }
    super::network::check(d, diags);
}

fn k8s_name(d: &Decl, diags: &mut Diagnostics) {
    if let Err(e) = names::dns_label(&d.k8s_name) {
        let span = d.explicit_name().map_or(d.name_span, |n| n.span);
        diags.push(
            Diagnostic::new(Code::E2006, span, format!("`{}` is not a valid Kubernetes name", d.k8s_name))
                .label(e)
                .help("names become RFC 1123 labels: lowercase letters, digits and `-` (`_` becomes `-`), at most 63 characters with the env's release suffix; set `name = \"…\"` to choose another"),
        );
    }
}

fn release_too_long(d: &Decl, diags: &mut Diagnostics) {
    diags.push(
        Diagnostic::new(
            Code::E2012,
            d.name_span,
            format!(
                "Helm release name `{}` is {} characters long",
                d.k8s_name,
                d.k8s_name.len()
            ),
        )
        .label("Helm allows at most 53")
        .help("set a shorter `name = \"…\"`"),
    );
}

fn port_label(label: &str, span: Span, diags: &mut Diagnostics) {
    let name = names::k8s_name(label);
    if let Err(e) = names::port_name(&name) {
        diags.push(
            Diagnostic::new(Code::E2007, span, format!("port `{label}` does not make a valid Kubernetes port name"))
                .label(e)
                .help("port labels are IANA service names: at most 15 lowercase letters, digits and `_`/`-`"),
        );
    }
}

fn unknown_port(owner: &str, label: &str, span: Span, ports: &[&str], diags: &mut Diagnostics) {
    let help = suggest::did_you_mean(label, ports).or_else(|| {
        if ports.is_empty() {
            Some(format!(
                "`{owner}` declares no ports; add `port {label} = …`"
            ))
        } else {
            Some(format!(
                "its ports: {}",
                ports
                    .iter()
                    .map(|p| format!("`{p}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }
    });
    diags.push(
        Diagnostic::new(
            Code::E2024,
            span,
            format!("`{owner}` has no port `{label}`"),
        )
        .label("unknown port label")
        .maybe_help(help),
    );
}

fn probe_checks(owner: &str, p: &Value, ports: &[&str], diags: &mut Diagnostics) {
    let Some(p) = Probe::of(p) else {
        return;
    };
    if let Some(Value {
        kind: V::Str(label),
        span,
    }) = p.port()
    {
        if !ports.contains(&label.as_str()) {
            unknown_port(owner, label, *span, ports, diags);
        }
    }
    let t = p.timings();
    for (f, v) in [
        ("delay", t.delay),
        ("period", t.period),
        ("timeout", t.timeout),
    ] {
        if let Some(t) = v {
            whole_seconds(f, t, diags);
        }
    }
    for (f, v) in [
        ("failure_threshold", t.failure_threshold),
        ("success_threshold", t.success_threshold),
    ] {
        if let Some(x) = v {
            if let Some(n) = x.as_int() {
                if !(1..=INT32_MAX).contains(&n) {
                    diags.push(
                        Diagnostic::new(
                            Code::E2010,
                            x.span,
                            format!("`{f}` must be between 1 and {INT32_MAX}"),
                        )
                        .label("out of range"),
                    );
                }
            }
        }
    }
}

fn whole_seconds(field: &str, t: &Value, diags: &mut Diagnostics) {
    if let V::Quantity(q) = &t.kind {
        let (amount, text) = (q.amount, &q.text);
        if q.kind == QuantityKind::Duration && amount % 1000.0 != 0.0 {
            let secs = (amount / 1000.0).ceil().max(1.0);
            diags.push(
                Diagnostic::new(
                    Code::E2011,
                    t.span,
                    format!("`{field}` must be whole seconds, found `{text}`"),
                )
                .label("Kubernetes takes whole seconds here")
                .help(format!("use `{secs}s`")),
            );
        } else if amount / 1000.0 > INT32_MAX as f64 {
            diags.push(
                Diagnostic::new(Code::E2010, t.span, format!("`{field}` is too long"))
                    .label("out of int32 range"),
            );
        }
    }
}

/// Keys of `ship.lock` that two images would share (E2027); the keys are
/// [`EnvModel::lock_key_claims`].
pub fn lock_key_collisions(env: &EnvModel, diags: &mut Diagnostics) {
    let claims = env.lock_key_claims();
    let keys: Vec<&str> = claims.iter().map(|(k, _)| k.as_str()).collect();
    for (i, first) in repeats(&keys) {
        let (Some((key, span)), Some((_, first))) = (claims.get(i), claims.get(first)) else {
            continue;
        };
        if first != span {
            diags.push(
                Diagnostic::new(
                    Code::E2027,
                    *span,
                    format!("two images would share the `ship.lock` key `{key}`"),
                )
                .label("second image with this key")
                .secondary(*first, "first image with this key")
                .help("rename the image declaration or the service"),
            );
        }
    }
}

/// Two services (or a service and an infra) that render objects with the
/// same name in one env (E4001).
pub fn object_names(env: &EnvModel, diags: &mut Diagnostics) {
    // Tilt never deploys infra, so only GitOps envs can collide with it.
    let infras = if !env.env_kind().pinned() {
        None
    } else {
        Some(env.infras.values())
    };
    // A config is a Tilt resource and a Helm release of its own.
    let decls: Vec<_> = infras
        .into_iter()
        .flatten()
        .chain(env.services.values())
        .chain(env.configs.values())
        .collect();
    let names: Vec<&str> = decls.iter().map(|d| d.k8s_name.as_str()).collect();
    let span = |d: &crate::model::Decl| d.explicit_name().map_or(d.name_span, |n| n.span);
    for (i, first) in repeats(&names) {
        let (Some(d), Some(other)) = (decls.get(i), decls.get(first)) else {
            continue;
        };
        diags.push(
            Diagnostic::new(
                Code::E4001,
                span(d),
                format!(
                    "`{}` and `{}` both render objects named `{}` in env `{}`",
                    d.id.name, other.id.name, d.k8s_name, env.name
                ),
            )
            .label("second declaration with this name")
            .secondary(span(other), "first one here")
            .help("give one of them a distinct `name = \"…\"`"),
        );
    }
}

/// Every item whose key an earlier item has, with the first such item:
/// `(index, index of the first)`, in item order. One sort, where a map
/// insert per item cost ten string comparisons and an allocation each.
fn repeats(keys: &[&str]) -> Vec<(usize, usize)> {
    let mut order: Vec<(&str, usize)> = keys.iter().copied().zip(0..).collect();
    order.sort_unstable();
    let mut out = Vec::new();
    let mut first: Option<(&str, usize)> = None;
    for (key, i) in order {
        match first {
            Some((k, f)) if k == key => out.push((i, f)),
            _ => first = Some((key, i)),
        }
    }
    out.sort_unstable();
    out
}

/// The env-level requirements of its delivery kind.
pub fn env(env: &EnvModel, diags: &mut Diagnostics) {
    let kind = env.kind();
    let env_kind = env.env_kind();
    let e = env.settings();
    let routing = e.routing();
    if routing.and_then(Value::as_str) == Some("gateway") && e.gateway().is_none() {
        if let Some(host) = env.services.values().find_map(|s| s.service().host()) {
            diags.push(
                Diagnostic::new(
                    Code::E2003,
                    routing.map_or(env.span, |r| r.span),
                    format!(
                        "env `{}` routes hosts through a Gateway but names none",
                        env.name
                    ),
                )
                .label("`routing = \"gateway\"` without `gateway`")
                .secondary(host.span, "this host would get an HTTPRoute that attaches to nothing")
                .help("add `gateway { name = \"public\", namespace = \"gateway\" }`, or use `routing = \"ingress\"`"),
            );
        }
    }
    if env_kind == crate::model::EnvKind::Tilt {
        return;
    }
    if env.builds_images() && e.registry().is_none() {
        diags.push(
            Diagnostic::new(
                Code::E2003,
                env.span,
                format!(
                    "env `{}` deploys images built from source but sets no `registry`",
                    env.name
                ),
            )
            .label(format!("a {kind} env pulls built images from a registry"))
            .help("add `registry = \"registry.example.com/team\"`"),
        );
    }
    if env_kind == crate::model::EnvKind::Flux {
        let has = e.flux_git().is_some() || e.flux_oci().is_some();
        if !has {
            diags.push(
                Diagnostic::new(Code::E2003, env.span, format!("flux env `{}` names no source", env.name))
                    .label("needs `flux { git { … } }` or `flux { oci { … } }`")
                    .help("add `flux { git { url = \"https://…\", branch = \"main\", path = \"./clusters/prod\" } }`"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::repeats;

    #[test]
    fn repeats_name_each_later_item_with_the_first_of_its_key() {
        let keys = ["b", "a", "b", "c", "a", "b"];
        assert_eq!(repeats(&keys), [(2, 0), (4, 1), (5, 0)]);
        assert!(repeats(&["x", "y"]).is_empty());
        assert!(repeats(&[]).is_empty());
    }
}
