//! Lowering pest pairs to the AST. Pairs are walked in the grammar's shape;
//! an unexpected shape is reported as E0001 rather than panicking.

mod expr;

use super::ast::*;
use super::parser::Rule;
use crate::diag::{Code, Diagnostic};
use crate::source::{FileId, Span};
use pest::iterators::{Pair, Pairs};

type R<T> = Result<T, Box<Diagnostic>>;

struct Lower {
    file: FileId,
    /// Where the parsed text starts in the file (a piece of a large file).
    offset: usize,
}

/// Lower the pairs of a whole file, or of the piece of it that starts at
/// byte `offset` (spans are the file's).
pub(super) fn lower_file(file: FileId, offset: usize, mut pairs: Pairs<'_, Rule>) -> R<File> {
    let l = Lower { file, offset };
    let Some(top) = pairs.next() else {
        return Ok(File {
            file,
            items: Vec::new(),
        });
    };
    let inner = top.into_inner();
    let mut items = Vec::with_capacity(inner.len());
    for p in inner {
        if p.as_rule() == Rule::EOI {
            continue;
        }
        items.push(l.item(p)?);
    }
    Ok(File { file, items })
}

impl Lower {
    fn span(&self, p: &Pair<'_, Rule>) -> Span {
        let s = p.as_span();
        Span::new(self.file, self.offset + s.start(), self.offset + s.end())
    }

    fn shape(&self, span: Span) -> Box<Diagnostic> {
        Box::new(
            Diagnostic::new(Code::E0001, span, "unexpected syntax").label("not understood here"),
        )
    }

    fn ident(&self, p: Pair<'_, Rule>) -> Ident {
        Ident {
            name: p.as_str().to_string(),
            span: self.span(&p),
        }
    }

    /// Each pair lowered by `f`, into a vector of exactly their number:
    /// collecting through `Result` would start at four slots, and a tree
    /// keeps its vectors as long as the analysis runs (most hold one item).
    fn each<'a, T>(
        &self,
        pairs: Pairs<'a, Rule>,
        mut f: impl FnMut(Pair<'a, Rule>) -> R<T>,
    ) -> R<Vec<T>> {
        let mut out = Vec::with_capacity(pairs.len());
        for p in pairs {
            out.push(f(p)?);
        }
        Ok(out)
    }

    fn next<'a>(&self, it: &mut Pairs<'a, Rule>, span: Span) -> R<Pair<'a, Rule>> {
        it.next().ok_or_else(|| self.shape(span))
    }

    fn item(&self, p: Pair<'_, Rule>) -> R<Item> {
        let span = self.span(&p);
        let rule = p.as_rule();
        let mut it = p.into_inner();
        match rule {
            Rule::import_decl => {
                let _kw = self.next(&mut it, span)?;
                let t = self.next(&mut it, span)?;
                let target = if t.as_rule() == Rule::std_path {
                    ImportTarget::Std(t.into_inner().map(|i| self.ident(i)).collect())
                } else {
                    let s = self.span(&t);
                    let e = self.string(t)?;
                    ImportTarget::Path(self.literal_string(&e)?, s)
                };
                Ok(Item::Import(Import { target, span }))
            }
            Rule::let_decl => {
                let _kw = self.next(&mut it, span)?;
                let name = self.ident(self.next(&mut it, span)?);
                let value = self.expr(self.next(&mut it, span)?)?;
                Ok(Item::Let(Let { name, value, span }))
            }
            Rule::type_decl => {
                let _kw = self.next(&mut it, span)?;
                let name = self.ident(self.next(&mut it, span)?);
                let ty = self.type_expr(self.next(&mut it, span)?)?;
                Ok(Item::Type(TypeDecl { name, ty, span }))
            }
            Rule::template_decl => {
                let _kw = self.next(&mut it, span)?;
                let name = self.ident(self.next(&mut it, span)?);
                let (mut params, mut from, mut body) = (Vec::new(), None, None);
                for q in it {
                    match q.as_rule() {
                        Rule::params => params = self.params(q)?,
                        Rule::from_clause => from = Some(self.lower_from(q)?),
                        Rule::body => body = Some(self.body(q)?),
                        _ => return Err(self.shape(self.span(&q))),
                    }
                }
                let body = body.ok_or_else(|| self.shape(span))?;
                Ok(Item::Template(Template {
                    name,
                    params,
                    from,
                    body,
                    span,
                }))
            }
            Rule::fn_decl => {
                let _kw = self.next(&mut it, span)?;
                let name = self.ident(self.next(&mut it, span)?);
                let params = self.params(self.next(&mut it, span)?)?;
                let ret = self.type_expr(self.next(&mut it, span)?)?;
                Ok(Item::Fn(FnDecl {
                    name,
                    params,
                    ret,
                    span,
                }))
            }
            Rule::policy_decl | Rule::project_decl => {
                let kw = self.next(&mut it, span)?;
                let keyword = self.span(&kw);
                let body = self.body(self.next(&mut it, span)?)?;
                let b = Block {
                    body,
                    keyword,
                    span,
                };
                Ok(if rule == Rule::policy_decl {
                    Item::Policy(b)
                } else {
                    Item::Project(b)
                })
            }
            Rule::decl => {
                let kw = self.next(&mut it, span)?;
                let kind = match kw.as_str() {
                    "image" => DeclKind::Image,
                    "service" => DeclKind::Service,
                    "infra" => DeclKind::Infra,
                    "config" => DeclKind::Config,
                    "object" => DeclKind::Object,
                    _ => DeclKind::Env,
                };
                let name = self.ident(self.next(&mut it, span)?);
                let (mut from, mut also, mut body) = (None, Vec::new(), None);
                for q in it {
                    match q.as_rule() {
                        Rule::from_clause => from = Some(self.lower_from(q)?),
                        Rule::template_use => also.push(self.lower_use(q)?),
                        Rule::body => body = Some(self.body(q)?),
                        _ => return Err(self.shape(self.span(&q))),
                    }
                }
                let body = body.ok_or_else(|| self.shape(span))?;
                also.shrink_to_fit();
                Ok(Item::Decl(Decl {
                    kind,
                    name,
                    from,
                    also,
                    body,
                    span,
                }))
            }
            _ => Err(self.shape(span)),
        }
    }

    fn params(&self, p: Pair<'_, Rule>) -> R<Vec<Param>> {
        self.each(p.into_inner(), |q| self.param(q))
    }

    fn param(&self, p: Pair<'_, Rule>) -> R<Param> {
        let span = self.span(&p);
        let mut it = p.into_inner();
        let name = self.ident(self.next(&mut it, span)?);
        let mut optional = false;
        let mut ty = None;
        let mut default = None;
        for q in it {
            match q.as_rule() {
                Rule::optional_mark => optional = true,
                Rule::type_expr => ty = Some(self.type_expr(q)?),
                Rule::expr => default = Some(self.expr(q)?),
                _ => return Err(self.shape(self.span(&q))),
            }
        }
        let ty = ty.ok_or_else(|| self.shape(span))?;
        Ok(Param {
            name,
            optional,
            ty,
            default,
            span,
        })
    }

    /// A further template of a `from` list: `b(…)` in `from a, b(…)`.
    fn lower_use(&self, p: Pair<'_, Rule>) -> R<FromClause> {
        let span = self.span(&p);
        let mut it = p.into_inner();
        let name = self.ident(self.next(&mut it, span)?);
        let args = match it.next() {
            Some(a) => self.args(a)?,
            None => Vec::new(),
        };
        Ok(FromClause { name, args, span })
    }

    fn lower_from(&self, p: Pair<'_, Rule>) -> R<FromClause> {
        let span = self.span(&p);
        let mut it = p.into_inner();
        let _kw = self.next(&mut it, span)?;
        let name = self.ident(self.next(&mut it, span)?);
        let args = match it.next() {
            Some(a) => self.args(a)?,
            None => Vec::new(),
        };
        Ok(FromClause { name, args, span })
    }

    fn args(&self, p: Pair<'_, Rule>) -> R<Vec<Arg>> {
        self.each(p.into_inner(), |a| {
            let span = self.span(&a);
            let mut it = a.into_inner();
            let first = self.next(&mut it, span)?;
            Ok(if first.as_rule() == Rule::ident {
                let value = self.expr(self.next(&mut it, span)?)?;
                Arg {
                    name: Some(self.ident(first)),
                    value,
                }
            } else {
                Arg {
                    name: None,
                    value: self.expr(first)?,
                }
            })
        })
    }

    fn body(&self, p: Pair<'_, Rule>) -> R<Body> {
        let span = self.span(&p);
        let entries = self.each(p.into_inner(), |e| self.entry(e))?;
        Ok(Body { entries, span })
    }

    fn entry(&self, p: Pair<'_, Rule>) -> R<Entry> {
        let span = self.span(&p);
        let mut it = p.into_inner();
        let path_pair = self.next(&mut it, span)?;
        let path_span = self.span(&path_pair);
        let path = self.each(path_pair.into_inner(), |k| self.key(k))?;
        let v = self.next(&mut it, span)?;
        match v.as_rule() {
            Rule::labelled_tail => {
                let keyword = match path.as_slice() {
                    [k] if self.is_ident(k) => Ident {
                        name: k.name.clone(),
                        span: k.span,
                    },
                    _ => {
                        return Err(Box::new(
                            Diagnostic::new(
                                Code::E0001,
                                path_span,
                                "expected `=` or `{` after the field name",
                            )
                            .label("a field name is followed by `=` or a block")
                            .help("fields are written `name = value` or `name { … }`"),
                        ))
                    }
                };
                let mut tail = v.into_inner();
                let key = self.key(self.next(&mut tail, span)?)?;
                let value = self.expr(self.next(&mut tail, span)?)?;
                Ok(Entry {
                    kind: EntryKind::Labelled(keyword),
                    path: vec![key],
                    value,
                    span,
                })
            }
            Rule::body => {
                let vspan = self.span(&v);
                let value = Expr {
                    kind: ExprKind::Record(self.body(v)?),
                    span: vspan,
                };
                Ok(Entry {
                    kind: EntryKind::Block,
                    path,
                    value,
                    span,
                })
            }
            _ => Ok(Entry {
                kind: EntryKind::Assign,
                path,
                value: self.expr(v)?,
                span,
            }),
        }
    }

    fn is_ident(&self, k: &Key) -> bool {
        k.name
            .starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && k.name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
            && k.span.len() == k.name.len()
    }

    fn key(&self, p: Pair<'_, Rule>) -> R<Key> {
        let span = self.span(&p);
        let name = if p.as_rule() == Rule::ident {
            p.as_str().to_string()
        } else {
            let e = self.string(p)?;
            self.literal_string(&e)?
        };
        Ok(Key { name, span })
    }

    fn literal_string(&self, e: &Expr) -> R<String> {
        match &e.kind {
            ExprKind::Str(parts) => {
                let mut s = String::new();
                for part in parts {
                    match part {
                        StrPart::Lit(t) => s.push_str(t),
                        StrPart::Interp(i) => {
                            return Err(Box::new(
                                Diagnostic::new(
                                    Code::E0001,
                                    i.span,
                                    "interpolation is not allowed here",
                                )
                                .label("a plain string is expected"),
                            ))
                        }
                    }
                }
                Ok(s)
            }
            _ => Err(self.shape(e.span)),
        }
    }

    // ---- types ------------------------------------------------------------

    fn type_expr(&self, p: Pair<'_, Rule>) -> R<TypeExpr> {
        let span = self.span(&p);
        let mut alts = self.each(p.into_inner(), |q| self.type_postfix(q))?;
        if alts.len() == 1 {
            alts.pop().ok_or_else(|| self.shape(span))
        } else {
            Ok(TypeExpr::Union(alts, span))
        }
    }

    fn type_postfix(&self, p: Pair<'_, Rule>) -> R<TypeExpr> {
        let span = self.span(&p);
        let mut it = p.into_inner();
        let atom = self.type_atom(self.next(&mut it, span)?)?;
        Ok(if it.next().is_some() {
            TypeExpr::Optional(Box::new(atom), span)
        } else {
            atom
        })
    }

    fn type_atom(&self, p: Pair<'_, Rule>) -> R<TypeExpr> {
        let span = self.span(&p);
        match p.as_rule() {
            Rule::type_expr => self.type_expr(p),
            Rule::string => {
                let e = self.string(p)?;
                Ok(TypeExpr::Lit(self.literal_string(&e)?, span))
            }
            Rule::named_type => {
                let i = p.into_inner().next().ok_or_else(|| self.shape(span))?;
                Ok(TypeExpr::Named(self.ident(i)))
            }
            Rule::generic_type => {
                let mut it = p.into_inner();
                let name = self.ident(self.next(&mut it, span)?);
                let arg = self.type_expr(self.next(&mut it, span)?)?;
                Ok(TypeExpr::Generic(name, Box::new(arg)))
            }
            Rule::list_type | Rule::map_type => {
                let rule = p.as_rule();
                let inner =
                    self.type_expr(p.into_inner().next().ok_or_else(|| self.shape(span))?)?;
                Ok(if rule == Rule::list_type {
                    TypeExpr::List(Box::new(inner), span)
                } else {
                    TypeExpr::Map(Box::new(inner), span)
                })
            }
            Rule::record_type => {
                let fields = self.each(p.into_inner(), |f| self.field_type(f))?;
                Ok(TypeExpr::Record(fields, span))
            }
            _ => Err(self.shape(span)),
        }
    }

    fn field_type(&self, p: Pair<'_, Rule>) -> R<FieldType> {
        let span = self.span(&p);
        let mut label = None;
        let mut name = None;
        let mut optional = false;
        let mut ty = None;
        let mut default = None;
        for q in p.into_inner() {
            match q.as_rule() {
                Rule::attr => {
                    let mut it = q.into_inner();
                    let _attr = it.next();
                    if let Some(s) = it.next() {
                        let e = self.string(s)?;
                        label = Some(self.literal_string(&e)?);
                    }
                }
                Rule::ident => name = Some(self.ident(q)),
                Rule::optional_mark => optional = true,
                Rule::type_expr => ty = Some(self.type_expr(q)?),
                Rule::expr => default = Some(self.expr(q)?),
                _ => return Err(self.shape(self.span(&q))),
            }
        }
        let name = name.ok_or_else(|| self.shape(span))?;
        let mut ty = ty.ok_or_else(|| self.shape(span))?;
        if let TypeExpr::Optional(inner, _) = ty {
            optional = true;
            ty = *inner;
        }
        Ok(FieldType {
            name,
            optional,
            ty,
            default,
            label,
            span,
        })
    }

    // ---- expressions ------------------------------------------------------
}
