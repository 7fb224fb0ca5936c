//! A declaration's layers: its templates (`from` chains, arguments bound
//! and checked), its body, and the env's override.

use super::*;

impl<'p> Evaluator<'p> {
    /// Merge a declaration's layers (template, body, env override) into a
    /// partial record, unchecked for completeness.
    pub(super) fn layers(&mut self, decl: &ast::Decl, id: &DeclRef, filter: Filter<'_>) -> Fields {
        let schema = self.p.schema(decl.kind);
        let mut acc = Fields::new();
        // Templates merge left to right (`from a, b`), then the body.
        if matches!(decl.kind, DeclKind::Service | DeclKind::Infra) {
            for from in decl.templates() {
                self.template_layer(from, &schema, filter, &mut acc);
            }
        }
        let entries: Vec<(&ast::Entry, usize)> = decl.body.entries.iter().map(|e| (e, 0)).collect();
        self.apply_top_level(&entries, &schema, filter, &mut acc);
        if let Some(ovr) = self.overrides.get(id).cloned() {
            let entries: Vec<(&ast::Entry, usize)> = ovr.into_iter().map(|e| (e, 1)).collect();
            self.apply_top_level(&entries, &schema, filter, &mut acc);
        }
        acc
    }

    /// Apply a layer's own entries, noting which read the env when a
    /// declaration is evaluated for sharing (not its template arguments,
    /// nor anything evaluated inside the values).
    fn apply_top_level(
        &mut self,
        entries: &[(&ast::Entry, usize)],
        schema: &Ty,
        filter: Filter<'_>,
        acc: &mut Fields,
    ) {
        self.top_level = self.field_reads.is_some();
        self.apply_entries(entries, schema, filter, acc);
        self.top_level = false;
    }

    pub(super) fn template_layer(
        &mut self,
        from: &ast::FromClause,
        schema: &Ty,
        filter: Filter<'_>,
        acc: &mut Fields,
    ) {
        let Some(t) = self.p.templates.get(&from.name.name) else {
            return;
        };
        if self.frame.templates.contains(&t.name.name) {
            return; // E1009, reported when collecting
        }
        let p = self.p;
        let params: &[ParamTy] = p
            .template_params
            .get(&t.name.name)
            .map_or(&[], Vec::as_slice);
        let what = || format!("template `{}`", t.name.name);
        let args = self.bind_args(params, &from.args, from.span, Code::E2014, &what);
        self.frame.templates.push(t.name.name.clone());
        self.frame.locals.push(args);
        if let Some(parent) = &t.from {
            self.template_layer(parent, schema, filter, acc);
        }
        let entries: Vec<(&ast::Entry, usize)> = t.body.entries.iter().map(|e| (e, 0)).collect();
        self.apply_top_level(&entries, schema, filter, acc);
        self.frame.locals.pop();
        self.frame.templates.pop();
    }

    /// Bind call or template arguments to parameters, evaluating each with
    /// its parameter's type; defaults filled, unset optionals left out.
    pub(super) fn bind_args(
        &mut self,
        params: &[ParamTy],
        args: &[ast::Arg],
        span: Span,
        code: Code,
        what: &dyn Fn() -> String,
    ) -> Fields {
        let mut out = Fields::new();
        let mut given: BTreeMap<String, Span> = BTreeMap::new();
        let mut positional = 0usize;
        for a in args {
            let param = match &a.name {
                Some(n) => match params.iter().find(|p| p.name == n.name) {
                    Some(p) => p,
                    None => {
                        let names: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
                        self.err(
                            Diagnostic::new(
                                code,
                                n.span,
                                format!("{} has no parameter `{}`", what(), n.name),
                            )
                            .label("unknown parameter")
                            .maybe_help(
                                suggest::did_you_mean(&n.name, &names)
                                    .or_else(|| Some(format!("parameters: {}", names.join(", ")))),
                            ),
                        );
                        continue;
                    }
                },
                None => {
                    positional += 1;
                    match params.get(positional - 1) {
                        Some(p) => p,
                        None => {
                            self.err(
                                Diagnostic::new(
                                    code,
                                    a.value.span,
                                    format!(
                                        "{} takes {} arguments, but more were given",
                                        what(),
                                        params.len()
                                    ),
                                )
                                .label("extra argument"),
                            );
                            continue;
                        }
                    }
                }
            };
            if let Some(first) = given.insert(param.name.clone(), a.value.span) {
                self.err(
                    Diagnostic::new(
                        code,
                        a.value.span,
                        format!("parameter `{}` is given twice", param.name),
                    )
                    .label("second value")
                    .secondary(first, "first value here"),
                );
                continue;
            }
            // An edge made while evaluating an argument says where it came
            // from: `template uses(target)`, not an empty reason.
            let saved_why = if self.frame.why.is_empty() {
                let why = format!("{}({})", what().replace('`', ""), param.name);
                Some(std::mem::replace(&mut self.frame.why, why))
            } else {
                None
            };
            let v = self.expr(&a.value, &param.ty);
            if let Some(w) = saved_why {
                self.frame.why = w;
            }
            out.insert(param.name.as_str(), v);
        }
        for param in params {
            if out.contains_key(&param.name) || given.contains_key(&param.name) {
                continue;
            }
            if let Some(d) = &param.default {
                let v = self.expr(d, &param.ty);
                out.insert(param.name.as_str(), Value::new(v.kind, span));
            } else if param.optional {
                continue;
            } else {
                out.insert(param.name.as_str(), Value::unknown(span));
                self.err(
                    Diagnostic::new(
                        code,
                        span,
                        format!("{} needs the argument `{}`", what(), param.name),
                    )
                    .label(format!("`{}` is missing", param.name))
                    .help(format!("add `{} = …` (type {})", param.name, param.ty)),
                );
            }
        }
        out
    }
}
