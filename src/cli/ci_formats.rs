//! Diagnostics for CI systems: SARIF 2.1.0 (`--format sarif`, code scanning
//! uploads) and GitHub Actions workflow commands (`--format github`, inline
//! annotations on a pull request).

use shipc::{Diagnostic, Severity, SourceMap};

struct Place {
    file: String,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
}

fn place(sources: &SourceMap, s: shipc::Span) -> Place {
    let f = sources.get(s.file);
    let (line, column) = f.map_or((1, 1), |f| f.line_col(s.start as usize));
    let (end_line, end_column) = f.map_or((line, column), |f| f.line_col(s.end as usize));
    Place {
        file: sources
            .path(s.file)
            .display()
            .to_string()
            .replace('\\', "/"),
        line: line.max(1),
        column: column.max(1),
        end_line: end_line.max(line.max(1)),
        end_column: end_column.max(1),
    }
}

fn text(d: &Diagnostic) -> String {
    match &d.help {
        Some(h) => format!("{} (help: {h})", d.message),
        None => d.message.clone(),
    }
}

/// A SARIF 2.1.0 log of one run.
pub fn sarif(sources: &SourceMap, diags: &[Diagnostic]) -> serde_json::Value {
    let mut codes: Vec<shipc::Code> = diags.iter().map(|d| d.code).collect();
    codes.sort();
    codes.dedup();
    let rules: Vec<serde_json::Value> = codes
        .iter()
        .map(|c| {
            let title = c
                .explanation()
                .lines()
                .next()
                .and_then(|l| l.split_once(": "))
                .map_or(c.name(), |(_, t)| t);
            serde_json::json!({
                "id": c.id(),
                "name": c.name(),
                "shortDescription": {"text": title},
                "help": {"text": c.explanation(), "markdown": c.explanation()},
                "defaultConfiguration": {"level": level(c.default_severity())},
            })
        })
        .collect();
    let region = |p: &Place| {
        serde_json::json!({
            "startLine": p.line, "startColumn": p.column,
            "endLine": p.end_line, "endColumn": p.end_column,
        })
    };
    let results: Vec<serde_json::Value> = diags
        .iter()
        .map(|d| {
            let p = place(sources, d.primary.span);
            let related: Vec<serde_json::Value> = d
                .secondary
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    let q = place(sources, l.span);
                    serde_json::json!({
                        "id": i,
                        "message": {"text": l.message},
                        "physicalLocation": {"artifactLocation": {"uri": q.file}, "region": region(&q)},
                    })
                })
                .collect();
            let mut r = serde_json::json!({
                "ruleId": d.code.id(),
                "ruleIndex": codes.iter().position(|c| *c == d.code).unwrap_or(0),
                "level": level(d.severity),
                "message": {"text": text(d)},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": p.file}, "region": region(&p)}}],
            });
            if !related.is_empty() {
                if let Some(m) = r.as_object_mut() {
                    m.insert("relatedLocations".into(), related.into());
                }
            }
            r
        })
        .collect();
    serde_json::json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "shipc",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }],
    })
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// GitHub Actions workflow commands, one line per diagnostic.
pub fn github(sources: &SourceMap, diags: &[Diagnostic]) -> String {
    // Workflow command escaping: data escapes `%`, CR, LF; properties also `:` and `,`.
    let data = |s: &str| {
        s.replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    };
    let prop = |s: &str| data(s).replace(':', "%3A").replace(',', "%2C");
    let mut out = String::new();
    for d in diags {
        let p = place(sources, d.primary.span);
        let kind = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        out.push_str(&format!(
            "::{kind} file={},line={},col={},endLine={},endColumn={},title={}::{}\n",
            prop(&p.file),
            p.line,
            p.column,
            p.end_line,
            p.end_column,
            prop(&format!("{} {}", d.code.id(), d.code.name())),
            data(&text(d))
        ));
    }
    out
}
