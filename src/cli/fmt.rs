//! `shipc fmt [--check] [--stdin] [PATH…]`: the canonical layout
//! (`shipc::fmt`). A file with a syntax error is reported and left as it
//! is; a formatted file is written through a temporary file and a rename.

use super::args::FmtArgs;
use super::render::Output;
use shipc::source::SourceMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Every `.ship` file under `dir` (hidden folders, `target` and
/// `node_modules` skipped), sorted.
fn ship_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let p = e.path();
        let name = e.file_name().to_string_lossy().to_string();
        let ty = e.file_type()?;
        if ty.is_dir() {
            if !name.starts_with('.') && name != "target" && name != "node_modules" {
                ship_files(&p, out)?;
            }
        } else if ty.is_file() && name.ends_with(".ship") {
            out.push(p);
        }
    }
    Ok(())
}

pub fn run(out: &Output, a: &FmtArgs) -> u8 {
    if let Err(code) = out.check_format(&["human", "json"]) {
        return code;
    }
    if a.stdin {
        return stdin(out);
    }
    let roots: Vec<PathBuf> = if a.paths.is_empty() {
        vec![super::fs::project_path(None)]
    } else {
        a.paths.clone()
    };
    let mut files = Vec::new();
    for r in &roots {
        if r.is_dir() {
            if let Err(e) = ship_files(r, &mut files) {
                out.tool_error(&format!("cannot read `{}`: {e}", r.display()), None);
                return 1;
            }
        } else if r.is_file() {
            files.push(r.clone());
        } else {
            out.tool_error(&format!("`{}` does not exist", r.display()), None);
            return 1;
        }
    }
    files.sort();
    files.dedup();
    let mut sources = SourceMap::new();
    let mut diags = Vec::new();
    let mut changed = Vec::new();
    let mut failed = false;
    let mut read = Vec::new();
    for path in &files {
        match super::fs::read_regular(path, None, super::fs::MAX_SOURCE).and_then(|b| {
            String::from_utf8(b).map_err(|_| std::io::Error::other("it is not valid UTF-8"))
        }) {
            Ok(t) => read.push((path.clone(), sources.add(path.clone(), t, false))),
            Err(e) => {
                out.tool_error(&format!("cannot read `{}`: {e}", path.display()), None);
                failed = true;
            }
        }
    }
    let parsed: Vec<&shipc::source::SourceFile> =
        read.iter().filter_map(|(_, id)| sources.get(*id)).collect();
    let results = shipc::fmt::format_files(&parsed);
    for (file, result) in parsed.iter().zip(results) {
        match result {
            Ok(formatted) if formatted == file.text => {}
            Ok(formatted) => {
                changed.push(file.path.clone());
                if !a.check {
                    if let Err(e) = super::lock::write_atomically(&file.path, &formatted) {
                        out.tool_error(&e, None);
                        failed = true;
                    }
                }
            }
            Err(d) => {
                diags.push(*d);
                failed = true;
            }
        }
    }
    let mut extra = serde_json::Map::new();
    extra.insert("files".into(), files.len().into());
    extra.insert(
        if a.check { "unformatted" } else { "formatted" }.into(),
        changed
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .into(),
    );
    out.report(&sources, &diags, extra);
    if !out.json() {
        for p in &changed {
            if a.check {
                println!("{}", p.display());
            } else {
                eprintln!("formatted {}", p.display());
            }
        }
        if a.check && !changed.is_empty() {
            eprintln!(
                "{} of {} file{} not formatted: run `shipc fmt`",
                changed.len(),
                files.len(),
                if files.len() == 1 { " is" } else { "s are" }
            );
        }
    }
    if failed || (a.check && !changed.is_empty()) {
        1
    } else {
        0
    }
}

/// `--stdin`: the formatted text on stdout, or nothing and exit 1.
fn stdin(out: &Output) -> u8 {
    let mut text = String::new();
    if let Err(e) = std::io::stdin()
        .lock()
        .take(super::fs::MAX_SOURCE)
        .read_to_string(&mut text)
    {
        out.tool_error(&format!("cannot read standard input: {e}"), None);
        return 1;
    }
    let mut sources = SourceMap::new();
    let id = sources.add(PathBuf::from("<stdin>"), text, false);
    let Some(file) = sources.get(id) else {
        return 1;
    };
    match shipc::fmt::format_file(file) {
        Ok(formatted) => {
            let mut o = std::io::stdout().lock();
            let _ = o.write_all(formatted.as_bytes());
            0
        }
        Err(d) => {
            out.diagnostics(&sources, &[*d]);
            1
        }
    }
}
