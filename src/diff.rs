//! `shipc diff --env A --env B`: what a promotion from A to B changes, per
//! service — the image each env deploys (with digest), replicas, workload,
//! resources, env vars and hosts. Rows are sorted by service, then field.

use crate::emit::images::{Overrides, Resolver};
use crate::lock::Lockfile;
use crate::model::{Decl, EnvModel, Value, V};
use crate::syntax::ast::DeclKind;
use std::collections::{BTreeMap, BTreeSet};

/// One difference.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Row {
    /// The service (declaration name).
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
        V::Quantity { text, .. } | V::Number(text) => text.clone(),
        V::Range(lo, hi) => match hi {
            Some(h) => format!("{} .. {}", show(lo), show(h)),
            None => show(lo),
        },
        V::Call { func, args, .. } => {
            let parts: Vec<String> = args
                .iter()
                .map(|(k, v)| format!("{k} = {}", show(v)))
                .collect();
            format!("{func}({})", parts.join(", "))
        }
        V::List(items) => format!(
            "[{}]",
            items.iter().map(show).collect::<Vec<_>>().join(", ")
        ),
        V::Decl(d) => d.name.clone(),
        V::Addr(a) => a.host_port(),
        _ => "-".into(),
    }
}

/// How an env deploys a service's image.
fn image(env: &EnvModel, svc: &Decl, lock: &Lockfile, overrides: &Overrides) -> String {
    let Some(v) = svc.value.get("image") else {
        return "-".into();
    };
    if env.kind() == "tilt" {
        return match &v.kind {
            V::Decl(d) if d.kind == DeclKind::Image => format!(
                "built by Tilt ({})",
                crate::emit::tilt::repository(env, &d.name)
            ),
            V::Call { args, .. } => args.get("ref").map(show).unwrap_or_default(),
            _ => show(v),
        };
    }
    let r = Resolver::new(env, lock, overrides, String::new());
    match r.resolve(&svc.id.name, v) {
        Some(p) => p.reference(),
        None => "(not pinned: run `shipc lock`)".into(),
    }
}

fn fields(
    env: &EnvModel,
    svc: &Decl,
    lock: &Lockfile,
    overrides: &Overrides,
) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    m.insert("image".into(), image(env, svc, lock, overrides));
    m.insert("name".into(), svc.k8s_name.clone());
    for f in ["replicas", "workload", "host", "schedule"] {
        if let Some(v) = svc.value.get(f) {
            m.insert(f.into(), show(v));
        }
    }
    if let Some(r) = svc.value.get("resources") {
        for (k, v) in r.entries() {
            m.insert(format!("resources.{k}"), show(v));
        }
    }
    if let Some(e) = svc.value.get("env_vars") {
        for (k, v) in e.entries() {
            m.insert(format!("env_vars.{k}"), show(v));
        }
    }
    m
}

/// The differences between two envs, by service and field.
pub fn diff(a: &EnvModel, b: &EnvModel, lock: &Lockfile, overrides: &Overrides) -> Vec<Row> {
    let names: BTreeSet<&String> = a.services.keys().chain(b.services.keys()).collect();
    let mut rows = Vec::new();
    for name in names {
        let fa = a.services.get(name).map(|s| fields(a, s, lock, overrides));
        let fb = b.services.get(name).map(|s| fields(b, s, lock, overrides));
        match (fa, fb) {
            (Some(fa), Some(fb)) => {
                let keys: BTreeSet<&String> = fa.keys().chain(fb.keys()).collect();
                for k in keys {
                    let (x, y) = (fa.get(k), fb.get(k));
                    if x != y {
                        rows.push(Row {
                            service: name.clone(),
                            field: k.clone(),
                            a: x.cloned().unwrap_or_else(|| "-".into()),
                            b: y.cloned().unwrap_or_else(|| "-".into()),
                        });
                    }
                }
            }
            (x, y) => rows.push(Row {
                service: name.clone(),
                field: "deployed".into(),
                a: if x.is_some() { "yes" } else { "no" }.into(),
                b: if y.is_some() { "yes" } else { "no" }.into(),
            }),
        }
    }
    rows
}

/// A plain-text table (columns padded, long values kept whole).
pub fn table(a: &str, b: &str, rows: &[Row]) -> String {
    if rows.is_empty() {
        return format!("envs `{a}` and `{b}` deploy the same services with the same settings\n");
    }
    let header = ["SERVICE", "FIELD", a, b];
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
        out.push_str(&line([&r.service, &r.field, &r.a, &r.b]));
    }
    out
}
