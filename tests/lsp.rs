#![allow(clippy::disallowed_methods)] // the tests make folders and run shipc
//! `shipc lsp` driven as a child process over JSON-RPC, the way an editor
//! drives it: initialize, didOpen/didChange, then each request, with the
//! answers snapshotted (paths shown relative to the project).

mod common;

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

struct Client {
    child: Child,
    stdin: ChildStdin,
    rx: Receiver<Value>,
    next: i64,
    /// The latest diagnostics per URI.
    diagnostics: std::collections::BTreeMap<String, Value>,
    root: PathBuf,
}

fn read_message(r: &mut impl BufRead) -> Option<Value> {
    let mut len = None;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Content-Length: ") {
            len = v.parse::<usize>().ok();
        }
    }
    let mut buf = vec![0; len?];
    r.read_exact(&mut buf).ok()?;
    serde_json::from_slice(&buf).ok()
}

impl Client {
    fn start(root: &Path) -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_shipc"))
            .args(["lsp", "--stdio"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start shipc lsp");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            while let Some(m) = read_message(&mut r) {
                if tx.send(m).is_err() {
                    break;
                }
            }
        });
        let mut c = Client {
            child,
            stdin,
            rx,
            next: 0,
            diagnostics: Default::default(),
            root: root.to_path_buf(),
        };
        let uri = url(root);
        let init = c.request(
            "initialize",
            json!({
                "processId": null,
                "rootUri": uri,
                "capabilities": { "textDocument": { "completion": { "completionItem": { "snippetSupport": true } } } },
            }),
        );
        assert!(
            init["capabilities"]["hoverProvider"].as_bool().unwrap(),
            "{init}"
        );
        c.notify("initialized", json!({}));
        c
    }

    fn send(&mut self, v: Value) {
        let text = v.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{text}", text.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// The response's `result`, or `{"error": …}`.
    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = self.next;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        loop {
            let m = match self.rx.recv_timeout(Duration::from_secs(60)) {
                Ok(m) => m,
                Err(RecvTimeoutError::Timeout) => panic!("no answer to {method} in 60 s"),
                Err(RecvTimeoutError::Disconnected) => panic!("the server exited during {method}"),
            };
            if m["method"] == "textDocument/publishDiagnostics" {
                let uri = m["params"]["uri"].as_str().unwrap().to_string();
                self.diagnostics
                    .insert(uri, m["params"]["diagnostics"].clone());
                continue;
            }
            if m["id"] == json!(id) {
                if let Some(e) = m.get("error") {
                    return json!({ "error": e["message"] });
                }
                return m["result"].clone();
            }
        }
    }

    fn open(&mut self, rel: &str) {
        let path = self.root.join(rel);
        let text = std::fs::read_to_string(&path).unwrap();
        self.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": url(&path), "languageId": "ship", "version": 1, "text": text } }),
        );
    }

    fn change(&mut self, rel: &str, text: &str) {
        let path = self.root.join(rel);
        self.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": url(&path), "version": 2 }, "contentChanges": [{ "text": text }] }),
        );
    }

    /// A request at the first occurrence of `needle` in the file (plus
    /// `delta` characters), as the editor's text has it.
    fn at(
        &mut self,
        method: &str,
        rel: &str,
        text: &str,
        needle: &str,
        delta: usize,
        extra: Value,
    ) -> Value {
        let off = text
            .find(needle)
            .unwrap_or_else(|| panic!("{needle} not in {rel}"))
            + delta;
        let before = &text[..off];
        let line = before.matches('\n').count();
        let col = before.rsplit('\n').next().unwrap().encode_utf16().count();
        let mut params = json!({
            "textDocument": { "uri": url(&self.root.join(rel)) },
            "position": { "line": line, "character": col },
        });
        if let (Some(p), Some(e)) = (params.as_object_mut(), extra.as_object()) {
            p.extend(e.clone());
        }
        self.request(method, params)
    }

    /// Diagnostics of one file, shown as `line:col CODE message`.
    fn diags(&self, rel: &str) -> Vec<String> {
        let uri = url(&self.root.join(rel));
        self.diagnostics
            .get(&uri)
            .and_then(Value::as_array)
            .map(|ds| {
                ds.iter()
                    .map(|d| {
                        format!(
                            "{}:{} {} {}",
                            d["range"]["start"]["line"].as_u64().unwrap() + 1,
                            d["range"]["start"]["character"].as_u64().unwrap() + 1,
                            d["code"].as_str().unwrap_or(""),
                            d["message"].as_str().unwrap()
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Replace absolute URIs with paths relative to the project.
    fn relative(&self, v: &Value) -> Value {
        let prefix = format!("{}/", url(&self.root));
        serde_json::from_str(&v.to_string().replace(&prefix, "")).unwrap()
    }

    fn stop(mut self) {
        let r = self.request("shutdown", Value::Null);
        assert!(r.is_null(), "{r}");
        self.notify("exit", Value::Null);
        let status = self.child.wait().unwrap();
        assert!(status.success(), "{status}");
    }
}

fn url(p: &Path) -> String {
    format!("file://{}", p.display())
}

const MAIN: &str = r#"# The API and its image.
let log_level = if env.name == "prod" then "info" else "debug"

image api { context = "api" }
image web { context = "web" }

service api {
  port http = 8080
  replicas = 1
  image = api
  resources { cpu = 250m .. 500m, memory = 128Mi .. 256Mi }
  liveness = http("/healthz", port = http)
  env_vars { LOG_LEVEL = log_level }
}
"#;

const WEB: &str = r#"service web {
  port http = 3000
  env_vars { API_URL = api.port.http.url }
}
"#;

const ENVS: &str = r#"env local { kind = tilt }

env staging {
  kind = helmfile
  registry = "registry.example.com/shop"
  api.replicas = 2
}

env prod {
  kind = helmfile
  registry = "registry.example.com/shop"
  api.replicas = 3
}
"#;

fn project(tag: &str) -> PathBuf {
    let d = common::temp_project(
        tag,
        &[
            ("ship/main.ship", MAIN),
            ("ship/web.ship", WEB),
            ("ship/envs.ship", ENVS),
        ],
    );
    d.canonicalize().unwrap().join("ship")
}

fn markdown(v: &Value) -> String {
    v["contents"]["value"]
        .as_str()
        .unwrap_or("(no hover)")
        .to_string()
}

fn labels(v: &Value) -> Vec<String> {
    let items = v.as_array().cloned().unwrap_or_default();
    items
        .iter()
        .map(|i| {
            format!(
                "{} — {}",
                i["label"].as_str().unwrap(),
                i["detail"].as_str().unwrap_or("")
            )
        })
        .collect()
}

#[test]
fn the_language_server_answers_an_editor() {
    let root = project("lsp");
    let mut c = Client::start(&root);
    c.open("web.ship");
    c.open("main.ship");
    // Requests are answered after the analysis, so diagnostics are in.
    let folds = c.at(
        "textDocument/foldingRange",
        "main.ship",
        MAIN,
        "",
        0,
        json!({}),
    );
    assert!(folds.as_array().is_some_and(|f| !f.is_empty()), "{folds}");
    assert!(
        c.diags("main.ship").is_empty(),
        "{:?}",
        c.diags("main.ship")
    );

    // Hover: a field with its schema doc and per-env values; a reference;
    // a unit literal; a let.
    let h = c.at(
        "textDocument/hover",
        "main.ship",
        MAIN,
        "replicas",
        2,
        json!({}),
    );
    insta::assert_snapshot!("hover_field", markdown(&h));
    let h = c.at(
        "textDocument/hover",
        "web.ship",
        WEB,
        "api.port",
        1,
        json!({}),
    );
    insta::assert_snapshot!("hover_reference", markdown(&c.relative(&h)));
    let h = c.at(
        "textDocument/hover",
        "main.ship",
        MAIN,
        "128Mi",
        2,
        json!({}),
    );
    insta::assert_snapshot!("hover_unit", markdown(&h));
    let h = c.at(
        "textDocument/hover",
        "main.ship",
        MAIN,
        "250m",
        1,
        json!({}),
    );
    assert!(
        markdown(&h).contains("250 millicores = 0.25 CPU cores"),
        "{}",
        markdown(&h)
    );
    let h = c.at(
        "textDocument/hover",
        "main.ship",
        MAIN,
        "= log_level",
        4,
        json!({}),
    );
    insta::assert_snapshot!("hover_let", markdown(&c.relative(&h)));

    // Cross-file go to definition: `api` in web.ship → service api in main.ship.
    let d = c.at(
        "textDocument/definition",
        "web.ship",
        WEB,
        "api.port",
        1,
        json!({}),
    );
    insta::assert_yaml_snapshot!("definition_cross_file", c.relative(&d));
    // A labelled port: `port.http` → `port http = 8080`.
    let d = c.at(
        "textDocument/definition",
        "web.ship",
        WEB,
        "http.url",
        1,
        json!({}),
    );
    insta::assert_yaml_snapshot!("definition_port", c.relative(&d));
    let d = c.at(
        "textDocument/definition",
        "main.ship",
        MAIN,
        "port = http",
        9,
        json!({}),
    );
    assert_eq!(d["range"]["start"]["line"], 7, "{d}");

    // References to service api, across the three files.
    let r = c.at(
        "textDocument/references",
        "main.ship",
        MAIN,
        "service api",
        9,
        json!({ "context": { "includeDeclaration": true } }),
    );
    insta::assert_yaml_snapshot!("references", c.relative(&r));

    // Completion: fields of a block, literal-union members, members.
    let edited = MAIN.replace("  replicas = 1\n", "  replicas = 1\n  work\n");
    c.change("main.ship", &edited);
    let items = c.at(
        "textDocument/completion",
        "main.ship",
        &edited,
        "work\n",
        4,
        json!({}),
    );
    let l = labels(&items);
    assert!(l.iter().any(|x| x.starts_with("workload — ")), "{l:?}");
    let workload = items
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["label"] == "workload")
        .unwrap();
    assert_eq!(workload["insertText"], "workload = $0", "{workload}");
    assert_eq!(workload["insertTextFormat"], 2, "{workload}");
    assert!(l.iter().any(|x| x.starts_with("port — ")), "{l:?}");
    let edited = MAIN.replace("  replicas = 1\n", "  replicas = 1\n  workload = \n");
    c.change("main.ship", &edited);
    let items = c.at(
        "textDocument/completion",
        "main.ship",
        &edited,
        "workload = ",
        11,
        json!({}),
    );
    insta::assert_snapshot!("complete_union", labels(&items).join("\n"));
    c.change("main.ship", MAIN);
    let edited = WEB.replace("api.port.http.url", "api.port.");
    c.change("web.ship", &edited);
    let items = c.at(
        "textDocument/completion",
        "web.ship",
        &edited,
        "api.port.",
        9,
        json!({}),
    );
    assert_eq!(labels(&items), ["http — a port of `api`"]);
    let edited = WEB.replace("api.port.http.url", "api.port.http.");
    c.change("web.ship", &edited);
    let items = c.at(
        "textDocument/completion",
        "web.ship",
        &edited,
        "http.",
        5,
        json!({}),
    );
    let l = labels(&items);
    assert!(l.iter().any(|x| x.starts_with("url")), "{l:?}");
    // A broken file: web.ship does not parse; main.ship keeps its answers.
    assert!(
        c.diags("web.ship").iter().any(|d| d.contains("E0001")),
        "{:?}",
        c.diags("web.ship")
    );
    c.change("main.ship", MAIN);
    let h = c.at(
        "textDocument/hover",
        "main.ship",
        MAIN,
        "replicas",
        2,
        json!({}),
    );
    assert!(markdown(&h).contains("Int"), "{}", markdown(&h));
    let items = c.at(
        "textDocument/completion",
        "main.ship",
        MAIN,
        "  replicas",
        2,
        json!({}),
    );
    assert!(
        labels(&items).iter().any(|x| x.starts_with("env_vars")),
        "{items}"
    );
    c.change("web.ship", WEB);

    // An unknown field with did-you-mean.
    let typo = MAIN.replace("replicas = 1", "replicaz = 1");
    c.change("main.ship", &typo);
    c.at(
        "textDocument/foldingRange",
        "main.ship",
        &typo,
        "",
        0,
        json!({}),
    );
    insta::assert_snapshot!("diagnostics_typo", c.diags("main.ship").join("\n"));
    c.change("main.ship", MAIN);

    // A file the project does not import is checked in its own folder.
    std::fs::create_dir_all(root.join("extra")).unwrap();
    let solo = "service solo { port http = 99999 }\n";
    std::fs::write(root.join("extra/solo.ship"), solo).unwrap();
    c.open("extra/solo.ship");
    c.at(
        "textDocument/foldingRange",
        "extra/solo.ship",
        solo,
        "",
        0,
        json!({}),
    );
    let d = c.diags("extra/solo.ship");
    assert!(d.iter().any(|x| x.contains("99999")), "{d:?}");

    // Rename service api across files.
    let r = c.at(
        "textDocument/rename",
        "main.ship",
        MAIN,
        "service api",
        9,
        json!({ "newName": "backend" }),
    );
    insta::assert_yaml_snapshot!("rename", c.relative(&r));
    let bad = c.at(
        "textDocument/rename",
        "main.ship",
        MAIN,
        "service api",
        9,
        json!({ "newName": "web" }),
    );
    assert!(
        bad["error"].as_str().unwrap().contains("already exists"),
        "{bad}"
    );
    // web runs image web only because the names match: refused.
    let bad = c.at(
        "textDocument/rename",
        "web.ship",
        WEB,
        "service web",
        9,
        json!({ "newName": "frontend" }),
    );
    assert!(
        bad["error"].as_str().unwrap().contains("set `image = web`"),
        "{bad}"
    );

    // Outline, formatting and folding.
    let s = c.at(
        "textDocument/documentSymbol",
        "main.ship",
        MAIN,
        "",
        0,
        json!({}),
    );
    let names: Vec<String> = s
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            format!(
                "{} ({})",
                x["name"].as_str().unwrap(),
                x["children"].as_array().map_or(0, Vec::len)
            )
        })
        .collect();
    assert_eq!(names, ["log_level (0)", "api (1)", "web (1)", "api (6)"]);
    let messy = "service  web {\n port http=3000\n   env_vars { API_URL = api.port.http.url }\n}\n";
    c.change("web.ship", messy);
    let f = c.at(
        "textDocument/formatting",
        "web.ship",
        messy,
        "",
        0,
        json!({ "options": { "tabSize": 2, "insertSpaces": true } }),
    );
    assert_eq!(f[0]["newText"].as_str().unwrap(), WEB, "{f}");
    c.change("web.ship", WEB);
    let f = c.at(
        "textDocument/foldingRange",
        "main.ship",
        MAIN,
        "",
        0,
        json!({}),
    );
    insta::assert_yaml_snapshot!("folding", f);
    let t = c.at(
        "textDocument/semanticTokens/full",
        "web.ship",
        WEB,
        "",
        0,
        json!({}),
    );
    // web (service, declared), http (port, declared), api (service), http (port).
    let data: Vec<u64> = t["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap())
        .collect();
    assert_eq!(
        data,
        [0, 8, 3, 0, 1, 1, 7, 4, 8, 1, 1, 23, 3, 0, 0, 0, 9, 4, 8, 0],
        "{t}"
    );
    c.stop();
}

/// The model and diagnostics of an analysis, as text to compare.
fn picture(a: &shipc::Analysis, diags: &[shipc::Diagnostic]) -> String {
    let mut s = format!("{diags:#?}\n");
    for e in &a.checked.envs {
        s.push_str(&format!(
            "{}\n{:#?}\n{:#?}\n{:#?}\n{:#?}\n{:#?}\n",
            e.name, e.env, e.services, e.infras, e.images, e.edges
        ));
    }
    for g in &a.graphs {
        s.push_str(&format!("{:?}\n", g.waves));
    }
    s
}

/// Analyse `files` with the cache (recycling the previous analysis, as the
/// server does) and without, and require the same result.
fn same_as_full(
    cache: &shipc::Cache,
    prev: &mut Option<shipc::Analysis>,
    files: &[(String, String)],
    what: &str,
) {
    let mut host = shipc::load::MemoryHost::new();
    for (p, t) in files {
        host.add(format!("ship/{p}"), t.as_str());
    }
    if let Some(mut p) = prev.take() {
        cache.recycle(&mut p);
    }
    let mut d1 = shipc::Diagnostics::new();
    let a1 = shipc::analyze_with(&host, Path::new("ship"), None, &mut d1, Some(cache)).unwrap();
    let d1 = d1.into_sorted();
    let mut d2 = shipc::Diagnostics::new();
    let a2 = shipc::analyze(&host, Path::new("ship"), None, &mut d2).unwrap();
    let d2 = d2.into_sorted();
    let (p1, p2) = (picture(&a1, &d1), picture(&a2, &d2));
    if p1 != p2 {
        let diff: Vec<String> = p1
            .lines()
            .zip(p2.lines())
            .enumerate()
            .filter(|(_, (a, b))| a != b)
            .take(10)
            .map(|(i, (a, b))| format!("line {i}:\n  incremental: {a}\n  full:        {b}"))
            .collect();
        panic!(
            "{what}: the incremental check differs from a full one:\n{}",
            diff.join("\n")
        );
    }
    *prev = Some(a1);
}

#[test]
fn incremental_checks_match_full_checks() {
    let mut files = shipc::synth::project_files(320);
    let cache = shipc::Cache::new();
    let mut prev = None;
    same_as_full(&cache, &mut prev, &files, "first analysis");
    // A value in one service.
    let f = &mut files[1].1;
    *f = f.replacen("then 3 else 1", "then 3 else 2", 1);
    same_as_full(&cache, &mut prev, &files, "a changed value");
    let stats = cache.evals.lock().unwrap().stats();
    // The changed service alone, in each of the 4 envs (the edit keeps the
    // text's length, so nothing else moved).
    assert_eq!(stats.evaluated, 4, "{stats:?}");
    // Spans that move: a comment above the first service of a file.
    let f = &mut files[2].1;
    *f = format!("# moved\n{f}");
    same_as_full(&cache, &mut prev, &files, "moved declarations");
    // A changed address: services that read it change too.
    let before = files.clone();
    for (_, f) in files.iter_mut().skip(1) {
        *f = f.replacen("backend(port_number = 80", "backend(port_number = 90", 1);
    }
    same_as_full(&cache, &mut prev, &files, "changed ports");
    // Errors: a wrong type, an unknown name, a broken file; then fixed.
    let f = &mut files[1].1;
    *f = f.replacen("then 3 else 2", "then \"x\" else 2", 1);
    same_as_full(&cache, &mut prev, &files, "a type error");
    let f = &mut files[2].1;
    *f = f.replacen(".port.http.url", ".port.htp.url", 1);
    same_as_full(&cache, &mut prev, &files, "an unknown port");
    let f = &mut files[3].1;
    *f = f.replacen("}\n", "\n", 1);
    same_as_full(&cache, &mut prev, &files, "a file that does not parse");
    files = before;
    same_as_full(&cache, &mut prev, &files, "everything fixed");
    // The context: an env changes.
    let f = &mut files[0].1;
    *f = f.replacen(
        "domain = \"staging.synth.dev\"",
        "domain = \"stage.synth.dev\"\n  release_suffix = \"-s\"",
        1,
    );
    same_as_full(&cache, &mut prev, &files, "an env changed");
    // The examples: every number of a port moved by one, one file at a time.
    for (name, dir) in common::examples() {
        let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "ship"))
            .map(|p| {
                (
                    p.file_name().unwrap().to_string_lossy().into_owned(),
                    std::fs::read_to_string(&p).unwrap(),
                )
            })
            .collect();
        files.sort();
        let cache = shipc::Cache::new();
        let mut prev = None;
        same_as_full(&cache, &mut prev, &files, &name);
        for i in 0..files.len() {
            let f = &mut files[i].1;
            *f = f.replacen(" = 80", " = 81", 1).replacen(
                "replicas = ",
                "replicas = 1 + 0 * 0 + ",
                0,
            );
            *f = format!("# edit {i}\n{f}");
            same_as_full(
                &cache,
                &mut prev,
                &files,
                &format!("{name}: file {i} edited"),
            );
        }
    }
}

/// Every answer at every position of every example (and of each example cut
/// short at that position, as while typing) comes back without a panic.
#[test]
fn ide_answers_never_panic() {
    for (name, dir) in common::examples() {
        let mut host = shipc::load::MemoryHost::new();
        let mut texts = Vec::new();
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "ship") {
                let t = std::fs::read_to_string(&p).unwrap();
                let f = p.file_name().unwrap().to_string_lossy().into_owned();
                host.add(format!("ship/{f}"), t.as_str());
                texts.push((format!("ship/{f}"), t));
            }
        }
        let cache = shipc::Cache::new();
        let mut d = shipc::Diagnostics::new();
        let a = shipc::analyze_with(&host, Path::new("ship"), None, &mut d, Some(&cache)).unwrap();
        let snap = shipc::ide::Snapshot::new(a, d.into_sorted(), &cache);
        let mut answered = 0;
        for (path, text) in &texts {
            let file = snap
                .file_id(Path::new(path))
                .unwrap_or_else(|| panic!("{name}: {path}"));
            let _ = shipc::ide::outline::folds(text);
            if let Some(ast) = snap.asts.get(&file) {
                let _ = shipc::ide::outline::outline(ast);
            }
            let mut offsets: Vec<usize> = (0..=text.len()).step_by(5).collect();
            offsets.push(text.len());
            for off in offsets.into_iter().filter(|o| text.is_char_boundary(*o)) {
                if shipc::ide::hover::hover(&snap, file, off).is_some() {
                    answered += 1;
                }
                let _ = snap.definition(file, off);
                let _ = snap.references(file, off, true);
                let _ = snap.rename(file, off, "renamed_x");
                let _ = shipc::ide::complete::complete(&snap, text, off);
                let cut = &text[..off];
                let _ = shipc::ide::complete::complete(&snap, cut, off);
            }
        }
        assert!(answered > 50, "{name}: only {answered} hovers");
    }
}
