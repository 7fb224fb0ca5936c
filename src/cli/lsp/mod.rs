//! `shipc lsp`: the language server (LSP 3.17 over stdio).
//!
//! The protocol is `lsp-server` (rust-analyzer's: synchronous, crossbeam
//! channels, no async runtime) with `lsp-types`. Everything it answers comes
//! from `shipc::ide` on one [`Snapshot`] per project — the same analysis as
//! `shipc check`, with a [`ParseCache`] so an edit re-parses only the file
//! that changed. This module keeps the open documents (an overlay over the
//! file system), decides which project a file belongs to, re-analyses after
//! each batch of edits, publishes diagnostics for every file of the module,
//! and converts byte offsets to the protocol's line/UTF-16 positions.

mod convert;
mod request;

use super::args::LspArgs;
use super::fs::FsHost;
use super::render::Output;
use convert::*;
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types as lsp;
use lsp_types::notification::Notification as _;
use lsp_types::request::Request as _;
use shipc::ide::{self, complete, hover, outline, LineIndex, Snapshot};
use shipc::load::Host;
use shipc::source::{FileId, Span};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub fn run(out: &Output, _a: &LspArgs) -> u8 {
    let (conn, io) = Connection::stdio();
    let result = std::thread::scope(|scope| {
        let conn = &conn;
        shipc::spawn_in(scope, move || serve(conn)).join()
    });
    drop(conn);
    let joined = io.join();
    match (result, joined) {
        (Some(Ok(())), Ok(())) => 0,
        (Some(Err(e)), _) => {
            out.tool_error(&format!("language server: {e}"), None);
            1
        }
        (None, _) => {
            out.tool_error(
                "language server: internal error",
                Some("please report this"),
            );
            1
        }
        (_, Err(e)) => {
            out.tool_error(&format!("language server: {e}"), None);
            1
        }
    }
}

fn capabilities() -> lsp::ServerCapabilities {
    lsp::ServerCapabilities {
        text_document_sync: Some(lsp::TextDocumentSyncCapability::Options(
            lsp::TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(lsp::TextDocumentSyncKind::FULL),
                save: Some(lsp::TextDocumentSyncSaveOptions::Supported(true)),
                ..Default::default()
            },
        )),
        hover_provider: Some(lsp::HoverProviderCapability::Simple(true)),
        definition_provider: Some(lsp::OneOf::Left(true)),
        references_provider: Some(lsp::OneOf::Left(true)),
        rename_provider: Some(lsp::OneOf::Right(lsp::RenameOptions {
            prepare_provider: Some(true),
            work_done_progress_options: Default::default(),
        })),
        completion_provider: Some(lsp::CompletionOptions {
            trigger_characters: Some(vec![".".into(), "=".into(), "(".into()]),
            ..Default::default()
        }),
        document_symbol_provider: Some(lsp::OneOf::Left(true)),
        document_formatting_provider: Some(lsp::OneOf::Left(true)),
        folding_range_provider: Some(lsp::FoldingRangeProviderCapability::Simple(true)),
        semantic_tokens_provider: Some(
            lsp::SemanticTokensServerCapabilities::SemanticTokensOptions(
                lsp::SemanticTokensOptions {
                    legend: lsp::SemanticTokensLegend {
                        token_types: outline::TOKEN_TYPES
                            .iter()
                            .map(|t| lsp::SemanticTokenType::new(t))
                            .collect(),
                        token_modifiers: vec![lsp::SemanticTokenModifier::DECLARATION],
                    },
                    full: Some(lsp::SemanticTokensFullOptions::Bool(true)),
                    range: None,
                    work_done_progress_options: Default::default(),
                },
            ),
        ),
        ..Default::default()
    }
}

/// An open document.
struct Doc {
    uri: lsp::Uri,
    text: String,
}

/// One analysed module.
#[derive(Default)]
struct Project {
    cache: shipc::Cache,
    snap: Option<Snapshot>,
    /// Files diagnostics were published for (to clear them later).
    published: BTreeSet<PathBuf>,
}

struct Server<'c> {
    conn: &'c Connection,
    docs: BTreeMap<PathBuf, Doc>,
    /// Which module root a document is analysed in.
    root_of: BTreeMap<PathBuf, PathBuf>,
    projects: BTreeMap<PathBuf, Project>,
    dirty: BTreeSet<PathBuf>,
    /// Whether the client takes snippets (`$0`) in completions.
    snippets: bool,
}

fn serve(conn: &Connection) -> Result<(), String> {
    let (id, params) = conn.initialize_start().map_err(|e| e.to_string())?;
    let init: lsp::InitializeParams = serde_json::from_value(params).unwrap_or_default();
    let result = lsp::InitializeResult {
        capabilities: capabilities(),
        server_info: Some(lsp::ServerInfo {
            name: "shipc".into(),
            version: Some(env!("CARGO_PKG_VERSION").into()),
        }),
    };
    let result = serde_json::to_value(result).map_err(|e| e.to_string())?;
    conn.initialize_finish(id, result)
        .map_err(|e| e.to_string())?;
    // Files changed on disk (a checkout, another tool) re-check the
    // projects, when the client can watch for us.
    let snippets = init
        .capabilities
        .text_document
        .as_ref()
        .and_then(|t| t.completion.as_ref())
        .and_then(|c| c.completion_item.as_ref())
        .and_then(|i| i.snippet_support)
        .unwrap_or(false);
    let can_watch = init
        .capabilities
        .workspace
        .as_ref()
        .and_then(|w| w.did_change_watched_files.as_ref())
        .and_then(|d| d.dynamic_registration)
        .unwrap_or(false);
    if can_watch {
        let watchers = ["**/*.ship", "**/ship.lock"]
            .into_iter()
            .map(|g| lsp::FileSystemWatcher {
                glob_pattern: lsp::GlobPattern::String(g.into()),
                kind: None,
            })
            .collect();
        let options = lsp::DidChangeWatchedFilesRegistrationOptions { watchers };
        let registration = lsp::Registration {
            id: "shipc-watch".into(),
            method: lsp::notification::DidChangeWatchedFiles::METHOD.into(),
            register_options: serde_json::to_value(options).ok(),
        };
        let _ = conn.sender.send(Message::Request(Request::new(
            lsp_server::RequestId::from("shipc-register-watch".to_string()),
            lsp::request::RegisterCapability::METHOD.into(),
            lsp::RegistrationParams {
                registrations: vec![registration],
            },
        )));
    }
    let mut s = Server {
        conn,
        docs: BTreeMap::new(),
        root_of: BTreeMap::new(),
        projects: BTreeMap::new(),
        dirty: BTreeSet::new(),
        snippets,
    };
    while let Ok(first) = conn.receiver.recv() {
        // A batch: everything already queued, so a burst of keystrokes
        // costs one analysis.
        let mut batch = vec![first];
        while let Ok(m) = conn.receiver.try_recv() {
            batch.push(m);
        }
        for msg in batch {
            match msg {
                Message::Request(req) => {
                    if conn.handle_shutdown(&req).map_err(|e| e.to_string())? {
                        return Ok(());
                    }
                    s.refresh();
                    let resp = s.request(req);
                    s.send(Message::Response(resp));
                }
                Message::Notification(n) => {
                    if n.method == lsp::notification::Exit::METHOD {
                        return Ok(());
                    }
                    s.notification(n);
                }
                Message::Response(_) => {}
            }
        }
        s.refresh();
    }
    Ok(())
}

/// The file path of a `file:` URI.
fn uri_path(uri: &lsp::Uri) -> Option<PathBuf> {
    let url = url::Url::parse(uri.as_str()).ok()?;
    url.to_file_path().ok().map(|p| shipc::load::normalize(&p))
}

fn path_uri(path: &Path) -> Option<lsp::Uri> {
    let url = url::Url::from_file_path(path).ok()?;
    url.as_str().parse().ok()
}

/// The file system, with open documents' text in place of what is saved.
struct Overlay<'a> {
    fs: FsHost,
    docs: &'a BTreeMap<PathBuf, Doc>,
}

impl Host for Overlay<'_> {
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        match self.docs.get(&shipc::load::normalize(path)) {
            Some(d) => Ok(d.text.clone().into_bytes()),
            None => self.fs.read(path),
        }
    }

    fn list_dir(&self, path: &Path) -> std::io::Result<Vec<PathBuf>> {
        let mut out = self.fs.list_dir(path).unwrap_or_default();
        let dir = shipc::load::normalize(path);
        for p in self.docs.keys() {
            if p.parent() == Some(dir.as_path())
                && !out.iter().any(|o| shipc::load::normalize(o) == *p)
            {
                out.push(p.clone());
            }
        }
        if out.is_empty() && !self.fs.is_dir(path) {
            return self.fs.list_dir(path);
        }
        Ok(out)
    }

    fn is_dir(&self, path: &Path) -> bool {
        self.fs.is_dir(path)
    }

    fn exists(&self, path: &Path) -> bool {
        self.docs.contains_key(&shipc::load::normalize(path)) || self.fs.exists(path)
    }
}

impl Server<'_> {
    fn send(&self, m: Message) {
        let _ = self.conn.sender.send(m);
    }

    fn notification(&mut self, n: Notification) {
        use lsp::notification as N;
        match n.method.as_str() {
            N::DidOpenTextDocument::METHOD => {
                if let Ok(p) =
                    n.extract::<lsp::DidOpenTextDocumentParams>(N::DidOpenTextDocument::METHOD)
                {
                    if let Some(path) = uri_path(&p.text_document.uri) {
                        self.docs.insert(
                            path.clone(),
                            Doc {
                                uri: p.text_document.uri,
                                text: p.text_document.text,
                            },
                        );
                        let root = self
                            .root_of
                            .get(&path)
                            .cloned()
                            .unwrap_or_else(|| ide::module_root(&path));
                        self.root_of.insert(path, root.clone());
                        self.dirty.insert(root);
                    }
                }
            }
            N::DidChangeTextDocument::METHOD => {
                if let Ok(p) =
                    n.extract::<lsp::DidChangeTextDocumentParams>(N::DidChangeTextDocument::METHOD)
                {
                    let Some(path) = uri_path(&p.text_document.uri) else {
                        return;
                    };
                    if let Some(doc) = self.docs.get_mut(&path) {
                        for c in p.content_changes {
                            match c.range {
                                None => doc.text = c.text,
                                Some(r) => {
                                    let li = LineIndex::new(&doc.text);
                                    let a = li.offset(&doc.text, r.start.line, r.start.character);
                                    let b =
                                        li.offset(&doc.text, r.end.line, r.end.character).max(a);
                                    doc.text.replace_range(a..b, &c.text);
                                }
                            }
                        }
                    }
                    if let Some(root) = self.root_of.get(&path) {
                        self.dirty.insert(root.clone());
                    }
                }
            }
            N::DidSaveTextDocument::METHOD | N::DidChangeWatchedFiles::METHOD => {
                // Files on disk may have changed under every project.
                self.dirty.extend(self.projects.keys().cloned());
            }
            N::DidCloseTextDocument::METHOD => {
                if let Ok(p) =
                    n.extract::<lsp::DidCloseTextDocumentParams>(N::DidCloseTextDocument::METHOD)
                {
                    let Some(path) = uri_path(&p.text_document.uri) else {
                        return;
                    };
                    self.docs.remove(&path);
                    if let Some(root) = self.root_of.remove(&path) {
                        if self.root_of.values().any(|r| *r == root) {
                            self.dirty.insert(root);
                        } else if let Some(project) = self.projects.remove(&root) {
                            for f in project.published {
                                self.publish(&f, Vec::new());
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// Re-analyse every project with changes, and publish its diagnostics.
    fn refresh(&mut self) {
        while let Some(root) = self.dirty.pop_first() {
            self.analyse(&root);
            // A document the root module does not reach is analysed in its
            // own folder instead.
            let strays: Vec<PathBuf> = self
                .root_of
                .iter()
                .filter(|(doc, r)| **r == root && self.snapshot_for(doc).is_none())
                .map(|(doc, _)| doc.clone())
                .collect();
            for doc in strays {
                let own = doc.parent().map(Path::to_path_buf).unwrap_or_default();
                if own != root {
                    self.root_of.insert(doc, own.clone());
                    self.dirty.insert(own);
                }
            }
        }
    }

    fn analyse(&mut self, root: &Path) {
        let project = self.projects.entry(root.to_path_buf()).or_default();
        let host = Overlay {
            fs: FsHost::for_project(root),
            docs: &self.docs,
        };
        let mut diags = shipc::Diagnostics::new();
        // The previous analysis's evaluated declarations are reused; the
        // rest of it is freed after the new diagnostics are out.
        let old = project.snap.take().map(|mut s| {
            project.cache.recycle(&mut s.analysis);
            s
        });
        let analysis =
            match shipc::analyze_with(&host, root, None, &mut diags, Some(&project.cache)) {
                Ok(a) => a,
                Err(e) => {
                    let _ = self
                        .conn
                        .sender
                        .send(Message::Notification(Notification::new(
                            lsp::notification::LogMessage::METHOD.into(),
                            lsp::LogMessageParams {
                                typ: lsp::MessageType::WARNING,
                                message: format!("shipc: {}", e.message),
                            },
                        )));
                    return;
                }
            };
        if let Ok(lock) = super::compile::read_lock(&analysis.loaded.root) {
            for env in &analysis.checked.envs {
                diags.extend(shipc::lock::plan::mismatches(env, &lock));
            }
        }
        let sorted = diags.into_sorted();
        let snap = Snapshot::new(analysis, sorted, &project.cache);
        // Every user file of the module gets its list (empty clears).
        let mut by_file: BTreeMap<PathBuf, Vec<lsp::Diagnostic>> = BTreeMap::new();
        for f in snap.analysis.loaded.sources.files() {
            if !f.stdlib {
                by_file.insert(absolute(&f.path), Vec::new());
            }
        }
        for d in &snap.diagnostics {
            if let Some(ld) = to_lsp_diagnostic(&snap, d) {
                let path = absolute(snap.analysis.loaded.sources.path(d.primary.span.file));
                by_file.entry(path).or_default().push(ld);
            }
        }
        let published: BTreeSet<PathBuf> = by_file.keys().cloned().collect();
        let stale: Vec<PathBuf> = project.published.difference(&published).cloned().collect();
        project.published = published;
        project.snap = Some(snap);
        for p in stale {
            self.publish(&p, Vec::new());
        }
        for (p, ds) in by_file {
            self.publish(&p, ds);
        }
        drop(old);
    }

    fn publish(&self, path: &Path, diagnostics: Vec<lsp::Diagnostic>) {
        let Some(uri) = self
            .docs
            .get(path)
            .map(|d| d.uri.clone())
            .or_else(|| path_uri(path))
        else {
            return;
        };
        self.send(Message::Notification(Notification::new(
            lsp::notification::PublishDiagnostics::METHOD.into(),
            lsp::PublishDiagnosticsParams {
                uri,
                diagnostics,
                version: None,
            },
        )));
    }

    /// The snapshot that holds a document, and the document's file id in it.
    fn snapshot_for(&self, path: &Path) -> Option<(&Snapshot, FileId)> {
        let root = self.root_of.get(path)?;
        let snap = self.projects.get(root)?.snap.as_ref()?;
        let id = snap.file_id(path)?;
        Some((snap, id))
    }
}
