//! Bodies: applying `path = value` entries (labelled, block and assignment
//! forms, env overrides with a path offset) to a partial record, walking the
//! schema along each path. Codes: E1003 (a field set twice), E2001.

use super::{Evaluator, Filter};
use crate::diag::{suggest, Code, Diagnostic};
use crate::model::{merge, Fields, Value, V};
use crate::program::types::Ty;
use crate::source::Span;
use crate::syntax::ast::{self, EntryKind};

impl Evaluator<'_> {
    /// Apply body entries (with a path offset: 1 for env overrides) to `acc`.
    pub(super) fn apply_entries(
        &mut self,
        entries: &[(&ast::Entry, usize)],
        schema: &Ty,
        filter: Filter<'_>,
        acc: &mut Fields,
    ) {
        let mut seen: Vec<(Vec<&str>, Span)> = Vec::new();
        let types = self.p.types_ref();
        for (entry, offset) in entries {
            // (name, span) of each path segment, the labelled field first.
            let mut keys: Vec<(&str, Span)> = Vec::with_capacity(entry.path.len() + 1);
            if let EntryKind::Labelled(kw) = &entry.kind {
                match types.record(schema).and_then(|r| r.labels.get(&kw.name)) {
                    Some(f) => keys.push((f.as_str(), kw.span)),
                    None => {
                        self.err(
                            Diagnostic::new(Code::E2001, kw.span, format!("unknown labelled field `{}`", kw.name))
                                .label("no labelled field with this keyword")
                                .help("labelled fields are written `port NAME = value`; other fields are `name = value`"),
                        );
                        continue;
                    }
                }
            }
            keys.extend(
                entry
                    .path
                    .iter()
                    .skip(*offset)
                    .map(|k| (k.name.as_str(), k.span)),
            );
            let names: Vec<&str> = keys.iter().map(|(n, _)| *n).collect();
            let Some(first) = names.first() else { continue };
            if !filter.admits(first) {
                continue;
            }
            if let Some((_, old)) = seen
                .iter()
                .find(|(p, _)| p.starts_with(&names) || names.starts_with(p))
            {
                let shown = names.join(".");
                self.err(
                    Diagnostic::new(
                        Code::E1003,
                        entry.span,
                        format!("`{shown}` is set twice in this body"),
                    )
                    .label("set again here")
                    .secondary(*old, "first set here")
                    .help("remove one of them"),
                );
                continue;
            }
            seen.push((names, entry.span));
            let Some((names, _)) = seen.last() else {
                continue;
            };
            // Walk the schema along the path.
            let mut ty = schema.clone();
            let mut ok = true;
            for (i, (name, span)) in keys.iter().enumerate() {
                let walked = names.get(..i).unwrap_or(&[]);
                match self.field_type(&ty, name, *span, walked) {
                    Some(t) => ty = t,
                    None => {
                        ok = false;
                        break;
                    }
                }
            }
            if !ok {
                continue;
            }
            // `why` of the edges this value records: the path from the
            // enclosing records down, in a buffer reused across entries.
            let frame = &mut self.frame;
            frame.why.clear();
            for n in frame
                .why_stack
                .iter()
                .map(String::as_str)
                .chain(names.iter().copied())
            {
                if !frame.why.is_empty() {
                    frame.why.push('.');
                }
                frame.why.push_str(n);
            }
            let reads = self.env_reads;
            // Only the declaration's own entries are noted, not the records
            // evaluated inside their values.
            let top = std::mem::replace(&mut self.top_level, false);
            // The addresses this field reads, apart from the others'.
            let outer = top.then(|| std::mem::take(&mut self.touched));
            let value = self.expr_partial(&entry.value, &ty);
            self.top_level = top;
            if let Some(outer) = outer {
                // Kept apart from what was read outside the fields
                // (template arguments, defaults): `take_field_touches`.
                let inner = std::mem::replace(&mut self.touched, outer);
                if let Some(first) = names.first() {
                    if !inner.is_empty() {
                        self.field_touches
                            .entry((*first).into())
                            .or_default()
                            .extend(inner);
                    }
                }
            }
            if top && self.env_reads != reads {
                if let (Some((fields, counted)), Some(first)) =
                    (&mut self.field_reads, names.first())
                {
                    fields.insert((*first).into());
                    *counted += self.env_reads - reads;
                }
            }
            insert_path(acc, names, value, entry.span);
        }
    }

    /// The type of `name` inside `ty`, reporting E2001 when there is none.
    fn field_type(&mut self, ty: &Ty, name: &str, span: Span, walked: &[&str]) -> Option<Ty> {
        let types = self.types();
        let resolved = types.resolve(ty);
        match resolved {
            Ty::Optional(inner) => self.field_type(&inner.clone(), name, span, walked),
            Ty::Any => Some(Ty::Any),
            Ty::Map(t) => Some((**t).clone()),
            Ty::Record(r) => match r.fields.get(name) {
                Some(f) => Some(f.ty.clone()),
                None => {
                    let owner = if walked.is_empty() {
                        self.owner_name(ty)
                    } else {
                        format!("`{}`", walked.join("."))
                    };
                    let names: Vec<&str> = r.fields.keys().map(|k| k.as_str()).collect();
                    self.err(
                        Diagnostic::new(
                            Code::E2001,
                            span,
                            format!("unknown field `{name}` in {owner}"),
                        )
                        .label("no such field")
                        .maybe_help(suggest::did_you_mean(name, &names)),
                    );
                    None
                }
            },
            // A block where no record goes (`labels { … }`): the value's own
            // type mismatch (E2002) says it; a second error would name no field.
            _ if walked.is_empty() => None,
            other => {
                let shown = other.to_string();
                self.err(
                    Diagnostic::new(
                        Code::E2001,
                        span,
                        format!("cannot set `{name}` inside `{}`", walked.join(".")),
                    )
                    .label(format!("`{}` is {shown}, not a record", walked.join(".")))
                    .help(format!(
                        "assign the whole value: `{} = …`",
                        walked.join(".")
                    )),
                );
                None
            }
        }
    }

    pub(super) fn owner_name(&self, ty: &Ty) -> String {
        match ty {
            Ty::Named(n) => match &**n {
                "ServiceSchema" => "a service".into(),
                "ImageSchema" => "an image".into(),
                "InfraSchema" => "an infra".into(),
                "EnvSchema" => "an env".into(),
                "ProjectSchema" => "the project".into(),
                other => format!("`{other}`"),
            },
            _ => "this record".into(),
        }
    }
}

/// Insert `value` at `path` in nested records, merging with what is there.
fn insert_path(acc: &mut Fields, path: &[&str], value: Value, span: Span) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    if rest.is_empty() {
        acc.upsert(*first, value, merge);
        return;
    }
    let slot = acc.get_or_insert_with(first, || Value::new(V::Record(Fields::new()), span));
    if !matches!(slot.kind, V::Record(_)) {
        *slot = Value::new(V::Record(Fields::new()), span);
    }
    if let V::Record(m) = &mut slot.kind {
        insert_path(m, rest, value, span);
    }
}
