//! Expressions: names, members, calls, operators, strings.

use super::Evaluator;
use crate::diag::{suggest, Code, Diagnostic};
use crate::model::{Fields, Value, V};
use crate::program::types::Ty;
use crate::source::Span;
use crate::syntax::ast::{BinOp, DeclKind, Expr, ExprKind, StrPart};

impl<'p> Evaluator<'p> {
    /// Evaluate `e` as a complete value of type `ty` (defaults filled).
    pub(super) fn expr(&mut self, e: &Expr, ty: &Ty) -> Value {
        let v = self.raw(e, ty);
        self.coerce_report(v, ty, true)
    }

    /// Evaluate `e` as a layer value of type `ty` (records not completed).
    pub(super) fn expr_partial(&mut self, e: &Expr, ty: &Ty) -> Value {
        let v = self.raw(e, ty);
        self.coerce_report(v, ty, false)
    }

    /// Evaluate with a type hint, without the final coercion.
    pub(super) fn raw(&mut self, e: &Expr, hint: &Ty) -> Value {
        let span = e.span;
        match &e.kind {
            ExprKind::Int(n) => Value::new(V::Int(*n), span),
            ExprKind::Bool(b) => Value::new(V::Bool(*b), span),
            ExprKind::Number(t) => Value::new(V::Number(t.clone()), span),
            ExprKind::Str(parts) => self.string(parts, span),
            ExprKind::List(items) => {
                let elem = self.types().element(hint);
                let vals = items.iter().map(|i| self.raw(i, &elem)).collect();
                Value::new(V::List(vals), span)
            }
            ExprKind::Record(body) => {
                let ty = match self.types().resolve(hint) {
                    Ty::Optional(t) => (**t).clone(),
                    _ => hint.clone(),
                };
                let entries: Vec<(&crate::syntax::ast::Entry, usize)> =
                    body.entries.iter().map(|e| (e, 0)).collect();
                let mut acc = Fields::new();
                let why = self.frame.why.clone();
                let stack = why
                    .split('.')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect();
                let old = std::mem::replace(&mut self.frame.why_stack, stack);
                self.apply_entries(&entries, &ty, super::Filter::All, &mut acc);
                self.frame.why_stack = old;
                self.frame.why = why;
                Value::new(V::Record(acc), span)
            }
            ExprKind::Ident(name) => self.ident(name, span, hint),
            ExprKind::Member(base, m) => {
                // `env.FIELD` without copying the whole env record.
                if let ExprKind::Ident(n) = &base.kind {
                    let shadowed = self.frame.locals.iter().any(|l| l.contains_key(n));
                    if n == "env" && !shadowed && self.frame.env_allowed {
                        if let Some(env) = &self.env {
                            self.env_reads += 1;
                            let field = match &env.kind {
                                V::Record(r) => r.get(&m.name).map(|v| v.kind.clone()),
                                _ => None,
                            };
                            if let Some(k) = field {
                                return Value::new(k, span);
                            }
                        }
                    }
                }
                let b = self.raw(base, &Ty::Any);
                self.member(b, &m.name, m.span, span)
            }
            ExprKind::Call(callee, args) => self.call(callee, args, span, hint),
            ExprKind::If(c, a, b) => {
                let cond = self.raw(c, &Ty::Bool);
                match cond.kind {
                    V::Bool(true) => self.raw(a, hint),
                    V::Bool(false) => self.raw(b, hint),
                    V::Unknown => Value::unknown(span),
                    _ => {
                        self.err(
                            Diagnostic::new(
                                Code::E2017,
                                c.span,
                                "the condition of `if` must be a Bool",
                            )
                            .label(format!("this is {}", cond.describe()))
                            .help("compare it, e.g. `env.name == \"prod\"`"),
                        );
                        Value::unknown(span)
                    }
                }
            }
            ExprKind::LimitOnly(limit) => {
                let elem = match self.types().resolve(hint) {
                    Ty::Range(t) => (**t).clone(),
                    Ty::Optional(t) => match self.types().resolve(t) {
                        Ty::Range(t) => (**t).clone(),
                        _ => Ty::Any,
                    },
                    _ => Ty::Any,
                };
                let b = self.raw(limit, &elem);
                // No request: Kubernetes then requests the limit.
                let none = Value::new(
                    V::None,
                    Span::new(span.file, span.start as usize, span.start as usize),
                );
                Value::new(V::Range(Box::new(none), Some(Box::new(b))), span)
            }
            ExprKind::Not(inner) => {
                let v = self.raw(inner, &Ty::Bool);
                match v.kind {
                    V::Bool(b) => Value::new(V::Bool(!b), span),
                    V::Unknown => Value::unknown(span),
                    _ => {
                        self.operand_error("!", &v, inner.span);
                        Value::unknown(span)
                    }
                }
            }
            ExprKind::Binary(op, l, r) => self.binary(*op, l, r, span, hint),
        }
    }

    fn operand_error(&mut self, op: &str, v: &Value, span: Span) {
        let help = match op {
            "!" | "&&" | "||" => "these operators take Bools",
            "+" => "`+` joins two strings, two integers, two lists or two records; use `\"${…}\"` to build strings",
            _ => "`..` takes two quantities of the same kind: `100m .. 200m`",
        };
        self.err(
            Diagnostic::new(
                Code::E2016,
                span,
                format!("`{op}` cannot be applied to {}", v.describe()),
            )
            .label("invalid operand")
            .help(help),
        );
    }

    fn binary(&mut self, op: BinOp, l: &Expr, r: &Expr, span: Span, hint: &Ty) -> Value {
        match op {
            BinOp::Or | BinOp::And => {
                let a = self.raw(l, &Ty::Bool);
                let a = match a.kind {
                    V::Bool(b) => b,
                    V::Unknown => return Value::unknown(span),
                    _ => {
                        self.operand_error(op.symbol(), &a, l.span);
                        return Value::unknown(span);
                    }
                };
                if (op == BinOp::Or && a) || (op == BinOp::And && !a) {
                    return Value::new(V::Bool(a), span);
                }
                let b = self.raw(r, &Ty::Bool);
                match b.kind {
                    V::Bool(b) => Value::new(V::Bool(b), span),
                    V::Unknown => Value::unknown(span),
                    _ => {
                        self.operand_error(op.symbol(), &b, r.span);
                        Value::unknown(span)
                    }
                }
            }
            BinOp::Eq | BinOp::Ne => {
                let a = self.raw(l, &Ty::Any);
                let b = self.raw(r, &Ty::Any);
                if a.is_unknown() || b.is_unknown() {
                    return Value::unknown(span);
                }
                let eq = same(&a, &b);
                Value::new(V::Bool(if op == BinOp::Eq { eq } else { !eq }), span)
            }
            BinOp::Range => {
                let elem = match self.types().resolve(hint) {
                    Ty::Range(t) => (**t).clone(),
                    Ty::Optional(t) => match self.types().resolve(t) {
                        Ty::Range(t) => (**t).clone(),
                        _ => Ty::Any,
                    },
                    _ => Ty::Any,
                };
                let a = self.raw(l, &elem);
                let b = self.raw(r, &elem);
                Value::new(V::Range(Box::new(a), Some(Box::new(b))), span)
            }
            BinOp::Add => {
                let a = self.raw(l, hint);
                let b = self.raw(r, hint);
                self.add(a, b, span)
            }
        }
    }

    fn add(&mut self, a: Value, b: Value, span: Span) -> Value {
        match (a.kind, b.kind) {
            (V::Unknown, _) | (_, V::Unknown) => Value::unknown(span),
            (V::Str(x), V::Str(y)) => {
                if x.len() + y.len() > MAX_STRING {
                    return self.too_large(span, "string");
                }
                Value::new(V::Str(x + &y), span)
            }
            (V::Int(x), V::Int(y)) => match x.checked_add(y) {
                Some(n) => Value::new(V::Int(n), span),
                None => {
                    self.err(
                        Diagnostic::new(Code::E2029, span, "integer overflow in `+`")
                            .label("the sum does not fit in 64 bits"),
                    );
                    Value::unknown(span)
                }
            },
            (V::List(mut x), V::List(y)) => {
                if x.len() + y.len() > MAX_LIST {
                    return self.too_large(span, "list");
                }
                x.extend(y);
                Value::new(V::List(x), span)
            }
            (x @ V::Record(_), y @ V::Record(_)) => {
                crate::model::merge(Value::new(x, a.span), Value::new(y, span))
            }
            (x, y) => {
                let (lv, rv) = (Value::new(x, a.span), Value::new(y, b.span));
                let bad = if matches!(lv.kind, V::Str(_) | V::Int(_) | V::List(_) | V::Record(_)) {
                    rv
                } else {
                    lv
                };
                self.operand_error("+", &bad, bad.span);
                Value::unknown(span)
            }
        }
    }

    fn too_large(&mut self, span: Span, what: &str) -> Value {
        let limit = if what == "list" {
            format!("{MAX_LIST} items")
        } else {
            "16 MiB".to_string()
        };
        self.err(
            Diagnostic::new(Code::E2030, span, format!("this {what} grows past {limit}"))
                .label("value too large")
                .help("a let that doubles itself (`let b = a + a`) grows exponentially; build the value directly"),
        );
        Value::unknown(span)
    }

    fn string(&mut self, parts: &[StrPart], span: Span) -> Value {
        let mut out = String::new();
        let mut poisoned = false;
        for part in parts {
            match part {
                StrPart::Lit(s) => out.push_str(s),
                StrPart::Interp(e) => {
                    let v = self.raw(e, &Ty::Any);
                    match &v.kind {
                        V::Str(s) => out.push_str(s),
                        V::Int(n) => out.push_str(&n.to_string()),
                        V::Bool(b) => out.push_str(&b.to_string()),
                        V::Number(t) => out.push_str(t),
                        V::Quantity(q) => out.push_str(&q.text),
                        V::Addr(a) => out.push_str(&a.host_port()),
                        V::Unknown => poisoned = true,
                        V::None => {
                            poisoned = true;
                            self.env_reads += 1;
                            let env = self.env_name.clone().unwrap_or_default();
                            self.err(
                                Diagnostic::new(Code::E2019, e.span, format!("`{}` is not set in env `{env}`", expr_text(e)))
                                    .label("interpolates an unset optional value")
                                    .help(format!("set it in env `{env}`, or choose per env: `if env.name == \"{env}\" then … else …`")),
                            );
                        }
                        V::Name { .. } | V::Decl(_) => {
                            poisoned = true;
                            self.err(
                                Diagnostic::new(
                                    Code::E2028,
                                    e.span,
                                    format!("cannot interpolate {}", v.describe()),
                                )
                                .label("a declaration, not a string")
                                .help("use one of its members, e.g. `.host` or `.port.http.url`"),
                            );
                        }
                        _ => {
                            poisoned = true;
                            self.err(
                                Diagnostic::new(
                                    Code::E2028,
                                    e.span,
                                    format!("cannot interpolate {}", v.describe()),
                                )
                                .label("not a string, number or address"),
                            );
                        }
                    }
                }
            }
        }
        if out.len() > MAX_STRING {
            return self.too_large(span, "string");
        }
        if poisoned {
            Value::unknown(span)
        } else {
            Value::new(V::Str(out), span)
        }
    }

    fn ident(&mut self, name: &str, span: Span, hint: &Ty) -> Value {
        if self.types().accepts_bare_ident(hint, name)
            && !self.frame.locals.iter().any(|l| l.contains_key(name))
        {
            return Value::new(V::Str(name.to_string()), span);
        }
        for scope in self.frame.locals.iter().rev() {
            if let Some(v) = scope.get(name) {
                return Value::new(v.kind.clone(), span);
            }
        }
        match name {
            "self" => {
                return match self.frame.self_.clone() {
                    Some(d) => Value::new(V::Decl(d), span),
                    None => {
                        self.err(
                            Diagnostic::new(
                                Code::E1015,
                                span,
                                "`self` is only available inside a service or infra",
                            )
                            .label("no enclosing declaration")
                            .help("name the declaration instead"),
                        );
                        Value::unknown(span)
                    }
                };
            }
            "env" => {
                if !self.frame.env_allowed {
                    self.err(
                        Diagnostic::new(Code::E1014, span, "`env` is not in scope here")
                            .label("not evaluated per environment")
                            .help("`env` is bound inside services, infra, images and the lets they use"),
                    );
                    return Value::unknown(span);
                }
                self.env_reads += 1;
                return match &self.env {
                    Some(v) => Value::new(v.kind.clone(), span),
                    None => Value::unknown(span),
                };
            }
            "std" => return Value::new(V::Namespace("std".into()), span),
            _ => {}
        }
        if let Some(l) = self.p.lets.get(name) {
            return self.eval_let(l, span);
        }
        if self.p.std_imports.contains_key(name) {
            return Value::new(V::Namespace(format!("std.{name}")), span);
        }
        if [
            DeclKind::Service,
            DeclKind::Infra,
            DeclKind::Image,
            DeclKind::Env,
            DeclKind::Config,
        ]
        .iter()
        .any(|k| self.p.decl(*k, name).is_some())
        {
            return Value::new(
                V::Name {
                    name: name.into(),
                    weak: false,
                },
                span,
            );
        }
        let lits = self.types().literals(hint);
        if !lits.is_empty() {
            let shown: Vec<String> = lits.iter().map(|l| format!("\"{l}\"")).collect();
            self.err(
                Diagnostic::new(
                    Code::E2002,
                    span,
                    format!("expected one of {}, found `{name}`", shown.join(", ")),
                )
                .label("not one of the allowed values")
                .maybe_help(suggest::did_you_mean(name, &lits)),
            );
            return Value::unknown(span);
        }
        if !self.p.incomplete {
            let mut cands: Vec<String> = self.p.visible_names().into_iter().collect();
            for scope in &self.frame.locals {
                cands.extend(scope.keys().map(|k| k.to_string()));
            }
            let mut d = Diagnostic::new(Code::E1001, span, format!("unknown name `{name}`"))
                .label("not found in this scope")
                .maybe_help(suggest::did_you_mean(name, &cands));
            if self.p.fns.contains_key(name) {
                d = d.help(format!("`{name}` is a function: call it, `{name}(…)`"));
            }
            self.err(d);
        }
        Value::unknown(span)
    }

    fn eval_let(&mut self, l: &crate::syntax::ast::Let, span: Span) -> Value {
        let name = l.name.name.clone();
        if let Some(pos) = self.lets_active.iter().position(|n| *n == name) {
            let chain: Vec<String> = self
                .lets_active
                .iter()
                .skip(pos)
                .map(|n| format!("`{n}`"))
                .collect();
            self.err(
                Diagnostic::new(
                    Code::E1013,
                    l.name.span,
                    format!(
                        "`{name}` depends on itself: {} → `{name}`",
                        chain.join(" → ")
                    ),
                )
                .label("this let is part of a cycle")
                .help("a let cannot refer to itself, directly or through other lets"),
            );
            return Value::unknown(span);
        }
        // Each let is evaluated once per env (so `let b = a + a` chains stay
        // linear); the references it resolved are replayed as edges of
        // whichever declaration uses it.
        if let Some(c) = self.let_cache.get(&name).cloned() {
            for e in c.targets {
                self.edge_to_port(e.to.clone(), e.span, e.weak, e.port);
            }
            self.diags.extend(c.diags);
            self.touched.extend(c.touched);
            self.env_reads += u64::from(c.reads_env);
            return Value::new(c.value.kind, span);
        }
        let diags_before = self.diags.len();
        let reads_before = self.env_reads;
        let touched_before = std::mem::take(&mut self.touched);
        self.lets_active.push(name.clone());
        // A let sees neither template parameters nor `self`.
        let locals = std::mem::take(&mut self.frame.locals);
        let self_ = self.frame.self_.take();
        let saved_edges = std::mem::take(&mut self.edges);
        let saved_current = self.frame.current.replace(super::let_sentinel());
        let saved_weak = std::mem::replace(&mut self.weak_depth, 0);
        let v = self.raw(&l.value, &Ty::Any);
        self.weak_depth = saved_weak;
        self.frame.current = saved_current;
        let produced = std::mem::replace(&mut self.edges, saved_edges);
        self.frame.locals = locals;
        self.frame.self_ = self_;
        self.lets_active.pop();
        let targets = produced;
        for e in &targets {
            self.edge_to_port(e.to.clone(), e.span, e.weak, e.port);
        }
        let touched = std::mem::replace(&mut self.touched, touched_before);
        self.touched.extend(touched.iter().cloned());
        self.let_cache.insert(
            name,
            super::LetCached {
                value: v.clone(),
                targets,
                diags: self.diags.since(diags_before),
                touched,
                reads_env: self.env_reads != reads_before,
            },
        );
        Value::new(v.kind, span)
    }

    fn call(
        &mut self,
        callee: &Expr,
        args: &[crate::syntax::ast::Arg],
        span: Span,
        hint: &Ty,
    ) -> Value {
        let ExprKind::Ident(name) = &callee.kind else {
            self.err(
                Diagnostic::new(
                    Code::E1012,
                    callee.span,
                    "only stdlib functions can be called",
                )
                .label("not a function name"),
            );
            return Value::unknown(span);
        };
        if name == "weak" {
            if args.len() != 1 || args.iter().any(|a| a.name.is_some()) {
                self.err(
                    Diagnostic::new(
                        Code::E2015,
                        span,
                        "`weak` takes exactly one positional argument",
                    )
                    .label("e.g. `weak(api.port.http)`"),
                );
                return Value::unknown(span);
            }
            self.weak_depth += 1;
            let v = args
                .first()
                .map(|a| self.raw(&a.value, hint))
                .unwrap_or_else(|| Value::unknown(span));
            self.weak_depth -= 1;
            return make_weak(v);
        }
        let Some(sig) = self.p.fns.get(name) else {
            let names: Vec<&String> = self.p.fns.keys().collect();
            let mut d = Diagnostic::new(
                Code::E1012,
                callee.span,
                format!("unknown function `{name}`"),
            )
            .label("not a stdlib function")
            .maybe_help(suggest::did_you_mean(name, &names));
            if self.p.templates.contains_key(name) {
                d = d.help(format!(
                    "`{name}` is a template: use it as `service x from {name}(…) {{ … }}`"
                ));
            }
            self.err(d);
            return Value::unknown(span);
        };
        let what = || format!("`{name}()`");
        let bound = self.bind_args(&sig.params, args, span, Code::E2015, &what);
        Value::new(
            V::Call(Box::new(crate::model::Call {
                func: sig.name_arc.clone(),
                ret: sig.ret_arc.clone(),
                args: bound,
            })),
            span,
        )
    }
}

/// The largest list `+` may build.
const MAX_LIST: usize = 100_000;
/// The largest string `+` or interpolation may build.
const MAX_STRING: usize = 16 * 1024 * 1024;

fn make_weak(v: Value) -> Value {
    let kind = match v.kind {
        V::Name { name, .. } => V::Name { name, weak: true },
        V::Ports(d, _) => V::Ports(d, true),
        V::List(items) => V::List(items.into_iter().map(make_weak).collect()),
        other => other,
    };
    Value::new(kind, v.span)
}

/// Structural equality for `==` (spans ignored).
fn same(a: &Value, b: &Value) -> bool {
    match (&a.kind, &b.kind) {
        (V::List(x), V::List(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q)),
        (V::Record(x), V::Record(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((k1, v1), (k2, v2))| k1 == k2 && same(v1, v2))
        }
        (V::Name { name: x, .. }, V::Name { name: y, .. }) => x == y,
        (V::Addr(x), V::Str(s)) | (V::Str(s), V::Addr(x)) => &x.host_port() == s,
        (V::Quantity(x), V::Quantity(y)) => x.kind == y.kind && x.amount == y.amount,
        (x, y) => x == y,
    }
}

fn expr_text(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Ident(n) => n.clone(),
        ExprKind::Member(b, m) => format!("{}.{}", expr_text(b), m.name),
        _ => "this value".into(),
    }
}
