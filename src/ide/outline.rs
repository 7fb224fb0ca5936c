//! The outline of a file (document symbols) from its syntax tree, and
//! folding ranges from its tokens (so a file that does not parse folds).

use super::lex::{self, TokKind};
use crate::source::Span;
use crate::syntax::ast::{self, DeclKind, EntryKind, ExprKind};

/// What an outline entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymbolKind {
    /// A service.
    Service,
    /// An image.
    Image,
    /// An infra.
    Infra,
    /// An env.
    Env,
    /// A config (ConfigMap).
    Config,
    /// A raw Kubernetes object.
    Object,
    /// A let.
    Let,
    /// A type.
    Type,
    /// A template.
    Template,
    /// A function signature (stdlib).
    Function,
    /// `project { }` / `policy { }`.
    Block,
    /// An import.
    Import,
    /// A field of a body.
    Field,
    /// A labelled port.
    Port,
}

/// One outline entry.
#[derive(Debug, Clone)]
pub struct OutlineItem {
    /// The name.
    pub name: String,
    /// What it is (`service`, the field's value kind…).
    pub detail: String,
    /// What kind.
    pub kind: SymbolKind,
    /// The whole item.
    pub span: Span,
    /// The name (to select).
    pub name_span: Span,
    /// Nested entries.
    pub children: Vec<OutlineItem>,
}

/// The outline of a parsed file.
pub fn outline(file: &ast::File) -> Vec<OutlineItem> {
    let mut out = Vec::new();
    for item in &file.items {
        let o = match item {
            ast::Item::Decl(d) => {
                let kind = match d.kind {
                    DeclKind::Service => SymbolKind::Service,
                    DeclKind::Image => SymbolKind::Image,
                    DeclKind::Infra => SymbolKind::Infra,
                    DeclKind::Env => SymbolKind::Env,
                    DeclKind::Config => SymbolKind::Config,
                    DeclKind::Object => SymbolKind::Object,
                };
                let names: Vec<&str> = d.templates().map(|f| f.name.name.as_str()).collect();
                let detail = if names.is_empty() {
                    d.kind.keyword().to_string()
                } else {
                    format!("{} from {}", d.kind.keyword(), names.join(", "))
                };
                OutlineItem {
                    name: d.name.name.clone(),
                    detail,
                    kind,
                    span: d.span,
                    name_span: d.name.span,
                    children: body(&d.body, 0),
                }
            }
            ast::Item::Let(l) => leaf(&l.name.name, "let", SymbolKind::Let, l.span, l.name.span),
            ast::Item::Type(t) => leaf(&t.name.name, "type", SymbolKind::Type, t.span, t.name.span),
            ast::Item::Fn(f) => leaf(
                &f.name.name,
                "fn",
                SymbolKind::Function,
                f.span,
                f.name.span,
            ),
            ast::Item::Template(t) => OutlineItem {
                name: t.name.name.clone(),
                detail: "template".into(),
                kind: SymbolKind::Template,
                span: t.span,
                name_span: t.name.span,
                children: body(&t.body, 0),
            },
            ast::Item::Project(b) | ast::Item::Policy(b) => {
                let name = if matches!(item, ast::Item::Project(_)) {
                    "project"
                } else {
                    "policy"
                };
                OutlineItem {
                    name: name.into(),
                    detail: String::new(),
                    kind: SymbolKind::Block,
                    span: b.span,
                    name_span: b.keyword,
                    children: body(&b.body, 0),
                }
            }
            ast::Item::Import(i) => {
                let (name, span) = match &i.target {
                    ast::ImportTarget::Path(p, s) => (format!("\"{p}\""), *s),
                    ast::ImportTarget::Std(parts) => (
                        parts
                            .iter()
                            .map(|p| p.name.as_str())
                            .collect::<Vec<_>>()
                            .join("."),
                        i.span,
                    ),
                };
                leaf(&name, "import", SymbolKind::Import, i.span, span)
            }
        };
        out.push(o);
    }
    out
}

fn leaf(name: &str, detail: &str, kind: SymbolKind, span: Span, name_span: Span) -> OutlineItem {
    OutlineItem {
        name: name.to_string(),
        detail: detail.to_string(),
        kind,
        span,
        name_span,
        children: Vec::new(),
    }
}

fn body(b: &ast::Body, depth: usize) -> Vec<OutlineItem> {
    if depth > 3 {
        return Vec::new();
    }
    b.entries
        .iter()
        .filter_map(|e| {
            let first = e.path.first()?;
            let last = e.path.last().unwrap_or(first);
            let name: String = match &e.kind {
                EntryKind::Labelled(kw) => format!("{} {}", kw.name, first.name),
                _ => e
                    .path
                    .iter()
                    .map(|k| k.name.as_str())
                    .collect::<Vec<_>>()
                    .join("."),
            };
            let kind = if matches!(&e.kind, EntryKind::Labelled(kw) if kw.name == "port") {
                SymbolKind::Port
            } else {
                SymbolKind::Field
            };
            let children = match &e.value.kind {
                ExprKind::Record(inner) => body(inner, depth + 1),
                _ => Vec::new(),
            };
            Some(OutlineItem {
                name,
                detail: String::new(),
                kind,
                span: e.span,
                name_span: first.span.to(last.span),
                children,
            })
        })
        .collect()
}

/// A foldable range: byte offsets of its start and end, and whether it is
/// a comment block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fold {
    /// Where the fold starts (the opening bracket, or the first comment).
    pub start: usize,
    /// Where it ends (the closing bracket, or the last comment's end).
    pub end: usize,
    /// A run of comment lines.
    pub comment: bool,
}

/// Brackets and triple-quoted strings that span lines, and runs of two or
/// more comment lines.
pub fn folds(text: &str) -> Vec<Fold> {
    let toks = lex::lex(text);
    let mut out = Vec::new();
    let mut stack: Vec<usize> = Vec::new();
    let mut comments: Option<(usize, usize, usize)> = None; // start, end, lines
    let spans_lines = |a: usize, b: usize| text.get(a..b).is_some_and(|s| s.contains('\n'));
    let flush = |c: &mut Option<(usize, usize, usize)>, out: &mut Vec<Fold>| {
        if let Some((s, e, n)) = c.take() {
            if n >= 2 {
                out.push(Fold {
                    start: s,
                    end: e,
                    comment: true,
                });
            }
        }
    };
    for t in &toks {
        match (t.kind, t.text(text)) {
            (TokKind::Comment, _) => {
                comments = Some(match comments {
                    Some((s, _, n)) => (s, t.end, n + 1),
                    None => (t.start, t.end, 1),
                });
                continue;
            }
            (TokKind::Newline, _) => continue,
            (TokKind::Punct, "{" | "[" | "(") => stack.push(t.start),
            (TokKind::Punct, "}" | "]" | ")") => {
                if let Some(s) = stack.pop() {
                    if spans_lines(s, t.start) {
                        out.push(Fold {
                            start: s,
                            end: t.start,
                            comment: false,
                        });
                    }
                }
            }
            (TokKind::Str, s) if s.starts_with("\"\"\"") && spans_lines(t.start, t.end) => out
                .push(Fold {
                    start: t.start,
                    end: t.end,
                    comment: false,
                }),
            _ => {}
        }
        flush(&mut comments, &mut out);
    }
    flush(&mut comments, &mut out);
    out.sort_by_key(|f| (f.start, f.end));
    out
}

/// The semantic token types the server declares, in legend order.
pub const TOKEN_TYPES: &[&str] = &[
    "class",     // service
    "struct",    // infra
    "namespace", // image
    "enum",      // env
    "variable",  // let
    "type",      // type
    "macro",     // template
    "parameter", // template parameter
    "property",  // labelled port
    "string",    // config
];

/// Every resolved name of a file, for semantic highlighting: its span,
/// its index in [`TOKEN_TYPES`], and whether it is the definition.
pub fn semantic_tokens(
    index: &super::index::Index,
    file: crate::source::FileId,
) -> Vec<(Span, u32, bool)> {
    use super::index::Symbol;
    index
        .occurrences
        .get(&file)
        .map(|occ| {
            occ.iter()
                .map(|o| {
                    let t = match &o.symbol {
                        Symbol::Decl(DeclKind::Service, _) => 0,
                        Symbol::Decl(DeclKind::Infra, _) => 1,
                        Symbol::Decl(DeclKind::Image, _) => 2,
                        Symbol::Decl(DeclKind::Env, _) => 3,
                        Symbol::Decl(DeclKind::Config | DeclKind::Object, _) => 9,
                        Symbol::Let(_) => 4,
                        Symbol::Type(_) => 5,
                        Symbol::Template(_) => 6,
                        Symbol::Param(..) => 7,
                        Symbol::Port(..) => 8,
                    };
                    (o.span, t, o.def)
                })
                .collect()
        })
        .unwrap_or_default()
}
