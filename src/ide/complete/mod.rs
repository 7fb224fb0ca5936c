//! Completion from the tokens before the cursor, so it works in the
//! half-typed text an editor sends: field names from the schema at the
//! cursor (with docs and snippets), declaration names where a reference
//! fits, string-literal union members, stdlib functions with their
//! signatures, members (`api.port.`, `env.`, `std.`), env names.

mod items;

use super::index::Symbol;
use super::lex::{self, Tok, TokKind};
use super::schema::{self, Owner};
use super::Snapshot;
use crate::program::types::Ty;
use crate::syntax::ast::DeclKind;
use items::*;

/// What a completion item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ItemKind {
    /// A schema field.
    Field,
    /// A keyword or a labelled entry (`port NAME = …`).
    Keyword,
    /// A declaration name.
    Decl,
    /// A let.
    Let,
    /// A stdlib function.
    Function,
    /// A member of a string-literal union, `true`/`false`.
    EnumMember,
    /// A port label.
    Port,
    /// An env name.
    Env,
    /// A stdlib module or a namespace (`env`, `self`, `std`).
    Module,
    /// A member of an address or declaration (`url`, `host`).
    Property,
    /// A template.
    Template,
}

/// One completion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// What is shown and filtered on.
    pub label: String,
    /// What it is.
    pub kind: ItemKind,
    /// The type or signature.
    pub detail: Option<String>,
    /// Markdown documentation.
    pub doc: Option<String>,
    /// A snippet (`$0` placeholders) to insert instead of the label.
    pub snippet: Option<String>,
}

impl Item {
    fn new(label: impl Into<String>, kind: ItemKind) -> Item {
        Item {
            label: label.into(),
            kind,
            detail: None,
            doc: None,
            snippet: None,
        }
    }

    fn detail(mut self, d: impl Into<String>) -> Item {
        self.detail = Some(d.into());
        self
    }

    fn doc(mut self, d: String) -> Item {
        if !d.is_empty() {
            self.doc = Some(d);
        }
        self
    }

    fn snippet(mut self, s: impl Into<String>) -> Item {
        self.snippet = Some(s.into());
        self
    }
}

#[derive(Debug, Clone)]
struct Frame {
    open: char,
    /// The tokens of the entry that opened it (before the bracket).
    head: Vec<Tok>,
}

/// Completions at `offset` of `text` (the editor's current text, which may
/// not parse), using the snapshot for names and types.
pub fn complete(snap: &Snapshot, text: &str, offset: usize) -> Vec<Item> {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or("");
    let mut toks: Vec<Tok> = lex::lex(before);
    if let Some(last) = toks.last() {
        if last.end == offset
            && matches!(last.kind, TokKind::Comment | TokKind::Str | TokKind::Number)
        {
            return Vec::new();
        }
        // The word being typed is the client's to filter on.
        if last.kind == TokKind::Word && last.end == offset {
            toks.pop();
        }
    }
    let mut frames: Vec<Frame> = Vec::new();
    let mut stmt_start = 0;
    let mut starts: Vec<usize> = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        let s = t.text(before);
        match (t.kind, s) {
            (TokKind::Punct, "{" | "(" | "[") => {
                frames.push(Frame {
                    open: s.chars().next().unwrap_or('{'),
                    head: toks.get(stmt_start..i).unwrap_or(&[]).to_vec(),
                });
                starts.push(stmt_start);
                stmt_start = i + 1;
            }
            (TokKind::Punct, "}" | ")" | "]") => {
                frames.pop();
                // The closed bracket ends its value; the entry goes on
                // until the next separator.
                stmt_start = starts.pop().unwrap_or(0);
            }
            (TokKind::Punct, ",") | (TokKind::Newline, _) => {
                // A line that ends in an operator continues on the next.
                let prev = toks
                    .get(..i)
                    .and_then(|p| p.iter().rev().find(|t| t.kind != TokKind::Comment));
                let continues = prev.is_some_and(|p| {
                    p.kind == TokKind::Punct
                        && ["=", "..", "+", "||", "&&", "==", "!="].contains(&p.text(before))
                });
                if s == "," || !continues {
                    stmt_start = i + 1;
                }
            }
            _ => {}
        }
    }
    let stmt: Vec<Tok> = toks
        .get(stmt_start..)
        .unwrap_or(&[])
        .iter()
        .copied()
        .filter(|t| !matches!(t.kind, TokKind::Comment | TokKind::Newline))
        .collect();
    let words =
        |ts: &[Tok]| -> Vec<String> { ts.iter().map(|t| t.text(before).to_string()).collect() };
    let stmt_words = words(&stmt);
    let (owner, mut path) = resolve_frames(snap, &frames, before);

    // `a.b.` — members (in a value) or a deeper field path (as a key).
    if stmt_words.last().map(String::as_str) == Some(".") {
        let chain = chain_before(&stmt_words);
        let eq = stmt_words.iter().position(|w| w == "=");
        let in_value = eq.is_some() || frames.last().is_some_and(|f| f.open != '{');
        if !in_value {
            let (owner, base) = match (&owner, chain.first()) {
                (Owner::Env(env), Some(first)) if !snap.is_env_field(first) => {
                    match snap.decl_kind(first) {
                        Some(kind) => (
                            Owner::Override {
                                env: env.clone(),
                                kind,
                                name: first.clone(),
                            },
                            chain.get(1..).unwrap_or(&[]).to_vec(),
                        ),
                        None => (owner.clone(), chain.clone()),
                    }
                }
                _ => (owner.clone(), chain.clone()),
            };
            path.extend(base);
            return fields(snap, &owner, &path);
        }
        return members(snap, &owner, &chain);
    }

    let top = frames.last();
    match top.map(|f| f.open) {
        None => {
            if stmt_words.is_empty() {
                return top_level();
            }
            if stmt_words.first().map(String::as_str) == Some("let")
                && stmt_words.iter().any(|w| w == "=")
            {
                return values(snap, &owner, None, &stmt_words);
            }
            if stmt_words.last().map(String::as_str) == Some("from") {
                return templates(snap);
            }
            Vec::new()
        }
        Some('{') => match stmt_words.iter().position(|w| w == "=") {
            None if stmt_words.is_empty() => {
                let mut items = fields(snap, &owner, &path);
                if let (Owner::Env(_), true) = (&owner, path.is_empty()) {
                    items.extend(override_targets(snap));
                }
                items
            }
            None => Vec::new(),
            Some(eq) => {
                let keys: Vec<String> = stmt_words
                    .get(..eq)
                    .unwrap_or(&[])
                    .iter()
                    .filter(|w| *w != ".")
                    .cloned()
                    .collect();
                let (owner, keys) = override_owner(snap, &owner, path.is_empty(), keys);
                path.extend(keys);
                let ty = expected(snap, &owner, &path);
                values(snap, &owner, ty.as_ref(), &stmt_words)
            }
        },
        Some('(') => {
            let callee = top
                .and_then(|f| f.head.last())
                .map(|t| t.text(before).to_string())
                .unwrap_or_default();
            let from_template =
                top.is_some_and(|f| f.head.iter().any(|t| t.text(before) == "from"));
            call(snap, &owner, &callee, from_template, &stmt_words)
        }
        Some(_) => {
            // In a list: the element type of the entry's field.
            let head = top.map(|f| words(&f.head)).unwrap_or_default();
            let eq = head.iter().position(|w| w == "=");
            let keys: Vec<String> = eq
                .and_then(|e| head.get(..e))
                .unwrap_or(&[])
                .iter()
                .filter(|w| *w != ".")
                .cloned()
                .collect();
            let (owner, keys) = override_owner(snap, &owner, path.is_empty(), keys);
            path.extend(keys);
            let ty = expected(snap, &owner, &path)
                .map(|t| snap.analysis.checked.program.types.element(&t));
            values(snap, &owner, ty.as_ref(), &stmt_words)
        }
    }
}

/// In an env body, `api.replicas` overrides `api`'s field.
fn override_owner(
    snap: &Snapshot,
    owner: &Owner,
    at_root: bool,
    keys: Vec<String>,
) -> (Owner, Vec<String>) {
    if let (Owner::Env(env), true, Some(first)) = (owner, at_root, keys.first()) {
        if !snap.is_env_field(first) {
            if let Some(kind) = snap.decl_kind(first) {
                return (
                    Owner::Override {
                        env: env.clone(),
                        kind,
                        name: first.clone(),
                    },
                    keys.get(1..).unwrap_or(&[]).to_vec(),
                );
            }
        }
    }
    (owner.clone(), keys)
}

/// The dotted names before a trailing `.`: `api . port .` → [api, port].
fn chain_before(words: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = words.len().saturating_sub(1);
    while i > 0 {
        let Some(w) = words.get(i - 1) else { break };
        if !w
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        {
            break;
        }
        out.push(w.clone());
        if i < 2 || words.get(i - 2).map(String::as_str) != Some(".") {
            break;
        }
        i -= 2;
    }
    out.reverse();
    out
}

/// Who owns the innermost body, and the field path down to it.
fn resolve_frames(snap: &Snapshot, frames: &[Frame], text: &str) -> (Owner, Vec<String>) {
    let mut owner = Owner::None;
    let mut path: Vec<String> = Vec::new();
    for f in frames {
        let w: Vec<&str> = f
            .head
            .iter()
            .filter(|t| !matches!(t.kind, TokKind::Comment | TokKind::Newline))
            .map(|t| t.text(text))
            .collect();
        if f.open != '{' {
            continue;
        }
        match w.as_slice() {
            [kw, name, ..] if matches!(*kw, "service" | "image" | "infra") => {
                let kind = match *kw {
                    "service" => DeclKind::Service,
                    "image" => DeclKind::Image,
                    _ => DeclKind::Infra,
                };
                owner = Owner::Decl(kind, (*name).to_string());
                path.clear();
            }
            ["env", name, ..] => {
                owner = Owner::Env((*name).to_string());
                path.clear();
            }
            ["template", name, ..] => {
                owner = Owner::Template((*name).to_string());
                path.clear();
            }
            ["project", ..] => {
                owner = Owner::Project;
                path.clear();
            }
            ["policy", ..] => {
                owner = Owner::Policy;
                path.clear();
            }
            ["type" | "let" | "fn", ..] => {
                owner = Owner::None;
                path.clear();
            }
            _ => {
                let keys: Vec<String> = w
                    .iter()
                    .take_while(|s| **s != "=")
                    .filter(|s| **s != ".")
                    .map(|s| (*s).to_string())
                    .collect();
                let (o, keys) = override_owner(snap, &owner, path.is_empty(), keys);
                owner = o;
                path.extend(keys);
            }
        }
    }
    (owner, path)
}

fn expected(snap: &Snapshot, owner: &Owner, path: &[String]) -> Option<Ty> {
    let p = &snap.analysis.checked.program;
    let root = schema::root(p, owner)?;
    schema::at_path(&p.types, &root, path).map(|(t, _)| t)
}

#[cfg(test)]
mod tests;
