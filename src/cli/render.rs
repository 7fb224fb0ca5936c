//! Rendering diagnostics: miette for people (stderr), our own JSON for
//! editors and CI (stdout). The only place that knows about terminals.

use super::args::{ColorChoice, Global};
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan};
use shipc::{Diagnostic, Severity, SourceMap};
use std::fmt;
use std::io::{IsTerminal, Write};

/// `--color auto`: the conventions of NO_COLOR, CLICOLOR and CLICOLOR_FORCE
/// (<https://bixense.com/clicolors/>) and `TERM=dumb`, then the terminal.
fn auto_color(terminal: bool) -> bool {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if var("NO_COLOR").is_some() {
        return false;
    }
    if var("CLICOLOR_FORCE").is_some_and(|v| v != "0") {
        return true;
    }
    if var("CLICOLOR").as_deref() == Some("0") || var("TERM").as_deref() == Some("dumb") {
        return false;
    }
    terminal
}

/// Where and how to print.
pub struct Output {
    pub format: Option<String>,
    pub color: bool,
}

impl Output {
    pub fn new(g: &Global) -> Output {
        let color = match g.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => auto_color(std::io::stderr().is_terminal()),
        };
        Output {
            format: g.format.clone(),
            color,
        }
    }

    /// Whether `--format json` was asked for.
    pub fn json(&self) -> bool {
        self.format.as_deref() == Some("json")
    }

    /// Check the `--format` value against what the verb accepts.
    pub fn check_format(&self, accepted: &[&str]) -> Result<(), u8> {
        match &self.format {
            Some(f) if !accepted.contains(&f.as_str()) => {
                self.usage(&format!(
                    "`--format {f}` is not supported here; use one of: {}",
                    accepted.join(", ")
                ));
                Err(super::USAGE)
            }
            _ => Ok(()),
        }
    }

    /// A usage error (exit 3).
    pub fn usage(&self, msg: &str) {
        eprintln!("error: {msg}");
    }

    /// A tool error (I/O and the like) with an optional hint.
    pub fn tool_error(&self, msg: &str, hint: Option<&str>) {
        if self.json() {
            // The shape of every JSON result, with the error in it.
            let v = serde_json::json!({
                "version": 1, "diagnostics": [], "errors": 1, "warnings": 0,
                "error": msg, "hint": hint,
            });
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
            return;
        }
        eprintln!("error: {msg}");
        if let Some(h) = hint {
            eprintln!("  help: {h}");
        }
    }

    /// Print diagnostics (sorted already) and a summary line.
    pub fn diagnostics(&self, sources: &SourceMap, diags: &[Diagnostic]) {
        self.report(sources, diags, serde_json::Map::new());
    }

    /// As [`Output::diagnostics`]; with `--format json`, `extra` fields are
    /// added to the one JSON document (a verb's result).
    pub fn report(
        &self,
        sources: &SourceMap,
        diags: &[Diagnostic],
        extra: serde_json::Map<String, serde_json::Value>,
    ) {
        match self.format.as_deref() {
            Some("sarif") => {
                let v = super::ci_formats::sarif(sources, diags);
                println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
                return;
            }
            Some("github") => print!("{}", super::ci_formats::github(sources, diags)),
            _ => {}
        }
        if self.json() {
            let items: Vec<serde_json::Value> = diags.iter().map(|d| json(sources, d)).collect();
            let errors = diags.iter().filter(|d| d.is_error()).count();
            let mut v = serde_json::json!({
                "version": 1,
                "diagnostics": items,
                "errors": errors,
                "warnings": diags.len() - errors,
            });
            if let Some(m) = v.as_object_mut() {
                m.extend(extra);
            }
            let mut out = std::io::stdout().lock();
            let _ = writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&v).unwrap_or_default()
            );
            return;
        }
        let mut err = std::io::stderr().lock();
        for d in diags {
            let _ = write!(err, "{}", human(sources, d, self.color));
        }
        let errors = diags.iter().filter(|d| d.is_error()).count();
        let warnings = diags.len() - errors;
        if errors > 0 || warnings > 0 {
            let _ = writeln!(err, "{}", summary(errors, warnings));
        }
    }
}

/// `2 errors, 1 warning`.
pub fn summary(errors: usize, warnings: usize) -> String {
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    format!(
        "{}, {}",
        plural(errors, "error"),
        plural(warnings, "warning")
    )
}

struct Report {
    d: Diagnostic,
    src: Option<super::excerpt::Excerpt>,
    labels: Vec<LabeledSpan>,
}

impl fmt::Debug for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.d.message)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.d.message)
    }
}

impl std::error::Error for Report {}

impl miette::Diagnostic for Report {
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.d.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.d
            .help
            .as_ref()
            .map(|h| Box::new(h.as_str()) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.src.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.clone().into_iter()))
    }
}

/// Render one diagnostic for a person.
pub fn human(sources: &SourceMap, d: &Diagnostic, color: bool) -> String {
    let file = d.primary.span.file;
    let path = sources.path(file).display().to_string();
    let mut notes = d.notes.clone();
    let mut marks = vec![super::excerpt::Mark {
        start: d.primary.span.start as usize,
        end: d.primary.span.end as usize,
        message: non_empty(&d.primary.message),
        primary: true,
    }];
    for l in &d.secondary {
        if l.span.file == file {
            marks.push(super::excerpt::Mark {
                start: l.span.start as usize,
                end: l.span.end as usize,
                message: non_empty(&l.message),
                primary: false,
            });
        } else if let Some(f) = sources.get(l.span.file) {
            let (line, col) = f.line_col(l.span.start as usize);
            notes.push(format!("{}: {}:{line}:{col}", l.message, f.path.display()));
        }
    }
    let (src, labels) = match sources.get(file) {
        Some(f) => {
            let (excerpt, labels, far) = super::excerpt::build(path.clone(), f, marks);
            for (message, line, col) in far {
                notes.push(format!("{message}: {path}:{line}:{col}"));
            }
            let labels = labels
                .into_iter()
                .map(|(m, span, primary)| {
                    if primary {
                        LabeledSpan::new_primary_with_span(m, span)
                    } else {
                        LabeledSpan::new_with_span(m, span)
                    }
                })
                .collect();
            (Some(excerpt), labels)
        }
        None => (None, Vec::new()),
    };
    let report = Report {
        d: d.clone(),
        src,
        labels,
    };
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false);
    let mut drawn = String::new();
    let _ = handler.render_report(&mut drawn, &report);
    // miette's header (`× message`, wrapped) is replaced by one line in the
    // form CI logs are grepped for: `error[E2001]: message`.
    let body: Vec<&str> = drawn
        .lines()
        .skip_while(|l| !l.contains('╭') && !l.trim_start().starts_with("help:"))
        .collect();
    let (word, paint) = match d.severity {
        Severity::Error => ("error", "\x1b[1;31m"),
        Severity::Warning => ("warning", "\x1b[1;33m"),
    };
    let mut out = if color {
        format!(
            "{paint}{word}[{}]\x1b[0m\x1b[1m: {}\x1b[0m\n",
            d.code.id(),
            d.message
        )
    } else {
        format!("{word}[{}]: {}\n", d.code.id(), d.message)
    };
    for l in body {
        out.push_str(l);
        out.push('\n');
    }
    for n in notes {
        out.push_str(&format!("  note: {n}\n"));
    }
    out.push('\n');
    out
}

fn non_empty(s: &str) -> Option<String> {
    if s.is_empty() {
        None
    } else {
        Some(s.to_string())
    }
}

fn position(sources: &SourceMap, s: shipc::Span) -> serde_json::Value {
    let f = sources.get(s.file);
    let (line, column) = f.map(|f| f.line_col(s.start as usize)).unwrap_or((0, 0));
    let (end_line, end_column) = f.map(|f| f.line_col(s.end as usize)).unwrap_or((0, 0));
    serde_json::json!({
        "file": sources.path(s.file).display().to_string(),
        "line": line, "column": column, "end_line": end_line, "end_column": end_column,
    })
}

/// One diagnostic as JSON (file, line, column, code, message, help, labels).
pub fn json(sources: &SourceMap, d: &Diagnostic) -> serde_json::Value {
    let mut v = position(sources, d.primary.span);
    if let Some(m) = v.as_object_mut() {
        m.insert("code".into(), d.code.id().into());
        m.insert("name".into(), d.code.name().into());
        m.insert(
            "severity".into(),
            serde_json::to_value(d.severity).unwrap_or_default(),
        );
        m.insert("message".into(), d.message.clone().into());
        m.insert("label".into(), d.primary.message.clone().into());
        m.insert("help".into(), d.help.clone().into());
        m.insert("notes".into(), d.notes.clone().into());
        let labels: Vec<serde_json::Value> = d
            .secondary
            .iter()
            .map(|l| {
                let mut p = position(sources, l.span);
                if let Some(o) = p.as_object_mut() {
                    o.insert("message".into(), l.message.clone().into());
                }
                p
            })
            .collect();
        m.insert("labels".into(), labels.into());
    }
    v
}
