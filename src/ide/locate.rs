//! Where an offset is in a file's syntax tree: whose body, which field
//! path, on a key or inside a value, and the innermost expression.

use super::schema::Owner;
use crate::source::Span;
use crate::syntax::ast::{self, DeclKind, EntryKind, ExprKind};

/// The place an offset falls in.
#[derive(Debug, Clone)]
pub struct Place<'a> {
    /// Whose body.
    pub owner: Owner,
    /// The field path of the entry (a labelled entry: `[keyword, label]`,
    /// e.g. `["port", "http"]`, which the schema maps to `ports.http`).
    pub path: Vec<String>,
    /// On a key: its span (the path ends at that key).
    pub key: Option<Span>,
    /// The innermost expression under the offset, if in a value.
    pub expr: Option<&'a ast::Expr>,
}

fn contains(span: Span, offset: u32) -> bool {
    span.start <= offset && offset <= span.end
}

/// Locate `offset` in `file`. `is_env_field` says whether a first key of an
/// env body is the env's own field (else it names a declaration).
pub fn locate<'a>(
    file: &'a ast::File,
    offset: usize,
    is_env_field: &dyn Fn(&str) -> bool,
    decl_kind: &dyn Fn(&str) -> Option<DeclKind>,
) -> Option<Place<'a>> {
    let offset = u32::try_from(offset).ok()?;
    for item in &file.items {
        match item {
            ast::Item::Decl(d) if contains(d.span, offset) => {
                let owner = Owner::Decl(d.kind, d.name.name.clone());
                if let Some(f) = d.templates().find(|f| contains(f.span, offset)) {
                    return Some(in_args(&f.args, offset, owner));
                }
                if d.kind == DeclKind::Env {
                    for e in &d.body.entries {
                        if !contains(e.span, offset) {
                            continue;
                        }
                        let first = e.path.first().map(|k| k.name.as_str()).unwrap_or("");
                        let own = is_env_field(first)
                            || !matches!(e.kind, EntryKind::Assign | EntryKind::Block);
                        let owner = match decl_kind(first) {
                            Some(kind) if !own => Owner::Override {
                                env: d.name.name.clone(),
                                kind,
                                name: first.to_string(),
                            },
                            _ => Owner::Env(d.name.name.clone()),
                        };
                        let skip = usize::from(matches!(owner, Owner::Override { .. }));
                        return Some(in_entry(e, offset, owner, Vec::new(), skip));
                    }
                    return Some(Place {
                        owner: Owner::Env(d.name.name.clone()),
                        path: Vec::new(),
                        key: None,
                        expr: None,
                    });
                }
                return Some(in_body(&d.body, offset, owner, Vec::new()));
            }
            ast::Item::Template(t) if contains(t.span, offset) => {
                let owner = Owner::Template(t.name.name.clone());
                if let Some(f) = &t.from {
                    if contains(f.span, offset) {
                        return Some(in_args(&f.args, offset, owner));
                    }
                }
                for p in &t.params {
                    if let Some(d) = p.default.as_ref().filter(|d| contains(d.span, offset)) {
                        return Some(Place {
                            owner: Owner::None,
                            path: Vec::new(),
                            key: None,
                            expr: Some(innermost(d, offset)),
                        });
                    }
                }
                return Some(in_body(&t.body, offset, owner, Vec::new()));
            }
            ast::Item::Project(b) if contains(b.span, offset) => {
                return Some(in_body(&b.body, offset, Owner::Project, Vec::new()))
            }
            ast::Item::Policy(b) if contains(b.span, offset) => {
                return Some(in_body(&b.body, offset, Owner::Policy, Vec::new()))
            }
            ast::Item::Let(l) if contains(l.span, offset) => {
                return Some(Place {
                    owner: Owner::None,
                    path: Vec::new(),
                    key: None,
                    expr: contains(l.value.span, offset).then(|| innermost(&l.value, offset)),
                })
            }
            _ => {}
        }
    }
    None
}

fn in_args(args: &[ast::Arg], offset: u32, owner: Owner) -> Place<'_> {
    let expr = args
        .iter()
        .find(|a| contains(a.value.span, offset))
        .map(|a| innermost(&a.value, offset));
    Place {
        owner,
        path: Vec::new(),
        key: None,
        expr,
    }
}

fn in_body(body: &ast::Body, offset: u32, owner: Owner, path: Vec<String>) -> Place<'_> {
    match body.entries.iter().find(|e| contains(e.span, offset)) {
        Some(e) => in_entry(e, offset, owner, path, 0),
        None => Place {
            owner,
            path,
            key: None,
            expr: None,
        },
    }
}

/// `skip`: leading keys that are not fields (an override's declaration name).
fn in_entry(
    e: &ast::Entry,
    offset: u32,
    owner: Owner,
    mut path: Vec<String>,
    skip: usize,
) -> Place<'_> {
    if let EntryKind::Labelled(kw) = &e.kind {
        path.push(kw.name.clone());
        if contains(kw.span, offset) {
            return Place {
                owner,
                path,
                key: Some(kw.span),
                expr: None,
            };
        }
    }
    for (i, k) in e.path.iter().enumerate() {
        if i >= skip {
            path.push(k.name.clone());
        }
        if contains(k.span, offset) {
            return Place {
                owner,
                path,
                key: Some(k.span),
                expr: None,
            };
        }
    }
    if let ExprKind::Record(b) = &e.value.kind {
        if matches!(e.kind, EntryKind::Block | EntryKind::Assign) && contains(b.span, offset) {
            return in_body(b, offset, owner, path);
        }
    }
    Place {
        owner,
        path,
        key: None,
        expr: contains(e.value.span, offset).then(|| innermost(&e.value, offset)),
    }
}

/// The smallest expression under the offset.
pub fn innermost(e: &ast::Expr, offset: u32) -> &ast::Expr {
    let children: Vec<&ast::Expr> = match &e.kind {
        ExprKind::Member(b, _) | ExprKind::Not(b) | ExprKind::LimitOnly(b) => vec![b],
        ExprKind::Call(c, args) => std::iter::once(&**c)
            .chain(args.iter().map(|a| &a.value))
            .collect(),
        ExprKind::If(a, b, c) => vec![a, b, c],
        ExprKind::Binary(_, a, b) => vec![a, b],
        ExprKind::List(items) => items.iter().collect(),
        ExprKind::Record(b) => b.entries.iter().map(|e| &e.value).collect(),
        ExprKind::Str(parts) => parts
            .iter()
            .filter_map(|p| match p {
                ast::StrPart::Interp(x) => Some(x),
                ast::StrPart::Lit(_) => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    // In `a.b`, the member name belongs to the whole expression.
    if let ExprKind::Member(b, m) = &e.kind {
        if contains(m.span, offset) {
            return e;
        }
        if contains(b.span, offset) {
            return innermost(b, offset);
        }
        return e;
    }
    children
        .into_iter()
        .find(|c| contains(c.span, offset))
        .map_or(e, |c| innermost(c, offset))
}
