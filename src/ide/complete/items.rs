//! What completion offers in each place: top-level keywords, templates,
//! fields, override targets, port labels, members, call arguments, values,
//! env names, functions.

use super::*;

pub(super) fn top_level() -> Vec<Item> {
    [
        ("service", "service ${1:name} {\n\t$0\n}", "a workload"),
        (
            "image",
            "image ${1:name} {\n\t$0\n}",
            "an image to build or pin",
        ),
        (
            "infra",
            "infra ${1:name} {\n\t$0\n}",
            "a Helm chart the services use",
        ),
        (
            "config",
            "config ${1:name} {\n\tfiles {\n\t\t\"${2:app.yaml}\" = $0\n\t}\n}",
            "a ConfigMap the services mount or read",
        ),
        (
            "object",
            "object ${1:name} {\n\tapi_version = \"${2:v1}\"\n\tkind = \"${3:Kind}\"\n\tspec {\n\t\t$0\n\t}\n}",
            "a Kubernetes object Ship does not model (a CRD's, or any built-in kind)",
        ),
        (
            "env",
            "env ${1:name} {\n\tkind = ${2|tilt,helmfile,flux|}\n\t$0\n}",
            "an environment",
        ),
        ("let", "let ${1:name} = $0", "a named value"),
        ("type", "type ${1:Name} = $0", "a type alias"),
        (
            "template",
            "template ${1:name}(${2}) {\n\t$0\n}",
            "a reusable partial body",
        ),
        ("import", "import \"$0\"", "another folder of .ship files"),
        ("project", "project {\n\t$0\n}", "project settings"),
        ("policy", "policy {\n\t$0\n}", "policy severities"),
    ]
    .into_iter()
    .map(|(k, s, d)| Item::new(k, ItemKind::Keyword).snippet(s).detail(d))
    .collect()
}

pub(super) fn templates(snap: &Snapshot) -> Vec<Item> {
    snap.analysis
        .checked
        .program
        .templates
        .keys()
        .map(|t| Item::new(t.clone(), ItemKind::Template).detail("template"))
        .collect()
}

/// Field names of the record at `path` of `owner`'s schema.
pub(super) fn fields(snap: &Snapshot, owner: &Owner, path: &[String]) -> Vec<Item> {
    let p = &snap.analysis.checked.program;
    if *owner == Owner::Policy {
        return crate::check::policy_codes()
            .into_iter()
            .map(|c| {
                Item::new(c, ItemKind::Field)
                    .detail("\"error\" | \"warn\" | \"off\"")
                    .snippet(format!("{c} = ${{1|error,warn,off|}}"))
            })
            .collect();
    }
    let Some(root) = schema::root(p, owner) else {
        return Vec::new();
    };
    let Some((ty, _)) = schema::at_path(&p.types, &root, path) else {
        return Vec::new();
    };
    let Some(rec) = p.types.record(&ty) else {
        return Vec::new();
    };
    let sources = &snap.analysis.loaded.sources;
    let mut out = Vec::new();
    for (name, f) in &rec.fields {
        let block = p.types.record(&f.ty).is_some() || matches!(p.types.resolve(&f.ty), Ty::Map(_));
        let snippet = if block {
            format!("{name} {{\n\t$0\n}}")
        } else {
            format!("{name} = $0")
        };
        let mut detail = f.ty.to_string();
        if f.optional {
            detail.push_str(" (optional)");
        }
        out.push(
            Item::new(name.clone(), ItemKind::Field)
                .detail(detail)
                .doc(schema::doc(sources, f.span))
                .snippet(snippet),
        );
    }
    for (kw, field) in &rec.labels {
        out.push(
            Item::new(kw.clone(), ItemKind::Keyword)
                .detail(format!("adds an entry to `{field}`"))
                .snippet(format!("{kw} ${{1:name}} = $0")),
        );
    }
    out
}

/// In an env body: the declarations it can override (`api.`).
pub(super) fn override_targets(snap: &Snapshot) -> Vec<Item> {
    let p = &snap.analysis.checked.program;
    [DeclKind::Service, DeclKind::Infra, DeclKind::Image]
        .into_iter()
        .flat_map(|k| p.of(k).map(move |(n, _)| (k, n)))
        .map(|(k, n)| {
            Item::new(n.clone(), ItemKind::Decl)
                .detail(format!("override a field of {} `{n}`", k.keyword()))
                .snippet(format!("{n}.$0"))
        })
        .collect()
}

pub(super) fn port_labels(snap: &Snapshot, kind: Option<DeclKind>, owner: &str) -> Vec<Item> {
    snap.index
        .defs
        .keys()
        .filter_map(|s| match s {
            Symbol::Port(k, o, label) if o == owner && kind.is_none_or(|x| x == *k) => {
                Some(label.clone())
            }
            _ => None,
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .map(|l| Item::new(l, ItemKind::Port).detail(format!("a port of `{owner}`")))
        .collect()
}

pub(super) fn owner_name(owner: &Owner) -> Option<(Option<DeclKind>, &str)> {
    match owner {
        Owner::Decl(k, n)
        | Owner::Override {
            kind: k, name: n, ..
        } => Some((Some(*k), n)),
        _ => None,
    }
}

/// After `X.`: what X has.
pub(super) fn members(snap: &Snapshot, owner: &Owner, chain: &[String]) -> Vec<Item> {
    let p = &snap.analysis.checked.program;
    let decl_members = || {
        [
            ("port", "its ports: `.port.NAME` is an address"),
            ("host", "its in-cluster host name"),
            ("name", "its Kubernetes name in the env"),
        ]
        .into_iter()
        .map(|(m, d)| Item::new(m, ItemKind::Property).detail(d))
        .collect::<Vec<_>>()
    };
    let chain: Vec<&str> = chain.iter().map(String::as_str).collect();
    match chain.as_slice() {
        ["env"] => {
            let mut items = fields(snap, &Owner::Env(String::new()), &[]);
            items.push(Item::new("name", ItemKind::Field).detail("String: the env's name"));
            for i in &mut items {
                i.snippet = None;
            }
            items
        }
        ["std"] => p
            .std_lets
            .keys()
            .map(|m| Item::new(m.clone(), ItemKind::Module).detail(format!("std.{m}")))
            .collect(),
        ["std", m] | [m]
            if p.std_lets.contains_key(*m)
                && (chain.len() == 2 || p.std_imports.contains_key(*m)) =>
        {
            p.std_lets
                .get(*m)
                .map(|lets| {
                    lets.iter()
                        .map(|(n, l)| {
                            Item::new(n.clone(), ItemKind::Let)
                                .detail(format!("std.{m}.{n}"))
                                .doc(schema::doc(&snap.analysis.loaded.sources, l.span))
                        })
                        .collect()
                })
                .unwrap_or_default()
        }
        ["self"] => decl_members(),
        [x] if p.decl(DeclKind::Infra, x).is_some() && p.decl(DeclKind::Service, x).is_none() => {
            let mut items = decl_members();
            items.push(
                Item::new("service", ItemKind::Property)
                    .detail("its chart's further Services: `.service.NAME.port.LABEL`"),
            );
            items
        }
        [x] if snap.decl_kind(x).is_some() => decl_members(),
        ["self", "port"] => match owner_name(owner) {
            Some((k, n)) => port_labels(snap, k, n),
            None => Vec::new(),
        },
        [x, "port"] => {
            let kind = [DeclKind::Service, DeclKind::Infra]
                .into_iter()
                .find(|k| p.decl(*k, x).is_some());
            port_labels(snap, kind, x)
        }
        [_, "port", _] => [
            ("url", "String", "`http://host:port`"),
            ("host", "String", "the Service's host name"),
            ("port", "Int", "the Service port"),
            ("number", "Int", "the container port"),
        ]
        .into_iter()
        .map(|(m, t, d)| {
            Item::new(m, ItemKind::Property)
                .detail(t)
                .doc(d.to_string())
        })
        .collect(),
        _ => Vec::new(),
    }
}

/// Inside `f(…)`: parameter names, or the values a parameter takes.
pub(super) fn call(
    snap: &Snapshot,
    owner: &Owner,
    callee: &str,
    template: bool,
    stmt: &[String],
) -> Vec<Item> {
    let p = &snap.analysis.checked.program;
    let params: Vec<(String, Ty)> = if template {
        p.template_params
            .get(callee)
            .map(|ps| ps.iter().map(|x| (x.name.clone(), x.ty.clone())).collect())
            .unwrap_or_default()
    } else {
        p.fns
            .get(callee)
            .map(|f| {
                f.params
                    .iter()
                    .map(|x| (x.name.clone(), x.ty.clone()))
                    .collect()
            })
            .unwrap_or_default()
    };
    if let [name, eq, ..] = stmt {
        if eq == "=" {
            let ty = params
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, t)| t.clone());
            return values(snap, owner, ty.as_ref(), stmt);
        }
    }
    if !stmt.is_empty() {
        return Vec::new();
    }
    let mut items: Vec<Item> = params
        .iter()
        .map(|(n, t)| {
            Item::new(n.clone(), ItemKind::Field)
                .detail(t.to_string())
                .snippet(format!("{n} = $0"))
        })
        .collect();
    // A positional argument: the first parameter's values.
    let first = params.first().map(|(_, t)| t.clone());
    items.extend(values(snap, owner, first.as_ref(), stmt));
    items
}

/// What fits a value of type `ty` (anything, when unknown).
pub(super) fn values(
    snap: &Snapshot,
    owner: &Owner,
    ty: Option<&Ty>,
    stmt: &[String],
) -> Vec<Item> {
    let mut out = values_unsorted(snap, owner, ty, stmt);
    // One item per label (an image and a service may share a name).
    let mut seen = std::collections::BTreeSet::new();
    out.retain(|i| seen.insert(i.label.clone()));
    out
}

pub(super) fn values_unsorted(
    snap: &Snapshot,
    owner: &Owner,
    ty: Option<&Ty>,
    stmt: &[String],
) -> Vec<Item> {
    let p = &snap.analysis.checked.program;
    // `env.name == ` compares with an env's name.
    let n = stmt.len();
    if n >= 4
        && stmt
            .get(n - 4..n - 1)
            .is_some_and(|w| w.join("") == "env.name")
        && stmt.last().is_some_and(|w| w == "==" || w == "!=")
    {
        return env_names(snap);
    }
    let types = &p.types;
    let mut out = Vec::new();
    if let Some(ty) = ty {
        let lits = types.literals(ty);
        if !lits.is_empty() {
            return lits
                .into_iter()
                .map(|l| Item::new(l, ItemKind::EnumMember).detail(ty.to_string()))
                .collect();
        }
        let mut kinds = Vec::new();
        let mut port_name = false;
        let mut boolean = false;
        walk(types, ty, &mut |t| match t {
            Ty::Ref(k) => kinds.push(*k),
            Ty::PortName => port_name = true,
            Ty::Bool => boolean = true,
            _ => {}
        });
        for k in &kinds {
            for (n, _) in p.of(*k) {
                out.push(Item::new(n.clone(), ItemKind::Decl).detail(k.type_name()));
            }
        }
        if kinds.contains(&DeclKind::Env) || stmt.windows(3).any(|w| w.join("") == "env.name") {
            out.extend(env_names(snap));
        }
        if port_name {
            if let Some((k, n)) = owner_name(owner) {
                out.extend(port_labels(snap, k, n));
            }
        }
        if boolean {
            out.push(Item::new("true", ItemKind::EnumMember).detail("Bool"));
            out.push(Item::new("false", ItemKind::EnumMember).detail("Bool"));
        }
        if !out.is_empty() && !matches!(types.resolve(ty), Ty::Any) {
            // Functions that build one of the accepted types.
            let names = nominals(types, ty);
            out.extend(functions(snap, Some(&names)));
            return out;
        }
    }
    if stmt.windows(3).any(|w| w.join("") == "env.name") {
        out.extend(env_names(snap));
    }
    for n in p.lets.keys() {
        out.push(Item::new(n.clone(), ItemKind::Let).detail("let"));
    }
    for k in [DeclKind::Service, DeclKind::Infra, DeclKind::Image] {
        for (n, _) in p.of(k) {
            out.push(Item::new(n.clone(), ItemKind::Decl).detail(k.type_name()));
        }
    }
    for (n, d) in [
        ("env", "the env being compiled"),
        ("self", "this declaration"),
        ("std", "the standard library"),
    ] {
        out.push(Item::new(n, ItemKind::Module).detail(d));
    }
    for m in p.std_imports.keys() {
        out.push(Item::new(m.clone(), ItemKind::Module).detail(format!("std.{m}")));
    }
    let names = ty.map(|t| nominals(types, t));
    out.extend(functions(snap, names.as_ref().filter(|n| !n.is_empty())));
    out
}

pub(super) fn env_names(snap: &Snapshot) -> Vec<Item> {
    snap.analysis
        .checked
        .program
        .of(DeclKind::Env)
        .map(|(n, _)| {
            Item::new(format!("\"{n}\""), ItemKind::Env)
                .detail(format!("env `{n}`"))
                .snippet(format!("\"{n}\""))
        })
        .collect()
}

/// Apply `f` to every alternative of a type (aliases, unions, options,
/// ranges and lists followed).
pub(super) fn walk(types: &crate::program::types::Types, ty: &Ty, f: &mut dyn FnMut(&Ty)) {
    fn go(types: &crate::program::types::Types, ty: &Ty, f: &mut dyn FnMut(&Ty), depth: u8) {
        if depth > 16 {
            return;
        }
        f(ty);
        match ty {
            Ty::Named(_) => go(types, types.resolve(ty), f, depth + 1),
            Ty::Union(alts) => {
                for a in alts.iter() {
                    go(types, a, f, depth + 1);
                }
            }
            Ty::Optional(t) | Ty::List(t) | Ty::Range(t) => go(types, t, f, depth + 1),
            _ => {}
        }
    }
    go(types, ty, f, 0);
}

/// The names of the types a type accepts (`ProbeSpec`, `Probe`, …).
pub(super) fn nominals(types: &crate::program::types::Types, ty: &Ty) -> Vec<String> {
    let mut out = Vec::new();
    walk(types, ty, &mut |t| {
        if let Ty::Named(n) | Ty::Nominal(n) = t {
            out.push(n.to_string());
        }
    });
    out
}

/// Stdlib functions (those returning one of `rets`, when given).
pub(super) fn functions(snap: &Snapshot, rets: Option<&Vec<String>>) -> Vec<Item> {
    let p = &snap.analysis.checked.program;
    let sources = &snap.analysis.loaded.sources;
    p.fns
        .values()
        .filter(|f| rets.is_none_or(|r| r.contains(&f.ret)))
        .map(|f| {
            let params: Vec<String> = f
                .params
                .iter()
                .map(|x| {
                    format!(
                        "{}{}: {}",
                        x.name,
                        if x.optional || x.default.is_some() {
                            "?"
                        } else {
                            ""
                        },
                        x.ty
                    )
                })
                .collect();
            Item::new(f.name.clone(), ItemKind::Function)
                .detail(format!("{}({}) -> {}", f.name, params.join(", "), f.ret))
                .doc(schema::doc(sources, f.span))
                .snippet(format!("{}($0)", f.name))
        })
        .collect()
}
