//! Completion from the tokens before the cursor, so it works in the
//! half-typed text an editor sends: field names from the schema at the
//! cursor (with docs and snippets), declaration names where a reference
//! fits, string-literal union members, stdlib functions with their
//! signatures, members (`api.port.`, `env.`, `std.`), env names.

use super::index::Symbol;
use super::lex::{self, Tok, TokKind};
use super::schema::{self, Owner};
use super::Snapshot;
use crate::program::types::Ty;
use crate::syntax::ast::DeclKind;

/// What a completion item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ItemKind {
    /// A schema field.
    Field,
    /// A keyword or a labelled entry (`port NAME = …`).
    Keyword,
    /// A declaration name.
    Decl,
    /// A let.
    Let,
    /// A stdlib function.
    Function,
    /// A member of a string-literal union, `true`/`false`.
    EnumMember,
    /// A port label.
    Port,
    /// An env name.
    Env,
    /// A stdlib module or a namespace (`env`, `self`, `std`).
    Module,
    /// A member of an address or declaration (`url`, `host`).
    Property,
    /// A template.
    Template,
}

/// One completion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// What is shown and filtered on.
    pub label: String,
    /// What it is.
    pub kind: ItemKind,
    /// The type or signature.
    pub detail: Option<String>,
    /// Markdown documentation.
    pub doc: Option<String>,
    /// A snippet (`$0` placeholders) to insert instead of the label.
    pub snippet: Option<String>,
}

impl Item {
    fn new(label: impl Into<String>, kind: ItemKind) -> Item {
        Item {
            label: label.into(),
            kind,
            detail: None,
            doc: None,
            snippet: None,
        }
    }

    fn detail(mut self, d: impl Into<String>) -> Item {
        self.detail = Some(d.into());
        self
    }

    fn doc(mut self, d: String) -> Item {
        if !d.is_empty() {
            self.doc = Some(d);
        }
        self
    }

    fn snippet(mut self, s: impl Into<String>) -> Item {
        self.snippet = Some(s.into());
        self
    }
}

#[derive(Debug, Clone)]
struct Frame {
    open: char,
    /// The tokens of the entry that opened it (before the bracket).
    head: Vec<Tok>,
}

/// Completions at `offset` of `text` (the editor's current text, which may
/// not parse), using the snapshot for names and types.
pub fn complete(snap: &Snapshot, text: &str, offset: usize) -> Vec<Item> {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or("");
    let mut toks: Vec<Tok> = lex::lex(before);
    if let Some(last) = toks.last() {
        if last.end == offset
            && matches!(last.kind, TokKind::Comment | TokKind::Str | TokKind::Number)
        {
            return Vec::new();
        }
        // The word being typed is the client's to filter on.
        if last.kind == TokKind::Word && last.end == offset {
            toks.pop();
        }
    }
    let mut frames: Vec<Frame> = Vec::new();
    let mut stmt_start = 0;
    let mut starts: Vec<usize> = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        let s = t.text(before);
        match (t.kind, s) {
            (TokKind::Punct, "{" | "(" | "[") => {
                frames.push(Frame {
                    open: s.chars().next().unwrap_or('{'),
                    head: toks.get(stmt_start..i).unwrap_or(&[]).to_vec(),
                });
                starts.push(stmt_start);
                stmt_start = i + 1;
            }
            (TokKind::Punct, "}" | ")" | "]") => {
                frames.pop();
                // The closed bracket ends its value; the entry goes on
                // until the next separator.
                stmt_start = starts.pop().unwrap_or(0);
            }
            (TokKind::Punct, ",") | (TokKind::Newline, _) => {
                // A line that ends in an operator continues on the next.
                let prev = toks
                    .get(..i)
                    .and_then(|p| p.iter().rev().find(|t| t.kind != TokKind::Comment));
                let continues = prev.is_some_and(|p| {
                    p.kind == TokKind::Punct
                        && ["=", "..", "+", "||", "&&", "==", "!="].contains(&p.text(before))
                });
                if s == "," || !continues {
                    stmt_start = i + 1;
                }
            }
            _ => {}
        }
    }
    let stmt: Vec<Tok> = toks
        .get(stmt_start..)
        .unwrap_or(&[])
        .iter()
        .copied()
        .filter(|t| !matches!(t.kind, TokKind::Comment | TokKind::Newline))
        .collect();
    let words =
        |ts: &[Tok]| -> Vec<String> { ts.iter().map(|t| t.text(before).to_string()).collect() };
    let stmt_words = words(&stmt);
    let (owner, mut path) = resolve_frames(snap, &frames, before);

    // `a.b.` — members (in a value) or a deeper field path (as a key).
    if stmt_words.last().map(String::as_str) == Some(".") {
        let chain = chain_before(&stmt_words);
        let eq = stmt_words.iter().position(|w| w == "=");
        let in_value = eq.is_some() || frames.last().is_some_and(|f| f.open != '{');
        if !in_value {
            let (owner, base) = match (&owner, chain.first()) {
                (Owner::Env(env), Some(first)) if !snap.is_env_field(first) => {
                    match snap.decl_kind(first) {
                        Some(kind) => (
                            Owner::Override {
                                env: env.clone(),
                                kind,
                                name: first.clone(),
                            },
                            chain.get(1..).unwrap_or(&[]).to_vec(),
                        ),
                        None => (owner.clone(), chain.clone()),
                    }
                }
                _ => (owner.clone(), chain.clone()),
            };
            path.extend(base);
            return fields(snap, &owner, &path);
        }
        return members(snap, &owner, &chain);
    }

    let top = frames.last();
    match top.map(|f| f.open) {
        None => {
            if stmt_words.is_empty() {
                return top_level();
            }
            if stmt_words.first().map(String::as_str) == Some("let")
                && stmt_words.iter().any(|w| w == "=")
            {
                return values(snap, &owner, None, &stmt_words);
            }
            if stmt_words.last().map(String::as_str) == Some("from") {
                return templates(snap);
            }
            Vec::new()
        }
        Some('{') => match stmt_words.iter().position(|w| w == "=") {
            None if stmt_words.is_empty() => {
                let mut items = fields(snap, &owner, &path);
                if let (Owner::Env(_), true) = (&owner, path.is_empty()) {
                    items.extend(override_targets(snap));
                }
                items
            }
            None => Vec::new(),
            Some(eq) => {
                let keys: Vec<String> = stmt_words
                    .get(..eq)
                    .unwrap_or(&[])
                    .iter()
                    .filter(|w| *w != ".")
                    .cloned()
                    .collect();
                let (owner, keys) = override_owner(snap, &owner, path.is_empty(), keys);
                path.extend(keys);
                let ty = expected(snap, &owner, &path);
                values(snap, &owner, ty.as_ref(), &stmt_words)
            }
        },
        Some('(') => {
            let callee = top
                .and_then(|f| f.head.last())
                .map(|t| t.text(before).to_string())
                .unwrap_or_default();
            let from_template =
                top.is_some_and(|f| f.head.iter().any(|t| t.text(before) == "from"));
            call(snap, &owner, &callee, from_template, &stmt_words)
        }
        Some(_) => {
            // In a list: the element type of the entry's field.
            let head = top.map(|f| words(&f.head)).unwrap_or_default();
            let eq = head.iter().position(|w| w == "=");
            let keys: Vec<String> = eq
                .and_then(|e| head.get(..e))
                .unwrap_or(&[])
                .iter()
                .filter(|w| *w != ".")
                .cloned()
                .collect();
            let (owner, keys) = override_owner(snap, &owner, path.is_empty(), keys);
            path.extend(keys);
            let ty = expected(snap, &owner, &path)
                .map(|t| snap.analysis.checked.program.types.element(&t));
            values(snap, &owner, ty.as_ref(), &stmt_words)
        }
    }
}

/// In an env body, `api.replicas` overrides `api`'s field.
fn override_owner(
    snap: &Snapshot,
    owner: &Owner,
    at_root: bool,
    keys: Vec<String>,
) -> (Owner, Vec<String>) {
    if let (Owner::Env(env), true, Some(first)) = (owner, at_root, keys.first()) {
        if !snap.is_env_field(first) {
            if let Some(kind) = snap.decl_kind(first) {
                return (
                    Owner::Override {
                        env: env.clone(),
                        kind,
                        name: first.clone(),
                    },
                    keys.get(1..).unwrap_or(&[]).to_vec(),
                );
            }
        }
    }
    (owner.clone(), keys)
}

/// The dotted names before a trailing `.`: `api . port .` → [api, port].
fn chain_before(words: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = words.len().saturating_sub(1);
    while i > 0 {
        let Some(w) = words.get(i - 1) else { break };
        if !w
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        {
            break;
        }
        out.push(w.clone());
        if i < 2 || words.get(i - 2).map(String::as_str) != Some(".") {
            break;
        }
        i -= 2;
    }
    out.reverse();
    out
}

/// Who owns the innermost body, and the field path down to it.
fn resolve_frames(snap: &Snapshot, frames: &[Frame], text: &str) -> (Owner, Vec<String>) {
    let mut owner = Owner::None;
    let mut path: Vec<String> = Vec::new();
    for f in frames {
        let w: Vec<&str> = f
            .head
            .iter()
            .filter(|t| !matches!(t.kind, TokKind::Comment | TokKind::Newline))
            .map(|t| t.text(text))
            .collect();
        if f.open != '{' {
            continue;
        }
        match w.as_slice() {
            [kw, name, ..] if matches!(*kw, "service" | "image" | "infra") => {
                let kind = match *kw {
                    "service" => DeclKind::Service,
                    "image" => DeclKind::Image,
                    _ => DeclKind::Infra,
                };
                owner = Owner::Decl(kind, (*name).to_string());
                path.clear();
            }
            ["env", name, ..] => {
                owner = Owner::Env((*name).to_string());
                path.clear();
            }
            ["template", name, ..] => {
                owner = Owner::Template((*name).to_string());
                path.clear();
            }
            ["project", ..] => {
                owner = Owner::Project;
                path.clear();
            }
            ["policy", ..] => {
                owner = Owner::Policy;
                path.clear();
            }
            ["type" | "let" | "fn", ..] => {
                owner = Owner::None;
                path.clear();
            }
            _ => {
                let keys: Vec<String> = w
                    .iter()
                    .take_while(|s| **s != "=")
                    .filter(|s| **s != ".")
                    .map(|s| (*s).to_string())
                    .collect();
                let (o, keys) = override_owner(snap, &owner, path.is_empty(), keys);
                owner = o;
                path.extend(keys);
            }
        }
    }
    (owner, path)
}

fn expected(snap: &Snapshot, owner: &Owner, path: &[String]) -> Option<Ty> {
    let p = &snap.analysis.checked.program;
    let root = schema::root(p, owner)?;
    schema::at_path(&p.types, &root, path).map(|(t, _)| t)
}

fn top_level() -> Vec<Item> {
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

fn templates(snap: &Snapshot) -> Vec<Item> {
    snap.analysis
        .checked
        .program
        .templates
        .keys()
        .map(|t| Item::new(t.clone(), ItemKind::Template).detail("template"))
        .collect()
}

/// Field names of the record at `path` of `owner`'s schema.
fn fields(snap: &Snapshot, owner: &Owner, path: &[String]) -> Vec<Item> {
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
fn override_targets(snap: &Snapshot) -> Vec<Item> {
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

fn port_labels(snap: &Snapshot, kind: Option<DeclKind>, owner: &str) -> Vec<Item> {
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

fn owner_name(owner: &Owner) -> Option<(Option<DeclKind>, &str)> {
    match owner {
        Owner::Decl(k, n)
        | Owner::Override {
            kind: k, name: n, ..
        } => Some((Some(*k), n)),
        _ => None,
    }
}

/// After `X.`: what X has.
fn members(snap: &Snapshot, owner: &Owner, chain: &[String]) -> Vec<Item> {
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
fn call(
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
fn values(snap: &Snapshot, owner: &Owner, ty: Option<&Ty>, stmt: &[String]) -> Vec<Item> {
    let mut out = values_unsorted(snap, owner, ty, stmt);
    // One item per label (an image and a service may share a name).
    let mut seen = std::collections::BTreeSet::new();
    out.retain(|i| seen.insert(i.label.clone()));
    out
}

fn values_unsorted(snap: &Snapshot, owner: &Owner, ty: Option<&Ty>, stmt: &[String]) -> Vec<Item> {
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

fn env_names(snap: &Snapshot) -> Vec<Item> {
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
fn walk(types: &crate::program::types::Types, ty: &Ty, f: &mut dyn FnMut(&Ty)) {
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
fn nominals(types: &crate::program::types::Types, ty: &Ty) -> Vec<String> {
    let mut out = Vec::new();
    walk(types, ty, &mut |t| {
        if let Ty::Named(n) | Ty::Nominal(n) = t {
            out.push(n.to_string());
        }
    });
    out
}

/// Stdlib functions (those returning one of `rets`, when given).
fn functions(snap: &Snapshot, rets: Option<&Vec<String>>) -> Vec<Item> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::MemoryHost;

    fn snap(files: &[(&str, &str)]) -> Snapshot {
        let mut host = MemoryHost::new();
        for (p, t) in files {
            host.add(format!("ship/{p}"), *t);
        }
        let cache = crate::Cache::new();
        let mut d = crate::Diagnostics::new();
        let a = crate::analyze_with(
            &host,
            std::path::Path::new("ship"),
            None,
            &mut d,
            Some(&cache),
        )
        .unwrap();
        Snapshot::new(a, d.into_sorted(), &cache)
    }

    fn labels(items: &[Item]) -> Vec<&str> {
        items.iter().map(|i| i.label.as_str()).collect()
    }

    fn at(s: &Snapshot, text: &str, marker: &str) -> Vec<String> {
        let at = text.find(marker).unwrap() + marker.len();
        complete(s, text, at).into_iter().map(|i| i.label).collect()
    }

    #[test]
    fn completes_by_context() {
        let main = "image api { context = \"api\" }\nservice api { port http = 8080 }\nenv local { kind = tilt }\n";
        let s = snap(&[("main.ship", main)]);
        let t = "service web {\n  resources {\n    ";
        assert_eq!(at(&s, t, "    "), ["cpu", "ephemeral_storage", "memory"]);
        let t = "service web {\n  workload = ";
        assert_eq!(
            at(&s, t, "= "),
            ["deployment", "statefulset", "job", "cronjob"]
        );
        let t = "service web {\n  image = ";
        assert!(at(&s, t, "= ").contains(&"api".to_string()));
        let t = "service api {\n  port http = 8080\n  readiness = http(\"/\", port = ";
        assert!(at(&s, t, "port = ").contains(&"http".to_string()));
        let t = "env prod {\n  ";
        let l = at(&s, t, "  ");
        assert!(
            l.contains(&"kind".to_string()) && l.contains(&"api".to_string()),
            "{l:?}"
        );
        let t = "env prod {\n  api.";
        assert!(at(&s, t, "api.").contains(&"replicas".to_string()));
        let t = "env prod {\n  kind = ";
        assert_eq!(at(&s, t, "= "), ["tilt", "helmfile", "flux"]);
        let l = at(&s, "", "");
        assert!(
            l.contains(&"service".to_string()) && l.contains(&"env".to_string()),
            "{l:?}"
        );
        let t = "let x = if env.name == ";
        assert_eq!(at(&s, t, "== "), ["\"local\""]);
        let t = "service web {\n  liveness = ";
        let l = at(&s, t, "= ");
        assert!(
            l.contains(&"http".to_string()) && !l.contains(&"secret".to_string()),
            "{l:?}"
        );
        let t = "service web {\n  env_vars { A = \"x\" }\n  ";
        assert!(at(&s, t, "}\n  ").contains(&"replicas".to_string()));
        // Inside a comment or a string: nothing.
        assert!(at(&s, "# serv", "serv").is_empty());
        assert!(at(&s, "service web { name = \"a", "\"a").is_empty());
    }

    #[test]
    fn members_of_a_port_in_a_broken_file() {
        let main = "service api { port http = 8080 }\nenv local { kind = tilt }\n";
        let web = "service web {\n  env_vars { A = api.port. }\n}\n";
        let s = snap(&[("main.ship", main), ("web.ship", web)]);
        let at = web.find("port.").unwrap() + 5;
        assert_eq!(labels(&complete(&s, web, at)), ["http"]);
        let at = web.find("api.").unwrap() + 4;
        assert_eq!(labels(&complete(&s, web, at)), ["port", "host", "name"]);
    }
}
