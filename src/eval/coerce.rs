//! Coercion: checking a value against a type and converting it (unit
//! literals, bare identifiers, references, defaults). Codes: E2001–E2010,
//! E2013, E2021–E2023.

use super::{units, Evaluator};
use crate::diag::{suggest, Code, Diagnostic};
use crate::model::{DeclRef, Fields, QuantityKind, Value, V};
use crate::names;
use crate::program::types::{RecordTy, Ty};
use crate::syntax::ast::DeclKind;

type Problems = Vec<Diagnostic>;

impl<'p> Evaluator<'p> {
    /// Coerce and report problems; a failed value becomes the poison value.
    pub(super) fn coerce_report(&mut self, v: Value, ty: &Ty, complete: bool) -> Value {
        let span = v.span;
        match self.coerce(v, ty, complete) {
            Ok(v) => v,
            Err(ds) => {
                self.diags.extend(ds);
                Value::unknown(span)
            }
        }
    }

    fn mismatch(&self, v: &Value, ty: &Ty) -> Diagnostic {
        let expected = self.types().show(ty);
        let mut d = Diagnostic::new(
            Code::E2002,
            v.span,
            format!("expected {expected}, found {}", v.describe()),
        )
        .label(format!("expected {expected}"));
        match (&v.kind, self.types().resolve(ty)) {
            (V::Str(s), Ty::Int | Ty::Port) if s.parse::<i64>().is_ok() => {
                d = d.help(format!("remove the quotes: `{s}`"))
            }
            (V::Int(n), Ty::String) => d = d.help(format!("quote it: `\"{n}\"`")),
            (V::Str(s), Ty::Bool) if s == "true" || s == "false" => {
                d = d.help(format!("remove the quotes: `{s}`"))
            }
            (V::Name { name, .. }, Ty::String) => {
                d = d.help(format!(
                    "quote it (`\"{name}\"`), or use a member such as `{name}.host`"
                ))
            }
            (V::Ports(..), _) => d = d.help("name a port: `.port.NAME`"),
            (V::Str(_) | V::Int(_) | V::Name { .. }, Ty::List(_)) => {
                d = d.help("wrap it in a list: `[…]`")
            }
            _ => {}
        }
        d
    }

    /// Check `v` against `ty`, converting it. With `complete`, records get
    /// their defaults and missing required fields are errors.
    pub(super) fn coerce(&mut self, v: Value, ty: &Ty, complete: bool) -> Result<Value, Problems> {
        let span = v.span;
        if matches!(v.kind, V::Unknown) {
            return Ok(v);
        }
        let resolved = self.types().resolve(ty).clone();
        let bad = |this: &Self, v: &Value| Err(vec![this.mismatch(v, ty)]);
        match (&resolved, &v.kind) {
            (Ty::Any, _) => Ok(v),
            (Ty::Optional(_), V::None) => Ok(v),
            (Ty::Optional(t), _) => self.coerce(v, t, complete),
            (_, V::None) => Err(vec![Diagnostic::new(
                Code::E2002,
                span,
                format!("expected {resolved}, found a value that is not set in this env"),
            )
            .label("unset here")
            .help("set it, or give the field a value in every env")]),
            (Ty::Named(_), _) => Ok(v),
            (Ty::String, V::Str(_)) => Ok(v),
            (Ty::String, V::Addr(a)) => Ok(Value::new(V::Str(a.host_port()), span)),
            (Ty::Int, V::Int(_)) => Ok(v),
            (Ty::Bool, V::Bool(_)) => Ok(v),
            (Ty::Cpu, _) => self.quantity(v, QuantityKind::Cpu, ty),
            (Ty::Memory, _) => self.quantity(v, QuantityKind::Memory, ty),
            (Ty::Storage, _) => self.quantity(v, QuantityKind::Storage, ty),
            (Ty::Duration, _) => self.quantity(v, QuantityKind::Duration, ty),
            (Ty::Percent, _) => self.quantity(v, QuantityKind::Percent, ty),
            (Ty::Port, V::Int(n)) => {
                if (1..=65535).contains(n) {
                    Ok(v)
                } else {
                    Err(vec![Diagnostic::new(
                        Code::E2005,
                        span,
                        format!("port {n} is out of range"),
                    )
                    .label("ports are 1–65535")
                    .help("use a port between 1 and 65535")])
                }
            }
            (Ty::DnsLabel, V::Str(s)) => check_str(
                v.clone(),
                names::dns_label(s),
                Code::E2006,
                "not a valid Kubernetes name",
                "use lowercase letters, digits and `-`",
            ),
            (Ty::Path, V::Str(s)) => check_str(
                v.clone(),
                names::rel_path(s),
                Code::E2021,
                "not a project-relative path",
                "paths are relative to the project root (the folder holding `ship/`)",
            ),
            (Ty::Url, V::Str(s)) => check_str(
                v.clone(),
                names::url(s),
                Code::E2022,
                "not a URL",
                "write a full URL such as `https://charts.example.com`",
            ),
            (Ty::Digest, V::Str(s)) => check_str(
                v.clone(),
                names::digest(s),
                Code::E2008,
                "not a digest",
                "a digest is `sha256:` followed by 64 hex characters",
            ),
            (Ty::ImageRef, V::Str(s)) => {
                let code = if s.contains('@')
                    && names::digest(s.split_once('@').map(|x| x.1).unwrap_or("")).is_err()
                {
                    Code::E2008
                } else {
                    Code::E2023
                };
                check_str(
                    v.clone(),
                    names::image_ref(s).map(|_| ()),
                    code,
                    "not a valid image reference",
                    "write `registry/repository:tag`, e.g. `docker.io/library/nginx:1.27`",
                )
            }
            (Ty::PortName, V::Str(_)) => Ok(v),
            (Ty::Lit(l), V::Str(s)) if **l == **s => Ok(v),
            (Ty::Ref(kind), _) => self.reference(v, *kind, ty),
            (Ty::Range(t), V::Range(..)) => {
                let V::Range(lo, hi) = v.kind else {
                    return Ok(Value::unknown(span));
                };
                // `.. limit` has no request.
                let lo = if matches!(lo.kind, V::None) {
                    *lo
                } else {
                    self.coerce(*lo, t, complete)?
                };
                let hi = match hi {
                    Some(h) => Some(Box::new(self.coerce(*h, t, complete)?)),
                    None => None,
                };
                if let (V::Int(a), Some(V::Int(b))) = (&lo.kind, hi.as_ref().map(|h| &h.kind)) {
                    if a > b {
                        return Err(vec![Diagnostic::new(
                            Code::E2009,
                            span,
                            format!("the lower bound `{a}` is larger than the upper bound `{b}`"),
                        )
                        .label("min .. max")
                        .help(format!("write `{b} .. {a}`"))]);
                    }
                }
                if let (V::Quantity(qa), Some(V::Quantity(qb))) =
                    (&lo.kind, hi.as_ref().map(|h| &h.kind))
                {
                    let (ta, tb) = (&qa.text, &qb.text);
                    if qa.amount > qb.amount {
                        return Err(vec![Diagnostic::new(
                            Code::E2009,
                            span,
                            format!("the request `{ta}` is larger than the limit `{tb}`"),
                        )
                        .label("request .. limit")
                        .help(format!("write `{tb} .. {ta}`, or raise the limit"))]);
                    }
                }
                Ok(Value::new(V::Range(Box::new(lo), hi), span))
            }
            (Ty::Range(t), _) => {
                let single = self.coerce(v, t, complete)?;
                Ok(Value::new(V::Range(Box::new(single), None), span))
            }
            (Ty::List(t), V::List(_)) => {
                let V::List(items) = v.kind else {
                    return Ok(Value::unknown(span));
                };
                let mut out = Vec::with_capacity(items.len());
                let mut problems = Vec::new();
                for item in items {
                    match self.coerce(item, t, complete) {
                        Ok(x) => out.push(x),
                        Err(p) => problems.extend(p),
                    }
                }
                if problems.is_empty() {
                    Ok(Value::new(V::List(out), span))
                } else {
                    Err(problems)
                }
            }
            (Ty::Map(t), V::Record(_)) => {
                let V::Record(m) = v.kind else {
                    return Ok(Value::unknown(span));
                };
                let mut out = Fields::new();
                let mut problems = Vec::new();
                // Source order kept (env vars depend on it).
                for (k, x) in m.into_in_order() {
                    match self.coerce(x, t, complete) {
                        Ok(x) => {
                            out.insert(k, x);
                        }
                        Err(p) => problems.extend(p),
                    }
                }
                if problems.is_empty() {
                    Ok(Value::new(V::Record(out), span))
                } else {
                    Err(problems)
                }
            }
            (Ty::Record(r), V::Record(_)) => {
                let V::Record(m) = v.kind else {
                    return Ok(Value::unknown(span));
                };
                self.record(r.clone(), m, span, complete, ty)
            }
            (Ty::Nominal(n), V::Call(c)) if *c.ret == **n => Ok(v),
            (Ty::Union(alts), _) => self.union(v, alts.clone(), ty, complete),
            _ => bad(self, &v),
        }
    }

    fn union(
        &mut self,
        v: Value,
        alts: std::sync::Arc<[Ty]>,
        ty: &Ty,
        complete: bool,
    ) -> Result<Value, Problems> {
        let mut best: Option<Problems> = None;
        for alt in alts.iter() {
            let edges = self.edges.len();
            match self.coerce(v.clone(), alt, complete) {
                Ok(x) => return Ok(x),
                Err(p) => {
                    self.edges.truncate(edges);
                    // Prefer the problems of an alternative of the value's own shape.
                    let shaped = shape_matches(&v, self.types().resolve(alt));
                    if shaped && best.is_none() {
                        best = Some(p);
                    }
                }
            }
        }
        if let V::Str(s) = &v.kind {
            let lits: Vec<&str> = alts
                .iter()
                .filter_map(|a| match self.types().resolve(a) {
                    Ty::Lit(l) => Some(&**l),
                    _ => None,
                })
                .collect();
            if !lits.is_empty() && lits.len() == alts.len() {
                let shown: Vec<String> = lits.iter().map(|l| format!("\"{l}\"")).collect();
                return Err(vec![Diagnostic::new(
                    Code::E2002,
                    v.span,
                    format!("expected one of {}, found \"{s}\"", shown.join(", ")),
                )
                .label("not one of the allowed values")
                .maybe_help(suggest::did_you_mean(s, &lits))]);
            }
        }
        Err(best.unwrap_or_else(|| vec![self.mismatch(&v, ty)]))
    }

    fn record(
        &mut self,
        r: std::sync::Arc<RecordTy>,
        m: Fields,
        span: crate::source::Span,
        complete: bool,
        ty: &Ty,
    ) -> Result<Value, Problems> {
        // Both maps are sorted: one merge-join pass over given values and
        // schema fields, building the output in order.
        let mut out: Vec<(crate::model::Key, Value)> = Vec::with_capacity(r.fields.len());
        let mut problems = Vec::new();
        let mut given = m.into_iter().peekable();
        let mut unknown: Vec<(crate::model::Key, Value)> = Vec::new();
        for (k, f) in &r.fields {
            while given.peek().is_some_and(|(gk, _)| gk < k) {
                if let Some(u) = given.next() {
                    unknown.push(u);
                }
            }
            if given.peek().is_some_and(|(gk, _)| gk == k) {
                if let Some((gk, x)) = given.next() {
                    match self.coerce(x, &f.ty, complete) {
                        Ok(x) => out.push((gk, x)),
                        Err(p) => problems.extend(p),
                    }
                }
                continue;
            }
            if !complete {
                continue;
            }
            if let Some(d) = &f.default {
                if self.default_depth > 32 {
                    problems.push(
                        Diagnostic::new(
                            Code::E1017,
                            span,
                            format!("the default of `{k}` contains its own record type"),
                        )
                        .label("completing this record never ends")
                        .help(format!("make `{k}` optional without a default: `{k}?: …`")),
                    );
                    continue;
                }
                // Cached per mode: with and without unset optionals.
                let key = (d as *const crate::syntax::ast::Expr as usize)
                    .wrapping_mul(2)
                    .wrapping_add(usize::from(self.keep_unset));
                if let Some(cached) = self.defaults.get(&key) {
                    out.push((k.clone(), Value::new(cached.kind.clone(), span)));
                    continue;
                }
                self.default_depth += 1;
                let dv = self.raw(d, &f.ty);
                let done = self.coerce(Value::new(dv.kind, span), &f.ty, true);
                self.default_depth -= 1;
                match done {
                    Ok(x) => {
                        if is_const(d) {
                            self.defaults.insert(key, x.clone());
                        }
                        out.push((k.clone(), x));
                    }
                    Err(p) => problems.extend(p),
                }
            } else if f.optional {
                // Unset optionals stay visible to member access (`env.domain`),
                // except in declaration values (`keep_unset`).
                if self.keep_unset {
                    out.push((k.clone(), Value::new(V::None, span)));
                }
            } else if !self.p.incomplete {
                problems.push(
                    Diagnostic::new(
                        Code::E2003,
                        span,
                        format!("missing field `{k}` in {}", self.owner_name(ty)),
                    )
                    .label(format!("`{k}` is required"))
                    .help(format!("add `{k} = …` (type {})", f.ty)),
                );
            }
        }
        unknown.extend(given);
        for (k, x) in unknown {
            let names: Vec<&str> = r.fields.keys().map(|k| k.as_str()).collect();
            problems.push(
                Diagnostic::new(
                    Code::E2001,
                    x.span,
                    format!("unknown field `{k}` in {}", self.owner_name(ty)),
                )
                .label("no such field")
                .maybe_help(suggest::did_you_mean(&k, &names)),
            );
        }
        let out: Fields = out.into_iter().collect();
        if problems.is_empty() {
            Ok(Value::new(V::Record(out), span))
        } else {
            Err(problems)
        }
    }

    fn quantity(&mut self, v: Value, kind: QuantityKind, ty: &Ty) -> Result<Value, Problems> {
        let span = v.span;
        let text = match &v.kind {
            V::Quantity(q) if q.kind == kind => return Ok(v),
            V::Number(t) => t.clone(),
            V::Int(n) if !matches!(kind, QuantityKind::Duration | QuantityKind::Percent) => {
                n.to_string()
            }
            V::Int(n) => {
                let (unit, what) = match kind {
                    QuantityKind::Percent => ("%", "Percent"),
                    _ => ("s", "Duration"),
                };
                return Err(vec![Diagnostic::new(
                    Code::E2004,
                    span,
                    format!("`{n}` has no unit, but a {what} is expected"),
                )
                .label(format!("a {what} needs a unit"))
                .help(format!("did you mean `{n}{unit}`?"))]);
            }
            _ => return Err(vec![self.mismatch(&v, ty)]),
        };
        match units::parse(&text, kind) {
            Ok(amount) => Ok(Value::new(
                V::Quantity(Box::new(crate::model::Quantity { kind, amount, text })),
                span,
            )),
            Err(help) => Err(vec![Diagnostic::new(
                Code::E2004,
                span,
                format!("`{text}` is not a {kind:?} quantity"),
            )
            .label(format!("expected {kind:?}"))
            .help(help)]),
        }
    }

    fn reference(&mut self, v: Value, kind: DeclKind, ty: &Ty) -> Result<Value, Problems> {
        let span = v.span;
        let (name, weak) = match &v.kind {
            V::Name { name, weak } => (name.to_string(), *weak),
            V::Decl(d) if d.kind == kind => return Ok(v),
            V::Decl(d) => (d.name.clone(), true),
            V::Call(c) if kind == DeclKind::Image && &*c.ret == "Image" => return Ok(v),
            _ => return Err(vec![self.mismatch(&v, ty)]),
        };
        if self.p.decl(kind, &name).is_some() {
            let to = DeclRef { kind, name };
            // A reference to oneself adds no edge, but `depends_on = [me]`
            // says "start me after me": a cycle of one.
            if !weak
                && self.frame.why.starts_with("depends_on")
                && self.frame.current.as_ref() == Some(&to)
            {
                return Err(vec![Diagnostic::new(
                    Code::E3001,
                    span,
                    format!("`{}` depends on itself", to.name),
                )
                .label("a declaration cannot wait for itself")
                .help("remove it from `depends_on`")]);
            }
            self.edge(to.clone(), span, weak);
            return Ok(Value::new(V::Decl(to), span));
        }
        let found = [
            DeclKind::Service,
            DeclKind::Infra,
            DeclKind::Image,
            DeclKind::Env,
        ]
        .into_iter()
        .find(|k| self.p.decl(*k, &name).is_some());
        let found_kind = found.map(DeclKind::type_name).unwrap_or("nothing");
        let mut d = Diagnostic::new(
            Code::E2013,
            span,
            format!("expected {}, found {found_kind} `{name}`", kind.type_name()),
        )
        .label(format!(
            "`{name}` is not {} {}",
            article(kind),
            kind.keyword()
        ));
        let same_kind: Vec<&String> = self.p.of(kind).map(|(n, _)| n).collect();
        d = d.maybe_help(suggest::did_you_mean(&name, &same_kind));
        if kind == DeclKind::Image && d.help.is_none() {
            d = d.help(format!("declare `image {name} {{ … }}`, or use `external(\"repo:tag\")` for a third-party image"));
        }
        Err(vec![d])
    }
}

fn article(kind: DeclKind) -> &'static str {
    match kind {
        DeclKind::Image | DeclKind::Infra | DeclKind::Env | DeclKind::Object => "an",
        DeclKind::Service | DeclKind::Config => "a",
    }
}

fn check_str(
    v: Value,
    r: Result<(), String>,
    code: Code,
    what: &str,
    help: &str,
) -> Result<Value, Problems> {
    match r {
        Ok(()) => Ok(v),
        Err(reason) => Err(vec![Diagnostic::new(code, v.span, reason)
            .label(what.to_string())
            .help(help.to_string())]),
    }
}

fn shape_matches(v: &Value, t: &Ty) -> bool {
    matches!(
        (&v.kind, t),
        (V::Record(_), Ty::Record(_) | Ty::Map(_))
            | (V::List(_), Ty::List(_))
            | (V::Int(_), Ty::Port | Ty::Int)
            | (V::Call(_), Ty::Nominal(_))
            | (V::Name { .. } | V::Decl(_), Ty::Ref(_))
            | (
                V::Str(_),
                Ty::DnsLabel | Ty::Path | Ty::Url | Ty::Digest | Ty::ImageRef
            )
    )
}

/// Whether an expression is a constant (its value never depends on the env).
fn is_const(e: &crate::syntax::ast::Expr) -> bool {
    use crate::syntax::ast::{ExprKind, StrPart};
    match &e.kind {
        ExprKind::Int(_) | ExprKind::Bool(_) | ExprKind::Number(_) => true,
        ExprKind::Str(parts) => parts.iter().all(|p| matches!(p, StrPart::Lit(_))),
        ExprKind::List(items) => items.iter().all(is_const),
        ExprKind::Record(b) => b.entries.is_empty(),
        _ => false,
    }
}
