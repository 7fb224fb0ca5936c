//! Hover: the type of the value under the cursor and the field's schema
//! doc, for a reference its declaration and what it evaluates to in each
//! env, for a unit literal its meaning, and for a diagnostic its code's
//! explanation.

use super::index::Symbol;
use super::schema::{self, Owner};
use super::Snapshot;
use crate::eval::units;
use crate::model::QuantityKind;
use crate::program::types::Ty;
use crate::source::{FileId, Span};
use crate::syntax::ast::{self, ExprKind};

/// A hover's text (markdown) and the span it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hover {
    /// What the hover describes.
    pub span: Span,
    /// Markdown.
    pub markdown: String,
}

/// The hover at a byte offset of a file.
pub fn hover(snap: &Snapshot, file: FileId, offset: usize) -> Option<Hover> {
    let mut sections: Vec<String> = Vec::new();
    let mut span = None;
    if let Some(occ) = snap.index.at(file, offset) {
        span = Some(occ.span);
        sections.push(symbol(snap, &occ.symbol));
    }
    if let Some(place) = snap.place(file, offset) {
        let p = &snap.analysis.checked.program;
        let root = schema::root(p, &place.owner);
        let field = root
            .as_ref()
            .and_then(|r| schema::at_path(&p.types, r, &place.path));
        let shown_path: Vec<String> = schema_path(&place.path);
        if let Some(k) = place.key {
            span = span.or(Some(k));
            if let Some((ty, f)) = &field {
                let mut s = format!(
                    "```ship\n{}: {}",
                    place.path.last().map_or("", String::as_str),
                    ty
                );
                if let Some(d) = f.and_then(|f| f.default.as_ref()) {
                    s.push_str(" = ");
                    s.push_str(snap.analysis.loaded.sources.slice(d.span));
                } else if f.is_some_and(|f| f.optional) {
                    s.push_str("  # optional");
                }
                s.push_str("\n```");
                if let Some(f) = f {
                    let doc = schema::doc(&snap.analysis.loaded.sources, f.span);
                    if !doc.is_empty() {
                        s.push_str("\n\n");
                        s.push_str(&doc);
                    }
                }
                sections.push(s);
            }
        }
        if let Some(e) = place.expr {
            if span.is_none() {
                span = Some(e.span);
            }
            if let Some(s) = function(snap, e).filter(|_| sections.is_empty()) {
                sections.push(s);
            } else if let Some(s) = literal(snap, e, field.as_ref().map(|(t, _)| t)) {
                sections.push(s);
            } else if place.key.is_none() && sections.is_empty() {
                if let Some((ty, _)) = &field {
                    sections.push(format!(
                        "```ship\n{}: {ty}\n```",
                        place.path.last().map_or("", String::as_str)
                    ));
                }
            }
        }
        if !place.path.is_empty() {
            let values = schema::values(&snap.analysis, &place.owner, &shown_path);
            let envs = match place.owner {
                Owner::Decl(..) => snap.analysis.checked.envs.len(),
                _ => 1,
            };
            if let Some(s) = schema::summarize(&shown_path, &values, envs) {
                sections.push(s);
            }
        }
    }
    let off = u32::try_from(offset).ok()?;
    for d in &snap.diagnostics {
        let s = d.primary.span;
        if s.file == file && s.start <= off && off <= s.end {
            span = span.or(Some(s));
            let explanation = d.code.explanation();
            let first = explanation
                .split("\n\n")
                .map(str::trim)
                .find(|p| !p.is_empty() && !p.starts_with('#'))
                .unwrap_or("");
            sections.push(format!(
                "**{}** ({}): {}\n\n{first}\n\nMore: `shipc explain {}`",
                d.code.id(),
                d.code.name(),
                d.message,
                d.code.id()
            ));
        }
    }
    if sections.is_empty() {
        return None;
    }
    Some(Hover {
        span: span.unwrap_or(Span::new(file, offset, offset)),
        markdown: sections.join("\n\n---\n\n"),
    })
}

/// A labelled entry's path as the model stores it (`port http` → `ports.http`).
fn schema_path(path: &[String]) -> Vec<String> {
    match path {
        [kw, rest @ ..] if kw == "port" && !rest.is_empty() => std::iter::once("ports".to_string())
            .chain(rest.iter().cloned())
            .collect(),
        _ => path.to_vec(),
    }
}

fn symbol(snap: &Snapshot, s: &Symbol) -> String {
    let sources = &snap.analysis.loaded.sources;
    let Some(def) = snap.index.defs.get(s) else {
        return s.describe();
    };
    let (line, _) = sources
        .get(def.name.file)
        .map_or((0, 0), |f| f.line_col(def.name.start as usize));
    let file_path = sources.path(def.name.file);
    let path = file_path
        .strip_prefix(&snap.analysis.loaded.root)
        .unwrap_or(file_path)
        .display()
        .to_string();
    let head = match s {
        Symbol::Decl(..) | Symbol::Template(_) => {
            // The declaration's first line, up to its body.
            let text = sources.slice(def.item);
            text.split('{').next().unwrap_or(text).trim().to_string()
        }
        _ => first_lines(sources.slice(def.item).trim_end(), 6),
    };
    let mut out = format!("```ship\n{head}\n```\n\n{} — `{path}:{line}`", s.describe());
    // A parameter's line is its template's: that comment is the template's.
    let doc = match s {
        Symbol::Param(..) => String::new(),
        _ => schema::doc(sources, def.item),
    };
    if !doc.is_empty() {
        out.push_str("\n\n");
        out.push_str(&doc);
    }
    match s {
        Symbol::Decl(kind, name) => {
            let per_env: Vec<String> = snap
                .analysis
                .checked
                .envs
                .iter()
                .filter_map(|e| {
                    let m = e.decls(*kind)?;
                    m.get(name)
                        .map(|d| format!("`{}` ({})", d.k8s_name, e.name))
                })
                .collect();
            if !per_env.is_empty() {
                let what = if *kind == ast::DeclKind::Image {
                    "repository"
                } else {
                    "name"
                };
                out.push_str(&format!("\n\n{what}: {}", per_env.join(", ")));
            }
        }
        Symbol::Port(kind, owner, label) => {
            let values = schema::values(
                &snap.analysis,
                &Owner::Decl(*kind, owner.clone()),
                &["ports".to_string(), label.clone()],
            );
            let path = vec!["ports".to_string(), label.clone()];
            if let Some(sum) = schema::summarize(&path, &values, snap.analysis.checked.envs.len()) {
                out.push_str("\n\n");
                out.push_str(&sum);
            }
        }
        _ => {}
    }
    out
}

fn first_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() <= n {
        return text.to_string();
    }
    let mut out = lines.iter().take(n).copied().collect::<Vec<_>>().join("\n");
    out.push_str("\n…");
    out
}

/// A stdlib function's name: its signature and doc.
fn function(snap: &Snapshot, e: &ast::Expr) -> Option<String> {
    let ExprKind::Ident(name) = &e.kind else {
        return None;
    };
    let p = &snap.analysis.checked.program;
    if p.lets.contains_key(name) {
        return None;
    }
    let f = p.fns.get(name)?;
    let params: Vec<String> = f
        .params
        .iter()
        .map(|x| {
            let default = x
                .default
                .as_ref()
                .map(|d| format!(" = {}", snap.analysis.loaded.sources.slice(d.span)))
                .unwrap_or_default();
            let opt = if x.optional { "?" } else { "" };
            format!("{}{opt}: {}{default}", x.name, x.ty)
        })
        .collect();
    let mut out = format!(
        "```ship
fn {}({}) -> {}
```",
        f.name,
        params.join(", "),
        f.ret
    );
    let doc = schema::doc(&snap.analysis.loaded.sources, f.span);
    if !doc.is_empty() {
        out.push_str("\n\n");
        out.push_str(&doc);
    }
    Some(out)
}

/// The quantity kind a type expects (`Range<Cpu>` → Cpu).
fn quantity(snap: &Snapshot, ty: &Ty) -> Option<QuantityKind> {
    match snap.analysis.checked.program.types.resolve(ty) {
        Ty::Cpu => Some(QuantityKind::Cpu),
        Ty::Memory => Some(QuantityKind::Memory),
        Ty::Storage => Some(QuantityKind::Storage),
        Ty::Duration => Some(QuantityKind::Duration),
        Ty::Percent => Some(QuantityKind::Percent),
        Ty::Range(t) | Ty::Optional(t) => quantity(snap, t),
        Ty::Union(alts) => alts.iter().find_map(|a| quantity(snap, a)),
        _ => None,
    }
}

/// A unit literal's meaning, or a bare literal-union member's type.
fn literal(snap: &Snapshot, e: &ast::Expr, ty: Option<&Ty>) -> Option<String> {
    match &e.kind {
        ExprKind::Number(text) => {
            let kind = ty.and_then(|t| quantity(snap, t)).or_else(|| guess(text))?;
            let amount = units::parse(text, kind).ok()?;
            Some(match kind {
                QuantityKind::Cpu => format!(
                    "`{text}`: {} millicores = {} CPU cores",
                    fmt_num(amount),
                    fmt_num(amount / 1000.0)
                ),
                QuantityKind::Memory | QuantityKind::Storage => {
                    let what = if kind == QuantityKind::Memory {
                        "memory"
                    } else {
                        "storage"
                    };
                    format!(
                        "`{text}`: {} bytes of {what}{}",
                        fmt_int(amount),
                        binary(amount)
                    )
                }
                QuantityKind::Percent => format!("`{text}`: {} percent", fmt_num(amount)),
                QuantityKind::Duration => format!(
                    "`{text}`: a duration of {} ms ({})",
                    fmt_int(amount),
                    units::go_duration(amount)
                ),
            })
        }
        ExprKind::Ident(name) => {
            let ty = ty?;
            let lits = snap.analysis.checked.program.types.literals(ty);
            lits.contains(name).then(|| {
                format!(
                    "`{name}`: one of {}",
                    lits.iter()
                        .map(|l| format!("`{l}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
        }
        _ => None,
    }
}

fn guess(text: &str) -> Option<QuantityKind> {
    let unit: String = text
        .chars()
        .skip_while(|c| c.is_ascii_digit() || *c == '.' || *c == '_')
        .collect();
    match unit.as_str() {
        "m" => Some(QuantityKind::Cpu),
        "%" => Some(QuantityKind::Percent),
        "Ki" | "Mi" | "Gi" | "Ti" | "k" | "K" | "M" | "G" | "T" => Some(QuantityKind::Memory),
        "" => None,
        _ => Some(QuantityKind::Duration),
    }
}

fn binary(bytes: f64) -> String {
    for (n, unit) in [
        (1u64 << 40, "TiB"),
        (1 << 30, "GiB"),
        (1 << 20, "MiB"),
        (1 << 10, "KiB"),
    ] {
        let n = n as f64;
        if bytes >= n {
            return format!(" ({} {unit})", fmt_num(bytes / n));
        }
    }
    String::new()
}

fn fmt_num(x: f64) -> String {
    let s = format!("{x:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn fmt_int(x: f64) -> String {
    let digits = format!("{:.0}", x.round());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 && c.is_ascii_digit() {
            out.push(',');
        }
        out.push(c);
    }
    out
}
