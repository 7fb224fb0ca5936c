//! What an editor asks about a project, answered from one analysis — the
//! same front end as `shipc check`, not a second implementation.
//!
//! A [`Snapshot`] is an [`Analysis`] plus the syntax tree of every user file
//! and an [`index::Index`] of names. The answers (hover, definition,
//! references, rename, completion, outline, folding) are pure functions of a
//! snapshot and a byte offset; `cli/lsp.rs` speaks the protocol, keeps the
//! open documents, and turns offsets into line/UTF-16 positions
//! ([`LineIndex`]).
//!
//! Half-typed code: a file that does not parse is left out of the analysis
//! (the loader marks the program incomplete, so its names do not cascade
//! into errors elsewhere), every other file keeps its diagnostics, hovers
//! and definitions, and completion and folding work from tokens
//! ([`lex`]), never from a syntax tree.

pub mod complete;
pub mod hover;
pub mod index;
pub mod lex;
pub mod locate;
pub mod outline;
pub mod schema;

use crate::diag::Diagnostic;
use crate::model::DeclRef;
use crate::source::{FileId, Span};
use crate::syntax::ast::{self, DeclKind};
use crate::Analysis;
use index::{Index, Symbol};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// One analysis of a project, with what the editor features need.
#[derive(Debug)]
pub struct Snapshot {
    /// The analysis (`shipc check`'s).
    pub analysis: Analysis,
    /// Its diagnostics, sorted.
    pub diagnostics: Vec<Diagnostic>,
    /// The syntax tree of each user file that parsed.
    pub asts: BTreeMap<FileId, Arc<ast::File>>,
    /// Names.
    pub index: Index,
}

impl Snapshot {
    /// Build a snapshot from an analysis made with `cache`.
    pub fn new(analysis: Analysis, diagnostics: Vec<Diagnostic>, cache: &crate::Cache) -> Snapshot {
        let cache = &cache.parses;
        let mut asts = BTreeMap::new();
        let mut paths = BTreeMap::new();
        for f in analysis.loaded.sources.files() {
            if f.stdlib {
                continue;
            }
            paths.insert(f.id, f.path.clone());
            if let Some(ast) = cache.ast(f.id, &f.text) {
                asts.insert(f.id, ast);
            }
        }
        let mut edges: BTreeMap<Span, DeclRef> = BTreeMap::new();
        for env in &analysis.checked.envs {
            for e in &env.edges {
                edges.entry(e.span).or_insert_with(|| e.to.clone());
            }
        }
        let index = Index::build(&asts, &paths, &analysis.checked.program, &edges);
        Snapshot {
            analysis,
            diagnostics,
            asts,
            index,
        }
    }

    /// The id of a user file by path.
    pub fn file_id(&self, path: &std::path::Path) -> Option<FileId> {
        self.analysis
            .loaded
            .sources
            .files()
            .iter()
            .find(|f| !f.stdlib && f.path == path)
            .map(|f| f.id)
    }

    /// The text of a file.
    pub fn text(&self, file: FileId) -> &str {
        self.analysis
            .loaded
            .sources
            .get(file)
            .map_or("", |f| f.text.as_str())
    }

    /// Whether a first key of an env body is one of the env's own fields.
    pub fn is_env_field(&self, name: &str) -> bool {
        let p = &self.analysis.checked.program;
        p.types
            .record(&p.schema(DeclKind::Env))
            .is_some_and(|r| r.fields.contains_key(name))
    }

    /// The kind of a declaration named `name` (service, then infra, image).
    pub fn decl_kind(&self, name: &str) -> Option<DeclKind> {
        let p = &self.analysis.checked.program;
        [
            DeclKind::Service,
            DeclKind::Infra,
            DeclKind::Image,
            DeclKind::Env,
        ]
        .into_iter()
        .find(|k| p.decl(*k, name).is_some())
    }

    /// Where the place under `offset` is in its file's syntax tree.
    pub fn place(&self, file: FileId, offset: usize) -> Option<locate::Place<'_>> {
        let ast = self.asts.get(&file)?;
        locate::locate(ast, offset, &|n| self.is_env_field(n), &|n| {
            self.decl_kind(n)
        })
    }

    /// Go to definition: the definition's name span, or for an import the
    /// first file of the imported module.
    pub fn definition(&self, file: FileId, offset: usize) -> Option<Span> {
        if let Some(target) = self.index.import_at(file, offset) {
            let f = self
                .analysis
                .loaded
                .sources
                .files()
                .iter()
                .filter(|f| !f.stdlib)
                .find(|f| f.path == *target || f.path.starts_with(target))?;
            return Some(Span::new(f.id, 0, 0));
        }
        let occ = self.index.at(file, offset)?;
        self.index.defs.get(&occ.symbol).map(|d| d.name)
    }

    /// Find references: every occurrence of the symbol under `offset`.
    pub fn references(&self, file: FileId, offset: usize, include_def: bool) -> Vec<Span> {
        let Some(occ) = self.index.at(file, offset) else {
            return Vec::new();
        };
        self.index
            .occurrences_of(&occ.symbol)
            .into_iter()
            .filter(|o| include_def || !o.def)
            .map(|o| o.span)
            .collect()
    }

    /// The symbol under `offset` that can be renamed, with the span of the
    /// name there.
    pub fn prepare_rename(&self, file: FileId, offset: usize) -> Option<(Span, &Symbol)> {
        let occ = self.index.at(file, offset)?;
        Some((occ.span, &occ.symbol))
    }

    /// Rename the symbol under `offset` everywhere in the module.
    pub fn rename(&self, file: FileId, offset: usize, new_name: &str) -> Result<Vec<Span>, String> {
        let Some(occ) = self.index.at(file, offset) else {
            return Err("there is no declaration, let, type, template or port here".into());
        };
        if !is_identifier(new_name) {
            return Err(format!(
                "`{new_name}` is not a Ship identifier (a letter or `_`, then letters, digits or `_`)"
            ));
        }
        if KEYWORDS.contains(&new_name) {
            return Err(format!("`{new_name}` is a keyword"));
        }
        let clash = match &occ.symbol {
            Symbol::Decl(k, _) => Symbol::Decl(*k, new_name.into()),
            Symbol::Let(_) => Symbol::Let(new_name.into()),
            Symbol::Type(_) => Symbol::Type(new_name.into()),
            Symbol::Template(_) => Symbol::Template(new_name.into()),
            Symbol::Param(t, _) => Symbol::Param(t.clone(), new_name.into()),
            Symbol::Port(k, o, _) => Symbol::Port(*k, o.clone(), new_name.into()),
        };
        if new_name != occ.symbol.name() && self.index.defs.contains_key(&clash) {
            return Err(format!("{} already exists", clash.describe()));
        }
        let p = &self.analysis.checked.program;
        if matches!(occ.symbol, Symbol::Let(_) | Symbol::Decl(..))
            && new_name != occ.symbol.name()
            && (p.lets.contains_key(new_name)
                || p.decls.values().any(|m| m.contains_key(new_name))
                    && matches!(occ.symbol, Symbol::Let(_)))
        {
            return Err(format!("`{new_name}` is already a name in this module"));
        }
        // A service without `image = …` runs the image of its own name:
        // renaming one of the two would silently change what it runs.
        if let Symbol::Decl(k @ (DeclKind::Service | DeclKind::Image), name) = &occ.symbol {
            let implicit = p.decl(DeclKind::Image, name).is_some()
                && p.decl(DeclKind::Service, name).is_some_and(|d| {
                    !d.body
                        .entries
                        .iter()
                        .any(|e| e.path.first().is_some_and(|k| k.name == "image"))
                        && d.templates().next().is_none()
                });
            if implicit && new_name != name {
                let other = if *k == DeclKind::Service {
                    "image"
                } else {
                    "service"
                };
                return Err(format!(
                    "service `{name}` runs image `{name}` because the names match; set `image = {name}` in the service first (or rename the {other} too)"
                ));
            }
        }
        Ok(self
            .index
            .occurrences_of(&occ.symbol)
            .into_iter()
            .map(|o| o.span)
            .collect())
    }
}

/// Ship's keywords (not usable as names).
pub const KEYWORDS: &[&str] = &[
    "import", "let", "type", "template", "fn", "image", "service", "infra", "env", "policy",
    "project", "from", "if", "then", "else", "true", "false", "self", "std",
];

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Byte offsets ↔ (line, UTF-16 column), the positions of the protocol.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    /// Index a text's line starts.
    pub fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    /// (line, UTF-16 column) of a byte offset, both 0-based.
    pub fn position(&self, text: &str, offset: usize) -> (u32, u32) {
        let offset = offset.min(text.len());
        let line = match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let start = self.starts.get(line).copied().unwrap_or(0);
        let col: usize = text
            .get(start..offset)
            .map(|s| s.chars().map(char::len_utf16).sum())
            .unwrap_or(0);
        (
            u32::try_from(line).unwrap_or(u32::MAX),
            u32::try_from(col).unwrap_or(u32::MAX),
        )
    }

    /// The byte offset of a (line, UTF-16 column); past the end of a line
    /// means its end, past the last line the end of the text.
    pub fn offset(&self, text: &str, line: u32, col: u32) -> usize {
        let Some(&start) = self.starts.get(line as usize) else {
            return text.len();
        };
        let end = self
            .starts
            .get(line as usize + 1)
            .map_or(text.len(), |n| n.saturating_sub(1));
        let mut units = 0u32;
        for (i, c) in text.get(start..end).unwrap_or("").char_indices() {
            if units >= col {
                return start + i;
            }
            units += u32::try_from(c.len_utf16()).unwrap_or(1);
        }
        end
    }
}

/// The module root to analyse for a file: the nearest `ship` folder above
/// it (a project's root module, which imports the folders below it), else
/// the file's own folder. The server falls back to the file's folder when
/// the root module does not reach the file.
pub fn module_root(file: &std::path::Path) -> PathBuf {
    let dir = file
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default();
    dir.ancestors()
        .find(|a| a.file_name().is_some_and(|n| n == "ship"))
        .map_or(dir.clone(), std::path::Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_index_counts_utf16() {
        let text = "a = \"é😀\"\nb";
        let li = LineIndex::new(text);
        let end = text.find('\n').unwrap_or(0);
        assert_eq!(li.position(text, end), (0, 9));
        assert_eq!(li.offset(text, 0, 9), end);
        assert_eq!(li.offset(text, 1, 0), end + 1);
        assert_eq!(li.offset(text, 9, 0), text.len());
    }

    #[test]
    fn module_root_is_the_outermost_ship_folder() {
        assert_eq!(
            module_root(std::path::Path::new("/p/ship/common/a.ship")),
            PathBuf::from("/p/ship")
        );
        assert_eq!(
            module_root(std::path::Path::new("/ship/p/ship/a.ship")),
            PathBuf::from("/ship/p/ship")
        );
        assert_eq!(
            module_root(std::path::Path::new("/p/x/a.ship")),
            PathBuf::from("/p/x")
        );
    }
}
