//! Requests: hover, definition, references, rename, completion, symbols,
//! folding, semantic tokens — each answered from a snapshot by `shipc::ide`.

use super::*;

impl Server<'_> {
    pub(super) fn request(&mut self, req: Request) -> Response {
        use lsp::request as R;
        let id = req.id.clone();
        let result: Result<serde_json::Value, (ErrorCode, String)> = match req.method.as_str() {
            R::HoverRequest::METHOD => self.with::<R::HoverRequest>(req, |s, p| {
                let tdp = p.text_document_position_params;
                s.at(&tdp, |snap, file, offset, _| {
                    hover::hover(snap, file, offset).map(|h| lsp::Hover {
                        contents: lsp::HoverContents::Markup(lsp::MarkupContent {
                            kind: lsp::MarkupKind::Markdown,
                            value: h.markdown,
                        }),
                        range: range(snap, h.span),
                    })
                })
            }),
            R::GotoDefinition::METHOD => self.with::<R::GotoDefinition>(req, |s, p| {
                s.at(&p.text_document_position_params, |snap, file, offset, _| {
                    let span = snap.definition(file, offset)?;
                    location(snap, span).map(lsp::GotoDefinitionResponse::Scalar)
                })
            }),
            R::References::METHOD => self.with::<R::References>(req, |s, p| {
                let include = p.context.include_declaration;
                s.at(&p.text_document_position, |snap, file, offset, _| {
                    let spans = snap.references(file, offset, include);
                    Some(
                        spans
                            .into_iter()
                            .filter_map(|sp| location(snap, sp))
                            .collect::<Vec<_>>(),
                    )
                })
            }),
            R::PrepareRenameRequest::METHOD => self.with::<R::PrepareRenameRequest>(req, |s, p| {
                s.at(&p, |snap, file, offset, _| {
                    let (span, _) = snap.prepare_rename(file, offset)?;
                    range(snap, span).map(lsp::PrepareRenameResponse::Range)
                })
            }),
            R::Rename::METHOD => {
                let parsed = req.extract::<lsp::RenameParams>(R::Rename::METHOD);
                match parsed {
                    Ok((_, p)) => self.rename(p),
                    Err(e) => Err((ErrorCode::InvalidParams, format!("{e:?}"))),
                }
            }
            R::Completion::METHOD => self.with::<R::Completion>(req, |s, p| {
                s.at(&p.text_document_position, |snap, _, offset, text| {
                    let items = complete::complete(snap, text, offset);
                    Some(lsp::CompletionResponse::Array(
                        items
                            .into_iter()
                            .map(|i| completion_item(i, s.snippets))
                            .collect(),
                    ))
                })
            }),
            R::DocumentSymbolRequest::METHOD => {
                self.with::<R::DocumentSymbolRequest>(req, |s, p| {
                    let path = uri_path(&p.text_document.uri)?;
                    let (snap, file) = s.snapshot_for(&path)?;
                    let ast = snap.asts.get(&file)?;
                    let items = outline::outline(ast);
                    Some(lsp::DocumentSymbolResponse::Nested(
                        items
                            .iter()
                            .filter_map(|i| document_symbol(snap, i))
                            .collect(),
                    ))
                })
            }
            R::Formatting::METHOD => self.with::<R::Formatting>(req, |s, p| {
                let path = uri_path(&p.text_document.uri)?;
                let doc = s.docs.get(&path)?;
                let mut sources = shipc::SourceMap::new();
                let id = sources.add(path.clone(), doc.text.clone(), false);
                let file = sources.get(id)?;
                let formatted = shipc::fmt::format_file(file).ok()?;
                if formatted == doc.text {
                    return Some(Vec::new());
                }
                let li = LineIndex::new(&doc.text);
                let (line, character) = li.position(&doc.text, doc.text.len());
                Some(vec![lsp::TextEdit {
                    range: lsp::Range::new(
                        lsp::Position::new(0, 0),
                        lsp::Position::new(line, character),
                    ),
                    new_text: formatted,
                }])
            }),
            R::FoldingRangeRequest::METHOD => self.with::<R::FoldingRangeRequest>(req, |s, p| {
                let path = uri_path(&p.text_document.uri)?;
                let doc = s.docs.get(&path)?;
                let li = LineIndex::new(&doc.text);
                let folds = outline::folds(&doc.text)
                    .into_iter()
                    .filter_map(|f| {
                        let (start, _) = li.position(&doc.text, f.start);
                        let (mut end, _) = li.position(&doc.text, f.end);
                        if !f.comment {
                            // Keep the closing bracket's line visible.
                            end = end.saturating_sub(1);
                        }
                        (end > start).then_some(lsp::FoldingRange {
                            start_line: start,
                            end_line: end,
                            kind: Some(if f.comment {
                                lsp::FoldingRangeKind::Comment
                            } else {
                                lsp::FoldingRangeKind::Region
                            }),
                            ..Default::default()
                        })
                    })
                    .collect::<Vec<_>>();
                Some(folds)
            }),
            R::SemanticTokensFullRequest::METHOD => {
                self.with::<R::SemanticTokensFullRequest>(req, |s, p| {
                    let path = uri_path(&p.text_document.uri)?;
                    let (snap, file) = s.snapshot_for(&path)?;
                    let text = snap.text(file);
                    let li = LineIndex::new(text);
                    let mut data = Vec::new();
                    let (mut prev_line, mut prev_col) = (0u32, 0u32);
                    for (span, ty, def) in outline::semantic_tokens(&snap.index, file) {
                        let (line, col) = li.position(text, span.start as usize);
                        let (end_line, end_col) = li.position(text, span.end as usize);
                        if end_line != line {
                            continue;
                        }
                        let delta_start = if line == prev_line {
                            col - prev_col
                        } else {
                            col
                        };
                        data.push(lsp::SemanticToken {
                            delta_line: line - prev_line,
                            delta_start,
                            length: end_col - col,
                            token_type: ty,
                            token_modifiers_bitset: u32::from(def),
                        });
                        (prev_line, prev_col) = (line, col);
                    }
                    Some(lsp::SemanticTokensResult::Tokens(lsp::SemanticTokens {
                        result_id: None,
                        data,
                    }))
                })
            }
            _ => Err((
                ErrorCode::MethodNotFound,
                format!("unsupported request `{}`", req.method),
            )),
        };
        match result {
            Ok(v) => Response::new_ok(id, v),
            Err((code, msg)) => Response::new_err(id, code as i32, msg),
        }
    }

    /// Decode a request's parameters, answer, and encode the answer (`None`
    /// is `null`).
    fn with<R>(
        &self,
        req: Request,
        f: impl FnOnce(&Self, R::Params) -> R::Result,
    ) -> Result<serde_json::Value, (ErrorCode, String)>
    where
        R: lsp::request::Request,
        R::Result: serde::Serialize,
    {
        let (_, params) = req
            .extract::<R::Params>(R::METHOD)
            .map_err(|e| (ErrorCode::InvalidParams, format!("{e:?}")))?;
        serde_json::to_value(f(self, params)).map_err(|e| (ErrorCode::InternalError, e.to_string()))
    }

    /// Run `f` at a document position: the snapshot, the file id, the byte
    /// offset and the document's current text.
    fn at<T>(
        &self,
        p: &lsp::TextDocumentPositionParams,
        f: impl FnOnce(&Snapshot, FileId, usize, &str) -> Option<T>,
    ) -> Option<T> {
        let path = uri_path(&p.text_document.uri)?;
        let doc = self.docs.get(&path);
        let (snap, file) = self.snapshot_for(&path)?;
        let text = doc.map_or_else(|| snap.text(file), |d| d.text.as_str());
        let offset = LineIndex::new(text).offset(text, p.position.line, p.position.character);
        f(snap, file, offset, text)
    }

    fn rename(&self, p: lsp::RenameParams) -> Result<serde_json::Value, (ErrorCode, String)> {
        let tdp = &p.text_document_position;
        let edits = self.at(tdp, |snap, file, offset, _| {
            Some(snap.rename(file, offset, &p.new_name).map(|spans| {
                let mut by_file: BTreeMap<FileId, Vec<lsp::TextEdit>> = BTreeMap::new();
                for sp in spans {
                    if let Some(r) = range(snap, sp) {
                        by_file.entry(sp.file).or_default().push(lsp::TextEdit {
                            range: r,
                            new_text: p.new_name.clone(),
                        });
                    }
                }
                let changes: Vec<lsp::TextDocumentEdit> = by_file
                    .into_iter()
                    .filter_map(|(f, edits)| {
                        let uri = path_uri(&absolute(snap.analysis.loaded.sources.path(f)))?;
                        Some(lsp::TextDocumentEdit {
                            text_document: lsp::OptionalVersionedTextDocumentIdentifier {
                                uri,
                                version: None,
                            },
                            edits: edits.into_iter().map(lsp::OneOf::Left).collect(),
                        })
                    })
                    .collect();
                lsp::WorkspaceEdit {
                    document_changes: Some(lsp::DocumentChanges::Edits(changes)),
                    ..Default::default()
                }
            }))
        });
        match edits {
            None => Err((ErrorCode::RequestFailed, "nothing to rename here".into())),
            Some(Err(msg)) => Err((ErrorCode::RequestFailed, msg)),
            Some(Ok(edit)) => {
                serde_json::to_value(edit).map_err(|e| (ErrorCode::InternalError, e.to_string()))
            }
        }
    }
}
