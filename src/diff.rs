//! `shipc diff --env A --env B`: what a promotion from A to B changes, per
//! service and infra — the image each env deploys (with digest), and every
//! other field of the evaluated model (a generic walk: command, probes,
//! security, volumes, load balancers, chart versions and values, …), as
//! dotted paths. Rows are sorted by declaration, then field.

use crate::images::{Images, Overrides, PinSource};
use crate::lock::Lockfile;
use crate::model::view::ImageUse;
use crate::model::{Decl, EnvModel, Value, V};
use crate::syntax::ast::DeclKind;
use std::collections::{BTreeMap, BTreeSet};

/// One difference.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Row {
    /// `service` or `infra`.
    pub kind: &'static str,
    /// The declaration name.
    pub service: String,
    /// What differs (`image`, `replicas`, `env_vars.LOG_LEVEL`, …).
    pub field: String,
    /// The value in the first env (`-` when absent).
    pub a: String,
    /// The value in the second env.
    pub b: String,
}

fn show(v: &Value) -> String {
    match &v.kind {
        V::Str(s) => s.clone(),
        V::Int(n) => n.to_string(),
        V::Bool(b) => b.to_string(),
        V::Quantity(q) => q.text.clone(),
        V::Number(text) => text.clone(),
        V::Range(lo, hi) => match hi {
            Some(h) if matches!(lo.kind, V::None) => format!(".. {}", show(h)),
            Some(h) => format!("{} .. {}", show(lo), show(h)),
            None => show(lo),
        },
        V::Call(c) => {
            let parts: Vec<String> = c
                .args
                .iter()
                .map(|(k, v)| format!("{k} = {}", show(v)))
                .collect();
            format!("{}({})", c.func, parts.join(", "))
        }
        V::List(items) => format!(
            "[{}]",
            items.iter().map(show).collect::<Vec<_>>().join(", ")
        ),
        V::Decl(d) => d.name.clone(),
        V::Addr(a) => a.host_port(),
        V::Record(m) => {
            let parts: Vec<String> = m
                .iter()
                .filter(|(_, v)| !matches!(v.kind, V::None))
                .map(|(k, v)| format!("{k} = {}", show(v)))
                .collect();
            format!("{{ {} }}", parts.join(", "))
        }
        _ => "-".into(),
    }
}

/// Every leaf of a record as `path → shown value` (records and maps walked,
/// anything else shown whole; unset fields left out).
fn flatten(prefix: &str, v: &Value, out: &mut BTreeMap<String, String>) {
    match &v.kind {
        V::None => {}
        V::Record(m) if m.is_empty() => {}
        V::Record(m) => {
            for (k, x) in m {
                let path = if prefix.is_empty() {
                    k.to_string()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&path, x, out);
            }
        }
        _ => {
            out.insert(prefix.to_string(), show(v));
        }
    }
}

/// How an env deploys a service's image.
fn image(env: &EnvModel, svc: &Decl, images: &Images) -> String {
    let Some(v) = svc.service().image() else {
        return "-".into();
    };
    if !env.env_kind().pinned() {
        return match ImageUse::of(v) {
            Some(ImageUse::Built(name)) => {
                format!("built by Tilt ({})", env.image_repository(name))
            }
            Some(ImageUse::External(_, r)) => show(r),
            None => show(v),
        };
    }
    match images.pinned_at(&svc.id.name) {
        Some(p) => p.reference(),
        None => "(not pinned: run `shipc lock`)".into(),
    }
}

fn fields(env: &EnvModel, decl: &Decl, images: &Images) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    flatten("", &decl.value, &mut m);
    m.retain(|k, _| k != "image" && !k.starts_with("image."));
    if decl.id.kind == DeclKind::Service {
        m.insert("image".into(), image(env, decl, images));
    }
    m.insert("name".into(), decl.k8s_name.clone());
    m
}

/// The differences between two envs, by declaration and field.
pub fn diff(a: &EnvModel, b: &EnvModel, lock: &Lockfile, overrides: &Overrides) -> Vec<Row> {
    let pins = PinSource {
        lock,
        overrides,
        lock_command: "shipc lock",
    };
    let (ia, _) = Images::resolve(a, pins);
    let (ib, _) = Images::resolve(b, pins);
    let mut rows = Vec::new();
    let sets = [
        ("service", &a.services, &b.services),
        ("infra", &a.infras, &b.infras),
    ];
    for (kind, da, db) in sets {
        let names: BTreeSet<&String> = da.keys().chain(db.keys()).collect();
        for name in names {
            let fa = da.get(name).map(|s| fields(a, s, &ia));
            let fb = db.get(name).map(|s| fields(b, s, &ib));
            match (fa, fb) {
                (Some(fa), Some(fb)) => {
                    let keys: BTreeSet<&String> = fa.keys().chain(fb.keys()).collect();
                    for k in keys {
                        let (x, y) = (fa.get(k), fb.get(k));
                        if x != y {
                            rows.push(Row {
                                kind,
                                service: name.clone(),
                                field: k.clone(),
                                a: x.cloned().unwrap_or_else(|| "-".into()),
                                b: y.cloned().unwrap_or_else(|| "-".into()),
                            });
                        }
                    }
                }
                (x, y) => rows.push(Row {
                    kind,
                    service: name.clone(),
                    field: "deployed".into(),
                    a: if x.is_some() { "yes" } else { "no" }.into(),
                    b: if y.is_some() { "yes" } else { "no" }.into(),
                }),
            }
        }
    }
    rows
}

/// A plain-text table (columns padded, long values kept whole).
pub fn table(a: &str, b: &str, rows: &[Row]) -> String {
    if rows.is_empty() {
        return format!(
            "envs `{a}` and `{b}` deploy the same services and infra with the same settings\n"
        );
    }
    let header = ["NAME", "FIELD", a, b];
    let mut w = header.map(str::len);
    for r in rows {
        for (i, s) in [&r.service, &r.field, &r.a, &r.b].iter().enumerate() {
            if let Some(x) = w.get_mut(i) {
                *x = (*x).max(s.chars().count()).min(80);
            }
        }
    }
    let line = |cols: [&str; 4]| {
        let mut s = String::new();
        for (i, c) in cols.iter().enumerate() {
            let width = w.get(i).copied().unwrap_or(0);
            if i + 1 == cols.len() {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<width$}  "));
            }
        }
        s.trim_end().to_string() + "\n"
    };
    let mut out = line(header);
    for r in rows {
        let name = if r.kind == "infra" {
            format!("infra {}", r.service)
        } else {
            r.service.clone()
        };
        out.push_str(&line([&name, &r.field, &r.a, &r.b]));
    }
    out
}
