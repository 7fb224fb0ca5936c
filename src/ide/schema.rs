//! What the stdlib says about a place in a file: the schema type of a field
//! path, the comments that document it, and what the field evaluated to in
//! each env.

use crate::model::{Value, V};
use crate::program::types::{FieldTy, Ty, Types};
use crate::program::Program;
use crate::source::{SourceMap, Span};
use crate::syntax::ast::DeclKind;
use crate::Analysis;

/// Whose field a path is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// A declaration's body.
    Decl(DeclKind, String),
    /// An env's own fields.
    Env(String),
    /// `A.field = …` in an env body.
    Override {
        /// The env.
        env: String,
        /// A's kind.
        kind: DeclKind,
        /// A.
        name: String,
    },
    /// A template body (a service or infra body).
    Template(String),
    /// `project { }`.
    Project,
    /// `policy { }`.
    Policy,
    /// A let's value, or nothing with a schema.
    None,
}

/// The schema a body of this owner is checked against.
pub fn root(program: &Program, owner: &Owner) -> Option<Ty> {
    Some(match owner {
        Owner::Decl(k, _) | Owner::Override { kind: k, .. } => program.schema(*k),
        Owner::Env(_) => program.schema(DeclKind::Env),
        Owner::Template(_) => program.schema(DeclKind::Service),
        Owner::Project => Ty::Named("ProjectSchema".into()),
        Owner::Policy | Owner::None => return None,
    })
}

/// One step down a type: a record's field (or the map a labelled keyword
/// fills), a map's or list's element.
pub fn step<'t>(types: &'t Types, ty: &'t Ty, key: &str) -> Option<(Ty, Option<&'t FieldTy>)> {
    match types.resolve(ty) {
        Ty::Record(r) => {
            if let Some(f) = r.fields.get(key) {
                return Some((f.ty.clone(), Some(f)));
            }
            let field = r.labels.get(key)?;
            let f = r.fields.get(field.as_str())?;
            Some((f.ty.clone(), Some(f)))
        }
        Ty::Map(t) | Ty::List(t) => Some(((**t).clone(), None)),
        Ty::Optional(t) => step(types, t, key),
        _ => None,
    }
}

/// The type (and schema field, if the last step was one) at a path.
pub fn at_path<'t>(
    types: &'t Types,
    root: &'t Ty,
    path: &[String],
) -> Option<(Ty, Option<&'t FieldTy>)> {
    let mut ty = root.clone();
    let mut field = None;
    for key in path {
        // The borrow of `ty` must not outlive the loop step: look up again
        // from the owned type each time.
        let (next, f) = step_owned(types, &ty, key)?;
        ty = next;
        field = f;
    }
    Some((ty, field))
}

fn step_owned<'t>(types: &'t Types, ty: &Ty, key: &str) -> Option<(Ty, Option<&'t FieldTy>)> {
    let resolved: Ty = types.resolve(ty).clone();
    match resolved {
        Ty::Record(r) => {
            let name = if r.fields.contains_key(key) {
                key.to_string()
            } else {
                r.labels.get(key)?.clone()
            };
            let t = r.fields.get(name.as_str())?.ty.clone();
            // The field as stored in the type environment (a stable borrow).
            Some((t, find_field(types, ty, &name)))
        }
        Ty::Map(t) | Ty::List(t) => Some(((*t).clone(), None)),
        Ty::Optional(t) => step_owned(types, &t, key),
        _ => None,
    }
}

fn find_field<'t>(types: &'t Types, ty: &Ty, name: &str) -> Option<&'t FieldTy> {
    match ty {
        Ty::Named(n) => match types.aliases.get(&**n)? {
            Ty::Record(r) => r.fields.get(name),
            Ty::Optional(t) => find_field(types, t, name),
            other @ Ty::Named(_) => find_field(types, other, name),
            _ => None,
        },
        Ty::Optional(t) => find_field(types, t, name),
        _ => None,
    }
}

/// The comments that document the item at `span`: the comment lines right
/// above it and a comment at the end of its line.
pub fn doc(sources: &SourceMap, span: Span) -> String {
    let Some(file) = sources.get(span.file) else {
        return String::new();
    };
    let text = &file.text;
    let start = (span.start as usize).min(text.len());
    let line_start = text
        .get(..start)
        .and_then(|t| t.rfind('\n'))
        .map_or(0, |n| n + 1);
    let mut above: Vec<&str> = Vec::new();
    let mut cursor = line_start;
    while cursor > 0 {
        let prev_end = cursor - 1;
        let prev_start = text
            .get(..prev_end)
            .and_then(|t| t.rfind('\n'))
            .map_or(0, |n| n + 1);
        let line = text.get(prev_start..prev_end).unwrap_or("").trim();
        match line.strip_prefix('#') {
            Some(c) if !c.trim_start().starts_with("----") => above.push(c.trim()),
            _ => break,
        }
        cursor = prev_start;
    }
    above.reverse();
    let end = (span.end as usize).min(text.len());
    let line_end = text
        .get(end..)
        .and_then(|t| t.find('\n'))
        .map_or(text.len(), |n| end + n);
    let rest = text.get(end..line_end).unwrap_or("");
    let trailing = rest
        .find('#')
        .map(|i| rest.get(i + 1..).unwrap_or("").trim());
    let mut out = above.join(" ");
    if let Some(t) = trailing.filter(|t| !t.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(t);
    }
    out
}

/// A value as Ship source would write it (long values shortened).
pub fn show(v: &Value) -> String {
    let s = show_full(v);
    if s.chars().count() > 100 {
        let t: String = s.chars().take(97).collect();
        format!("{t}…")
    } else {
        s
    }
}

fn show_full(v: &Value) -> String {
    match &v.kind {
        V::Str(s) => format!("{s:?}"),
        V::Int(n) => n.to_string(),
        V::Bool(b) => b.to_string(),
        V::Quantity(q) => q.text.clone(),
        V::Number(text) => text.clone(),
        V::Range(lo, hi) => match hi {
            Some(h) if matches!(lo.kind, V::None) => format!(".. {}", show_full(h)),
            Some(h) => format!("{} .. {}", show_full(lo), show_full(h)),
            None => show_full(lo),
        },
        V::Call(c) => {
            let parts: Vec<String> = c
                .args
                .iter()
                .filter(|(_, v)| !matches!(v.kind, V::None))
                .map(|(k, v)| format!("{k} = {}", show_full(v)))
                .collect();
            format!("{}({})", c.func, parts.join(", "))
        }
        V::List(items) => format!(
            "[{}]",
            items.iter().map(show_full).collect::<Vec<_>>().join(", ")
        ),
        V::Decl(d) => d.name.clone(),
        V::Ports(d, _) => format!("{}.port", d.name),
        V::Addr(a) => format!("{:?}", a.host_port()),
        V::Record(m) => {
            let parts: Vec<String> = m
                .iter()
                .filter(|(_, v)| !matches!(v.kind, V::None))
                .map(|(k, v)| format!("{k} = {}", show_full(v)))
                .collect();
            if parts.is_empty() {
                "{}".into()
            } else {
                format!("{{ {} }}", parts.join(", "))
            }
        }
        V::Name { name, .. } => name.to_string(),
        V::Namespace(n) => n.clone(),
        V::None => "unset".into(),
        V::Unknown => "?".into(),
    }
}

fn get_path<'v>(v: &'v Value, path: &[String]) -> Option<&'v Value> {
    path.iter().try_fold(v, |v, k| v.get(k))
}

/// What the field at `path` of `owner` evaluated to in each env that
/// deploys it: (env, shown value), in env order. Unset in an env: absent.
pub fn values(analysis: &Analysis, owner: &Owner, path: &[String]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for env in &analysis.checked.envs {
        let value = match owner {
            Owner::Decl(kind, name) => {
                let Some(map) = env.decls(*kind) else {
                    if &env.name != name {
                        continue;
                    }
                    if let Some(v) = get_path(&env.env, path) {
                        out.push((env.name.clone(), show(v)));
                    }
                    continue;
                };
                map.get(name).and_then(|d| get_path(&d.value, path))
            }
            Owner::Env(e) if &env.name == e => get_path(&env.env, path),
            Owner::Override { env: e, kind, name } if &env.name == e => {
                let Some(map) = env.decls(*kind) else {
                    continue;
                };
                map.get(name).and_then(|d| get_path(&d.value, path))
            }
            _ => None,
        };
        if let Some(v) = value {
            out.push((env.name.clone(), show(v)));
        }
    }
    out
}

/// `value (env), value (env)`, or `value (every env)` when all agree.
pub fn summarize(path: &[String], values: &[(String, String)], envs: usize) -> Option<String> {
    let first = values.first()?;
    let name = path.join(".");
    if values.len() == envs && envs > 1 && values.iter().all(|(_, v)| v == &first.1) {
        return Some(format!("`{name}`: `{}` (every env)", first.1));
    }
    let parts: Vec<String> = values.iter().map(|(e, v)| format!("`{v}` ({e})")).collect();
    Some(format!("`{name}`: {}", parts.join(", ")))
}
