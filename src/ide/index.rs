//! Who refers to what: every definition and reference of a declaration,
//! let, type, template, template parameter and labelled port in the user's
//! files, found by walking their syntax trees once per analysis.
//!
//! A bare name is resolved the way the evaluator resolves it: a template
//! parameter, then a let, then a declaration (the kind chosen by where the
//! name stands: `image = x` is an image, `x.port.http` a service or infra),
//! then a port label of the enclosing declaration. Where the evaluator
//! recorded a graph edge at the name's span, the edge decides.

use crate::model::DeclRef;
use crate::program::Program;
use crate::source::{FileId, Span};
use crate::syntax::ast::{self, DeclKind, EntryKind, ExprKind, TypeExpr};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Something a name can mean.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Symbol {
    /// `service api`, `image www`, …
    Decl(DeclKind, String),
    /// `let NAME`.
    Let(String),
    /// `type NAME`.
    Type(String),
    /// `template NAME`.
    Template(String),
    /// A template's parameter: (template, parameter).
    Param(String, String),
    /// A labelled port: (owner kind, owner name, label).
    Port(DeclKind, String, String),
}

impl Symbol {
    /// The name as written.
    pub fn name(&self) -> &str {
        match self {
            Symbol::Decl(_, n) | Symbol::Let(n) | Symbol::Type(n) | Symbol::Template(n) => n,
            Symbol::Param(_, n) | Symbol::Port(_, _, n) => n,
        }
    }

    /// What it is, for messages (`service`, `let`, `port of api`).
    pub fn describe(&self) -> String {
        match self {
            Symbol::Decl(k, n) => format!("{} `{n}`", k.keyword()),
            Symbol::Let(n) => format!("let `{n}`"),
            Symbol::Type(n) => format!("type `{n}`"),
            Symbol::Template(n) => format!("template `{n}`"),
            Symbol::Param(t, n) => format!("parameter `{n}` of template `{t}`"),
            Symbol::Port(_, o, n) => format!("port `{n}` of `{o}`"),
        }
    }
}

/// One place a symbol's name is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurrence {
    /// The name's span.
    pub span: Span,
    /// What it means.
    pub symbol: Symbol,
    /// Whether this is the definition.
    pub def: bool,
}

/// Where a symbol is defined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Def {
    /// The name.
    pub name: Span,
    /// The whole item (or entry, for a port).
    pub item: Span,
}

/// The module's symbols.
#[derive(Debug, Default)]
pub struct Index {
    /// Every occurrence, by file then position.
    pub occurrences: BTreeMap<FileId, Vec<Occurrence>>,
    /// Definitions (the first, when a name is declared twice).
    pub defs: BTreeMap<Symbol, Def>,
    /// `import "…"` paths: the string's span and the normalised target.
    pub imports: Vec<(Span, PathBuf)>,
}

impl Index {
    /// Index the user's files. `paths` gives each file's path (for imports).
    pub fn build(
        files: &BTreeMap<FileId, std::sync::Arc<ast::File>>,
        paths: &BTreeMap<FileId, PathBuf>,
        program: &Program,
        edges: &BTreeMap<Span, DeclRef>,
    ) -> Index {
        let mut index = Index::default();
        for file in files.values() {
            collect_defs(file, &mut index.defs);
        }
        let env_fields: Vec<String> = program
            .types
            .record(&program.schema(DeclKind::Env))
            .map(|r| r.fields.keys().map(|k| k.to_string()).collect())
            .unwrap_or_default();
        for (id, file) in files {
            let mut w = Walker {
                defs: &index.defs,
                edges,
                env_fields: &env_fields,
                out: Vec::new(),
            };
            for item in &file.items {
                w.item(item);
            }
            let mut out = w.out;
            out.sort_by_key(|o| (o.span.start, o.span.end));
            out.dedup_by(|a, b| a.span == b.span);
            index.occurrences.insert(*id, out);
            let dir = paths
                .get(id)
                .and_then(|p| p.parent())
                .map(Path::to_path_buf)
                .unwrap_or_default();
            for item in &file.items {
                if let ast::Item::Import(ast::Import {
                    target: ast::ImportTarget::Path(rel, span),
                    ..
                }) = item
                {
                    index
                        .imports
                        .push((*span, crate::load::normalize(&dir.join(rel))));
                }
            }
        }
        index
    }

    /// The occurrence under a byte offset of a file (touching its end counts).
    pub fn at(&self, file: FileId, offset: usize) -> Option<&Occurrence> {
        let offset = u32::try_from(offset).ok()?;
        self.occurrences
            .get(&file)?
            .iter()
            .find(|o| o.span.start <= offset && offset <= o.span.end)
    }

    /// Every occurrence of a symbol, definition included, in file and
    /// position order.
    pub fn occurrences_of(&self, symbol: &Symbol) -> Vec<&Occurrence> {
        self.occurrences
            .values()
            .flatten()
            .filter(|o| &o.symbol == symbol)
            .collect()
    }

    /// The import whose path string is under the offset.
    pub fn import_at(&self, file: FileId, offset: usize) -> Option<&PathBuf> {
        let offset = u32::try_from(offset).ok()?;
        self.imports
            .iter()
            .find(|(s, _)| s.file == file && s.start <= offset && offset <= s.end)
            .map(|(_, p)| p)
    }
}

/// The map field a labelled keyword fills (`port` → `ports`).
pub fn is_port_keyword(kind: &EntryKind) -> Option<&ast::Ident> {
    match kind {
        EntryKind::Labelled(kw) if kw.name == "port" => Some(kw),
        _ => None,
    }
}

fn collect_defs(file: &ast::File, defs: &mut BTreeMap<Symbol, Def>) {
    let mut add = |s: Symbol, name: Span, item: Span| {
        defs.entry(s).or_insert(Def { name, item });
    };
    for item in &file.items {
        match item {
            ast::Item::Let(l) => add(Symbol::Let(l.name.name.clone()), l.name.span, l.span),
            ast::Item::Type(t) => add(Symbol::Type(t.name.name.clone()), t.name.span, t.span),
            ast::Item::Template(t) => {
                add(Symbol::Template(t.name.name.clone()), t.name.span, t.span);
                for p in &t.params {
                    add(
                        Symbol::Param(t.name.name.clone(), p.name.name.clone()),
                        p.name.span,
                        p.span,
                    );
                }
            }
            ast::Item::Decl(d) => {
                add(
                    Symbol::Decl(d.kind, d.name.name.clone()),
                    d.name.span,
                    d.span,
                );
                for (label, entry) in port_entries(&d.body) {
                    add(
                        Symbol::Port(d.kind, d.name.name.clone(), label.name.clone()),
                        label.span,
                        entry.span,
                    );
                }
            }
            _ => {}
        }
    }
}

/// The port labels a body defines: `port http = 80` and `ports { http = 80 }`.
pub fn port_entries(body: &ast::Body) -> Vec<(&ast::Key, &ast::Entry)> {
    let mut out = Vec::new();
    for e in &body.entries {
        if is_port_keyword(&e.kind).is_some() {
            if let Some(k) = e.path.first() {
                out.push((k, e));
            }
        } else if e.path.first().is_some_and(|k| k.name == "ports") {
            match (e.path.get(1), &e.value.kind) {
                (Some(k), _) => out.push((k, e)),
                (None, ExprKind::Record(b)) => {
                    for inner in &b.entries {
                        if let Some(k) = inner.path.first() {
                            out.push((k, inner));
                        }
                    }
                }
                _ => {}
            }
        }
    }
    out
}

#[derive(Clone, Default)]
struct Ctx {
    owner: Option<(DeclKind, String)>,
    template: Option<String>,
    field: Option<String>,
}

struct Walker<'a> {
    defs: &'a BTreeMap<Symbol, Def>,
    edges: &'a BTreeMap<Span, DeclRef>,
    env_fields: &'a [String],
    out: Vec<Occurrence>,
}

impl Walker<'_> {
    fn push(&mut self, span: Span, symbol: Symbol, def: bool) {
        if self.defs.contains_key(&symbol) {
            self.out.push(Occurrence { span, symbol, def });
        }
    }

    fn item(&mut self, item: &ast::Item) {
        let none = Ctx::default();
        match item {
            ast::Item::Let(l) => {
                self.push(l.name.span, Symbol::Let(l.name.name.clone()), true);
                self.expr(&l.value, &none);
            }
            ast::Item::Type(t) => {
                self.push(t.name.span, Symbol::Type(t.name.name.clone()), true);
                self.ty(&t.ty, &none);
            }
            ast::Item::Template(t) => {
                let name = t.name.name.clone();
                self.push(t.name.span, Symbol::Template(name.clone()), true);
                let cx = Ctx {
                    template: Some(name.clone()),
                    ..Ctx::default()
                };
                for p in &t.params {
                    self.push(
                        p.name.span,
                        Symbol::Param(name.clone(), p.name.name.clone()),
                        true,
                    );
                    self.ty(&p.ty, &none);
                    if let Some(d) = &p.default {
                        self.expr(d, &none);
                    }
                }
                if let Some(f) = &t.from {
                    self.from(f, &cx);
                }
                self.body(&t.body, &cx);
            }
            ast::Item::Fn(f) => {
                for p in &f.params {
                    self.ty(&p.ty, &none);
                }
            }
            ast::Item::Policy(b) | ast::Item::Project(b) => self.body(&b.body, &none),
            ast::Item::Decl(d) => self.decl(d),
            ast::Item::Import(_) => {}
        }
    }

    fn decl(&mut self, d: &ast::Decl) {
        let owner = (d.kind, d.name.name.clone());
        self.push(d.name.span, Symbol::Decl(d.kind, d.name.name.clone()), true);
        let cx = Ctx {
            owner: Some(owner.clone()),
            ..Ctx::default()
        };
        for f in d.templates() {
            self.from(f, &cx);
        }
        if d.kind != DeclKind::Env {
            for (label, _) in port_entries(&d.body) {
                self.push(
                    label.span,
                    Symbol::Port(d.kind, d.name.name.clone(), label.name.clone()),
                    true,
                );
            }
            self.body(&d.body, &cx);
            return;
        }
        // An env body: its own fields, and `A.field = …` overrides of A.
        for e in &d.body.entries {
            let Some(first) = e.path.first() else {
                continue;
            };
            if self.env_fields.contains(&first.name)
                || !matches!(e.kind, EntryKind::Assign | EntryKind::Block)
            {
                self.entry(e, &cx);
                continue;
            }
            match self.decl_named(
                &first.name,
                &[DeclKind::Service, DeclKind::Infra, DeclKind::Image],
            ) {
                Some(kind) => {
                    self.push(first.span, Symbol::Decl(kind, first.name.clone()), false);
                    let inner = Ctx {
                        owner: Some((kind, first.name.clone())),
                        field: e.path.last().map(|k| k.name.clone()),
                        template: None,
                    };
                    if e.path.get(1).is_some_and(|k| k.name == "ports") {
                        if let Some(label) = e.path.get(2) {
                            self.push(
                                label.span,
                                Symbol::Port(kind, first.name.clone(), label.name.clone()),
                                false,
                            );
                        }
                    }
                    self.expr(&e.value, &inner);
                }
                None => self.entry(e, &cx),
            }
        }
    }

    fn decl_named(&self, name: &str, order: &[DeclKind]) -> Option<DeclKind> {
        order
            .iter()
            .copied()
            .find(|k| self.defs.contains_key(&Symbol::Decl(*k, name.to_string())))
    }

    fn from(&mut self, f: &ast::FromClause, cx: &Ctx) {
        let t = f.name.name.clone();
        self.push(f.name.span, Symbol::Template(t.clone()), false);
        for a in &f.args {
            if let Some(n) = &a.name {
                self.push(n.span, Symbol::Param(t.clone(), n.name.clone()), false);
            }
            let inner = Ctx {
                field: a.name.as_ref().map(|n| n.name.clone()),
                ..cx.clone()
            };
            self.expr(&a.value, &inner);
        }
    }

    fn body(&mut self, b: &ast::Body, cx: &Ctx) {
        for e in &b.entries {
            self.entry(e, cx);
        }
    }

    fn entry(&mut self, e: &ast::Entry, cx: &Ctx) {
        let field = match &e.kind {
            EntryKind::Labelled(kw) => Some(kw.name.clone()),
            _ => e.path.last().map(|k| k.name.clone()),
        };
        let inner = Ctx {
            field,
            ..cx.clone()
        };
        self.expr(&e.value, &inner);
    }

    fn ty(&mut self, t: &TypeExpr, cx: &Ctx) {
        match t {
            TypeExpr::Named(i) => self.push(i.span, Symbol::Type(i.name.clone()), false),
            TypeExpr::Generic(_, t)
            | TypeExpr::List(t, _)
            | TypeExpr::Map(t, _)
            | TypeExpr::Optional(t, _) => self.ty(t, cx),
            TypeExpr::Record(fields, _) => {
                for f in fields {
                    self.ty(&f.ty, cx);
                    if let Some(d) = &f.default {
                        self.expr(d, cx);
                    }
                }
            }
            TypeExpr::Union(alts, _) => {
                for a in alts {
                    self.ty(a, cx);
                }
            }
            TypeExpr::Lit(..) => {}
        }
    }

    fn expr(&mut self, e: &ast::Expr, cx: &Ctx) {
        match &e.kind {
            ExprKind::Ident(name) => {
                self.ident(name, e.span, cx, false);
            }
            ExprKind::Member(base, m) => {
                if let ExprKind::Member(inner, port) = &base.kind {
                    if port.name == "port" {
                        if let ExprKind::Ident(x) = &inner.kind {
                            let kind = self.ident(x, inner.span, cx, true);
                            if let Some(kind) = kind {
                                self.push(
                                    m.span,
                                    Symbol::Port(kind, x.clone(), m.name.clone()),
                                    false,
                                );
                            }
                            return;
                        }
                    }
                }
                if let ExprKind::Ident(x) = &base.kind {
                    self.ident(x, base.span, cx, true);
                } else {
                    self.expr(base, cx);
                }
            }
            ExprKind::Call(callee, args) => {
                match &callee.kind {
                    ExprKind::Ident(f) if !self.defs.contains_key(&Symbol::Let(f.clone())) => {}
                    _ => self.expr(callee, cx),
                }
                for a in args {
                    let inner = Ctx {
                        field: a.name.as_ref().map(|n| n.name.clone()).or(cx.field.clone()),
                        ..cx.clone()
                    };
                    self.expr(&a.value, &inner);
                }
            }
            ExprKind::Str(parts) => {
                for p in parts {
                    if let ast::StrPart::Interp(x) = p {
                        self.expr(x, cx);
                    }
                }
            }
            ExprKind::List(items) => {
                for i in items {
                    self.expr(i, cx);
                }
            }
            ExprKind::Record(b) => self.body(b, cx),
            ExprKind::If(c, a, b) => {
                self.expr(c, cx);
                self.expr(a, cx);
                self.expr(b, cx);
            }
            ExprKind::Binary(_, a, b) => {
                self.expr(a, cx);
                self.expr(b, cx);
            }
            ExprKind::Not(x) | ExprKind::LimitOnly(x) => self.expr(x, cx),
            ExprKind::Int(_) | ExprKind::Number(_) | ExprKind::Bool(_) => {}
        }
    }

    /// Resolve a bare name; for a declaration, return its kind (so a
    /// following `.port.P` names that declaration's port).
    fn ident(&mut self, name: &str, span: Span, cx: &Ctx, member_base: bool) -> Option<DeclKind> {
        if let Some(d) = self.edges.get(&span) {
            if d.name == name {
                self.push(span, Symbol::Decl(d.kind, d.name.clone()), false);
                return Some(d.kind);
            }
        }
        if let Some(t) = &cx.template {
            let p = Symbol::Param(t.clone(), name.to_string());
            if self.defs.contains_key(&p) {
                self.push(span, p, false);
                return None;
            }
        }
        let l = Symbol::Let(name.to_string());
        if self.defs.contains_key(&l) {
            self.push(span, l, false);
            return None;
        }
        let own_port = cx
            .owner
            .as_ref()
            .map(|(k, o)| Symbol::Port(*k, o.clone(), name.to_string()))
            .filter(|p| self.defs.contains_key(p));
        if cx.field.as_deref() == Some("port") {
            if let Some(p) = own_port.clone() {
                self.push(span, p, false);
                return None;
            }
        }
        let order: &[DeclKind] = if member_base {
            &[
                DeclKind::Service,
                DeclKind::Infra,
                DeclKind::Image,
                DeclKind::Env,
            ]
        } else if cx.field.as_deref() == Some("image") {
            &[
                DeclKind::Image,
                DeclKind::Service,
                DeclKind::Infra,
                DeclKind::Env,
            ]
        } else {
            &[
                DeclKind::Service,
                DeclKind::Infra,
                DeclKind::Image,
                DeclKind::Env,
            ]
        };
        if let Some(kind) = self.decl_named(name, order) {
            self.push(span, Symbol::Decl(kind, name.to_string()), false);
            return Some(kind);
        }
        if let Some(p) = own_port {
            self.push(span, p, false);
        }
        None
    }
}
