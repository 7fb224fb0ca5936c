//! Between the protocol's types and shipc's: paths and URIs, offsets and
//! positions, diagnostics, completion items, symbols.

use super::*;

pub(super) fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        shipc::load::normalize(p)
    } else {
        std::env::current_dir()
            .map(|d| shipc::load::normalize(&d.join(p)))
            .unwrap_or_else(|_| p.to_path_buf())
    }
}

pub(super) fn range(snap: &Snapshot, span: Span) -> Option<lsp::Range> {
    let text = snap.analysis.loaded.sources.get(span.file)?.text.as_str();
    let li = LineIndex::new(text);
    let (a, b) = (
        li.position(text, span.start as usize),
        li.position(text, span.end as usize),
    );
    Some(lsp::Range::new(
        lsp::Position::new(a.0, a.1),
        lsp::Position::new(b.0, b.1),
    ))
}

pub(super) fn location(snap: &Snapshot, span: Span) -> Option<lsp::Location> {
    let file = snap.analysis.loaded.sources.get(span.file)?;
    if file.stdlib {
        return None;
    }
    Some(lsp::Location::new(
        path_uri(&absolute(&file.path))?,
        range(snap, span)?,
    ))
}

pub(super) fn to_lsp_diagnostic(snap: &Snapshot, d: &shipc::Diagnostic) -> Option<lsp::Diagnostic> {
    let file = snap.analysis.loaded.sources.get(d.primary.span.file)?;
    if file.stdlib {
        return None;
    }
    let mut message = d.message.clone();
    if !d.primary.message.is_empty() {
        message.push_str(&format!(" ({})", d.primary.message));
    }
    for n in &d.notes {
        message.push_str("\nnote: ");
        message.push_str(n);
    }
    if let Some(h) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(h);
    }
    let related: Vec<lsp::DiagnosticRelatedInformation> = d
        .secondary
        .iter()
        .filter_map(|l| {
            Some(lsp::DiagnosticRelatedInformation {
                location: location(snap, l.span)?,
                message: if l.message.is_empty() {
                    "here".into()
                } else {
                    l.message.clone()
                },
            })
        })
        .collect();
    Some(lsp::Diagnostic {
        range: range(snap, d.primary.span)?,
        severity: Some(match d.severity {
            shipc::Severity::Error => lsp::DiagnosticSeverity::ERROR,
            shipc::Severity::Warning => lsp::DiagnosticSeverity::WARNING,
        }),
        code: Some(lsp::NumberOrString::String(d.code.id().into())),
        source: Some("shipc".into()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        ..Default::default()
    })
}

/// A completion for the protocol; without the client's snippet support,
/// the label alone is inserted.
pub(super) fn completion_item(mut i: complete::Item, snippets: bool) -> lsp::CompletionItem {
    if !snippets {
        i.snippet = None;
    }
    use complete::ItemKind as K;
    let kind = match i.kind {
        K::Field => lsp::CompletionItemKind::FIELD,
        K::Keyword => lsp::CompletionItemKind::KEYWORD,
        K::Decl => lsp::CompletionItemKind::CLASS,
        K::Let => lsp::CompletionItemKind::CONSTANT,
        K::Function => lsp::CompletionItemKind::FUNCTION,
        K::EnumMember => lsp::CompletionItemKind::ENUM_MEMBER,
        K::Port => lsp::CompletionItemKind::PROPERTY,
        K::Env => lsp::CompletionItemKind::VALUE,
        K::Module => lsp::CompletionItemKind::MODULE,
        K::Property => lsp::CompletionItemKind::PROPERTY,
        K::Template => lsp::CompletionItemKind::INTERFACE,
    };
    let snippet = i.snippet.is_some();
    lsp::CompletionItem {
        label: i.label,
        kind: Some(kind),
        detail: i.detail,
        documentation: i.doc.map(|d| {
            lsp::Documentation::MarkupContent(lsp::MarkupContent {
                kind: lsp::MarkupKind::Markdown,
                value: d,
            })
        }),
        insert_text: i.snippet,
        insert_text_format: snippet.then_some(lsp::InsertTextFormat::SNIPPET),
        ..Default::default()
    }
}

pub(super) fn document_symbol(
    snap: &Snapshot,
    i: &outline::OutlineItem,
) -> Option<lsp::DocumentSymbol> {
    use outline::SymbolKind as S;
    let kind = match i.kind {
        S::Service => lsp::SymbolKind::CLASS,
        S::Image => lsp::SymbolKind::PACKAGE,
        S::Infra => lsp::SymbolKind::STRUCT,
        S::Env => lsp::SymbolKind::NAMESPACE,
        S::Config => lsp::SymbolKind::FILE,
        S::Object => lsp::SymbolKind::OBJECT,
        S::Let => lsp::SymbolKind::CONSTANT,
        S::Type => lsp::SymbolKind::TYPE_PARAMETER,
        S::Template => lsp::SymbolKind::INTERFACE,
        S::Function => lsp::SymbolKind::FUNCTION,
        S::Block => lsp::SymbolKind::OBJECT,
        S::Import => lsp::SymbolKind::MODULE,
        S::Field => lsp::SymbolKind::FIELD,
        S::Port => lsp::SymbolKind::PROPERTY,
    };
    let children: Vec<lsp::DocumentSymbol> = i
        .children
        .iter()
        .filter_map(|c| document_symbol(snap, c))
        .collect();
    #[allow(deprecated)]
    Some(lsp::DocumentSymbol {
        name: i.name.clone(),
        detail: (!i.detail.is_empty()).then(|| i.detail.clone()),
        kind,
        tags: None,
        deprecated: None,
        range: range(snap, i.span)?,
        selection_range: range(snap, i.name_span)?,
        children: (!children.is_empty()).then_some(children),
    })
}
