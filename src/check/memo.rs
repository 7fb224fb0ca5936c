//! Incremental checking for the language server: what each env's
//! evaluation of each declaration produced, kept between analyses, so an
//! edit to one service re-evaluates that service (and what reads its
//! address) instead of the whole project × every env.
//!
//! Soundness rests on three facts of the evaluator:
//! * a declaration's value depends on its own layers (its body, its
//!   template chain, the env's overrides of it), the lets, the env, the
//!   project, the set of declaration names, and the addresses (ports,
//!   host, name) of the declarations it reads — which the evaluator records
//!   ([`Evaluator::take_touched`]);
//! * everything but service, image and infra bodies is the *context*: the
//!   full text of every file that holds anything else (lets, templates,
//!   types, envs, project, policy, imports), the names of all declarations,
//!   and every file's path and id. A different context drops the memo;
//! * a declaration is *changed* when its text or its span differs (a span
//!   that moved would leave stale positions in reused values).
//!
//! Changed declarations are evaluated again; when one's address (ports,
//! host, name, and what computing them reported) differs from before, the
//! declarations that read it are evaluated again too, to a fixed point. The
//! others keep their value (moved from the previous model, never copied),
//! diagnostics and edges. Each declaration's diagnostics are complete on
//! their own: the evaluator replays what a cached let or address reported
//! on every use. The result is the same as a full check: `tests/lsp.rs`
//! compares the two after edits.

use crate::diag::Diagnostic;
use crate::load::Loaded;
use crate::model::{Decl, DeclRef, Edge, EnvModel};
use crate::source::Span;
use crate::syntax::ast::{self, DeclKind};
use std::collections::{BTreeMap, BTreeSet};

/// One declaration's evaluation in one env.
#[derive(Debug)]
pub(crate) struct DeclMemo {
    /// The declaration's span and text when evaluated.
    pub(crate) fingerprint: (Span, String),
    /// What evaluating it reported.
    pub(crate) diags: Vec<Diagnostic>,
    /// The edges it recorded.
    pub(crate) edges: Vec<Edge>,
    /// The declarations whose addresses it read.
    pub(crate) touched: BTreeSet<DeclRef>,
    /// Its own address and what computing it reported: when a new
    /// evaluation gives another, what touched it is evaluated again.
    pub(crate) address: Option<(crate::eval::PortsInfo, Vec<Diagnostic>)>,
    /// The value, while it is not in a model (a model's values come back
    /// through [`Memo::recycle`]).
    pub(crate) value: Option<Decl>,
}

/// One env's memo.
#[derive(Debug, Default)]
pub(crate) struct EnvMemo {
    pub(crate) decls: BTreeMap<DeclRef, DeclMemo>,
    /// Declarations evaluated by the last check.
    pub(crate) evaluated: usize,
}

/// What the language server keeps between checks of one project.
#[derive(Debug, Default)]
pub struct Memo {
    context: String,
    envs: BTreeMap<String, EnvMemo>,
}

/// What the last check with a memo did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Declarations evaluated, summed over envs.
    pub evaluated: usize,
    /// Declarations kept from before, summed over envs.
    pub reused: usize,
}

impl Memo {
    /// An empty memo.
    pub fn new() -> Memo {
        Memo::default()
    }

    /// Give back the previous analysis's models: their values are reused
    /// (moved) by the next check.
    pub fn recycle(&mut self, envs: Vec<EnvModel>) {
        for m in envs {
            let Some(em) = self.envs.get_mut(&m.name) else {
                continue;
            };
            for d in m
                .services
                .into_values()
                .chain(m.infras.into_values())
                .chain(m.images.into_values())
            {
                if let Some(slot) = em.decls.get_mut(&d.id) {
                    slot.value = Some(d);
                }
            }
        }
    }

    /// Start a check: drop everything when the context changed. Returns
    /// the envs' memos to fill (taken out; put back with [`Memo::put`]).
    pub(crate) fn begin(&mut self, context: String) {
        if context != self.context {
            self.envs.clear();
            self.context = context;
        }
    }

    pub(crate) fn take(&mut self, env: &str) -> EnvMemo {
        self.envs.remove(env).unwrap_or_default()
    }

    pub(crate) fn put(&mut self, env: String, memo: EnvMemo) {
        self.envs.insert(env, memo);
    }

    /// What the last check evaluated and reused.
    pub fn stats(&self) -> Stats {
        let mut s = Stats::default();
        for e in self.envs.values() {
            s.evaluated += e.evaluated;
            s.reused += e.decls.len().saturating_sub(e.evaluated);
        }
        s
    }

    /// Forget envs that no longer exist.
    pub(crate) fn retain(&mut self, envs: &BTreeSet<String>) {
        self.envs.retain(|k, _| envs.contains(k));
    }
}

/// The context of a load: see the module docs.
pub(crate) fn context(loaded: &Loaded) -> String {
    let mut out = String::new();
    let mut decl_only: BTreeMap<crate::source::FileId, bool> = BTreeMap::new();
    for f in &loaded.files {
        let only = f.ast.items.iter().all(|i| {
            matches!(i, ast::Item::Decl(d) if matches!(d.kind, DeclKind::Service | DeclKind::Image | DeclKind::Infra))
        });
        decl_only.insert(f.ast.file, only && !f.stdlib);
        if only && !f.stdlib {
            for i in &f.ast.items {
                if let ast::Item::Decl(d) = i {
                    out.push_str(&format!("decl {} {}\n", d.kind.keyword(), d.name.name));
                }
            }
        }
    }
    for f in loaded.sources.files() {
        if f.stdlib {
            continue;
        }
        out.push_str(&format!("file {} {}\n", f.id.0, f.path.display()));
        match decl_only.get(&f.id) {
            Some(true) => {}
            // A file with other items (or one that failed to parse): all of it.
            _ => {
                out.push_str(&f.text);
                out.push('\n');
            }
        }
    }
    out.push_str(&format!("incomplete {}\n", loaded.incomplete));
    out
}

/// The declarations that changed (or whose value is not at hand).
pub(crate) fn changed(
    memo: &EnvMemo,
    current: &BTreeMap<DeclRef, (Span, String)>,
) -> BTreeSet<DeclRef> {
    current
        .iter()
        .filter(|(id, fp)| {
            memo.decls
                .get(*id)
                .is_none_or(|m| m.fingerprint != **fp || m.value.is_none())
        })
        .map(|(id, _)| id.clone())
        .collect()
}

/// The declarations that read the address of `id`.
pub(crate) fn readers_of(memo: &EnvMemo, id: &DeclRef) -> Vec<DeclRef> {
    memo.decls
        .iter()
        .filter(|(_, m)| m.touched.contains(id))
        .map(|(a, _)| a.clone())
        .collect()
}
