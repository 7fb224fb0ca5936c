//! The real Tilt evaluates every Tiltfile shipc writes (`tilt alpha
//! tiltfile-result`, offline, through `tests/tools/eval-tiltfile.sh`): every
//! example's tilt envs and a fixture per strategy (manifests, kustomize,
//! helm). The assertions read Tilt's result JSON: resources, resource deps,
//! port forwards, live-update steps, build contexts, ignores, the allowed
//! kube context. `.ci/run` installs Tilt into `.tools/bin`; elsewhere the
//! test says why it skips (and fails instead when `CI` is set).
#![allow(clippy::disallowed_methods)]

mod common;

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn tilt() -> Option<PathBuf> {
    let p = common::root().join(".tools/bin/tilt");
    if p.exists() {
        return Some(p);
    }
    common::skip("the real Tilt is not installed in .tools/bin (.ci/run installs it)");
    None
}

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("shipc-tilt-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn compile(project: &Path, env: &str) -> PathBuf {
    let o = Command::new(env!("CARGO_BIN_EXE_shipc"))
        .args(["compile", "--env", env, "-o"])
        .arg(project.join("out"))
        .arg(project.join("ship"))
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "compile {}/{env}: {}",
        project.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    project.join("out").join(env)
}

/// Tilt checks that build contexts, Dockerfiles and sync sources exist:
/// create them (a `FROM scratch` Dockerfile is enough) from what the
/// Tiltfile names, and stub commands for top-level `local()` calls.
fn materialise(tiltfile_dir: &Path, text: &str) -> PathBuf {
    for line in text.lines() {
        if !line.starts_with("docker_build(") {
            continue;
        }
        let strings = quoted(line);
        if let Some(ctx) = strings.get(1) {
            std::fs::create_dir_all(tiltfile_dir.join(ctx)).unwrap();
        }
        if let Some(df) = kwarg(line, "dockerfile") {
            let p = tiltfile_dir.join(&df);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            // Which file Tilt read shows in its result.
            std::fs::write(p, format!("FROM scratch\n# {df}\n")).unwrap();
        }
        for s in strings.iter().filter(|s| s.starts_with("../")) {
            let p = tiltfile_dir.join(s);
            if !p.exists() && !s.ends_with("Dockerfile") {
                std::fs::create_dir_all(&p).unwrap();
            }
        }
    }
    // `secrets { dotenv = … }`: the file the developer keeps, one dummy
    // value per key the env uses.
    let keys = text
        .lines()
        .find_map(|l| l.strip_prefix("_ship_secret_keys = "))
        .map(quoted)
        .unwrap_or_default();
    if let Some(file) = text
        .lines()
        .find_map(|l| l.strip_prefix("_ship_secret_values = _ship_dotenv("))
        .and_then(|l| quoted(l).into_iter().next())
    {
        let p = tiltfile_dir.join(file);
        if !p.exists() {
            let lines: Vec<String> = keys
                .iter()
                .map(|k| format!("{}=dev-value", k.replace(".*", ".extra")))
                .collect();
            std::fs::write(p, lines.join("\n") + "\n").unwrap();
        }
    }
    let stubs = tiltfile_dir.join("../stubs");
    std::fs::create_dir_all(&stubs).unwrap();
    for cmd in ["flux", "kubectl-stub"] {
        let p = stubs.join(cmd);
        std::fs::write(
            &p,
            "#!/bin/sh\necho \"$0 $*\" >> \"$(dirname \"$0\")/calls.log\"\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    stubs
}

/// The double-quoted strings of a line of Starlark, unescaped.
fn quoted(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c != '"' {
            continue;
        }
        let mut s = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    if let Some(n) = chars.next() {
                        s.push(n);
                    }
                }
                '"' => break,
                c => s.push(c),
            }
        }
        out.push(s);
    }
    out
}

fn kwarg(line: &str, name: &str) -> Option<String> {
    let at = line.find(&format!(" {name}=\""))?;
    quoted(&line[at..]).into_iter().next()
}

struct Eval {
    code: i32,
    json: Value,
    log: String,
}

fn eval(tilt: &Path, tiltfile: &Path, stubs: &Path, context: Option<&str>) -> Eval {
    let mut cmd = Command::new("bash");
    cmd.arg(common::root().join("tests/tools/eval-tiltfile.sh"))
        .arg("--tilt")
        .arg(tilt)
        .arg("--path")
        .arg(stubs)
        .arg("--path")
        .arg(common::root().join(".tools/bin"));
    if let Some(c) = context {
        cmd.args(["--context", c]);
    }
    let o = cmd.arg(tiltfile).output().unwrap();
    Eval {
        code: o.status.code().unwrap_or(-1),
        json: serde_json::from_slice(&o.stdout).unwrap_or(Value::Null),
        log: String::from_utf8_lossy(&o.stderr).to_string(),
    }
}

/// What the Tiltfile asked for, per resource: `resource_deps` and port
/// forwards of each `k8s_resource(…)` line.
/// A resource's `resource_deps` and `(local, container)` port forwards.
type Emitted = (Vec<String>, Vec<(i64, i64)>);

fn emitted_resources(text: &str) -> BTreeMap<String, Emitted> {
    let mut out = BTreeMap::new();
    for line in text.lines().filter(|l| l.starts_with("k8s_resource(")) {
        let name = quoted(line).into_iter().next().unwrap();
        let deps = line
            .find("resource_deps=[")
            .map(|at| {
                let rest = &line[at..];
                quoted(&rest[..rest.find(']').unwrap()])
            })
            .unwrap_or_default();
        let mut forwards = Vec::new();
        let mut rest = line;
        while let Some(at) = rest.find("port_forward(") {
            rest = &rest[at + "port_forward(".len()..];
            let args: Vec<i64> = rest[..rest.find(')').unwrap()]
                .split(',')
                .map(|n| n.trim().parse().unwrap())
                .collect();
            forwards.push((args[0], args[1]));
        }
        out.insert(name, (deps, forwards));
    }
    out
}

/// Checks every example's and fixture's Tiltfile against Tilt's result.
fn check(tilt: &Path, project: &Path, env: &str) -> (String, Value) {
    let dir = compile(project, env);
    let tiltfile = dir.join("Tiltfile");
    let text = std::fs::read_to_string(&tiltfile).unwrap();
    let stubs = materialise(&dir, &text);
    let r = eval(tilt, &tiltfile, &stubs, None);
    assert_eq!(
        r.code,
        0,
        "Tilt refused {}/{env}:\n{}\n{text}",
        project.display(),
        r.log
    );
    assert!(
        !r.log.contains("dependency ignored") && !r.log.contains("WARNING"),
        "Tilt warned on {}/{env}:\n{}",
        project.display(),
        r.log
    );
    assert!(!text.contains("restart_container"), "{text}");
    assert!(
        !text.contains("ext://"),
        "an extension needs the network: {text}"
    );
    let manifests = r.json["Manifests"].as_array().unwrap();
    let by_name: BTreeMap<&str, &Value> = manifests
        .iter()
        .map(|m| (m["Name"].as_str().unwrap(), m))
        .collect();
    for (name, (deps, forwards)) in emitted_resources(&text) {
        let m = by_name
            .get(name.as_str())
            .unwrap_or_else(|| panic!("Tilt has no resource {name}: {:?}", by_name.keys()));
        let mut got: Vec<String> = m["ResourceDependencies"]
            .as_array()
            .map(|a| a.iter().map(|d| d.as_str().unwrap().to_string()).collect())
            .unwrap_or_default();
        got.sort();
        let mut want = deps.clone();
        want.sort();
        assert_eq!(got, want, "resource_deps of {name}");
        let got_fw: Vec<(i64, i64)> = m["DeployTarget"]["portForwardTemplateSpec"]["forwards"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|f| {
                        (
                            f["localPort"].as_i64().unwrap(),
                            f["containerPort"].as_i64().unwrap(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(got_fw, forwards, "port forwards of {name}");
    }
    // The allow-list: a production-looking context is refused.
    let r = eval(tilt, &tiltfile, &stubs, Some("prod"));
    assert_eq!(r.code, 5, "Tilt accepted context `prod`:\n{}", r.log);
    (text, r_json(tilt, &tiltfile, &stubs))
}

fn r_json(tilt: &Path, tiltfile: &Path, stubs: &Path) -> Value {
    eval(tilt, tiltfile, stubs, None).json
}

fn image_targets(json: &Value, resource: &str) -> Vec<Value> {
    json["Manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["Name"] == resource)
        .and_then(|m| m["ImageTargets"].as_array().cloned())
        .unwrap_or_default()
}

#[test]
fn the_real_tilt_accepts_every_example() {
    let Some(tilt) = tilt() else { return };
    let mut checked = 0;
    for (name, ship) in common::examples() {
        let text =
            std::fs::read_to_string(ship.parent().unwrap().join("ship.lock")).unwrap_or_default();
        let _ = text;
        let envs = tilt_envs(&ship);
        for env in envs {
            let project = temp(&format!("{name}-{env}"));
            common::copy_dir(ship.parent().unwrap(), &project);
            let _ = std::fs::remove_dir_all(project.join("out"));
            check(&tilt, &project, &env);
            checked += 1;
        }
    }
    assert!(checked >= 4, "only {checked} tilt envs checked");
}

/// The env names of kind tilt in an example (read with the library).
fn tilt_envs(ship: &Path) -> Vec<String> {
    let mut d = shipc::Diagnostics::new();
    let a = shipc::analyze(&common::FsHost, ship, None, &mut d).expect("examples analyse");
    a.checked
        .envs
        .iter()
        .filter(|e| e.kind() == "tilt")
        .map(|e| e.name.clone())
        .collect()
}

const FIXTURE: &str = r#"
project { name = "fx" }
image api {
  context = "services/api"
  ignore = ["services/api/node_modules", "**/*.log", "!services/api/node_modules/keep"]
  live_update = [
    sync("services/api/src", "/app/src"),
    run("npm run build", trigger = ["services/api/package.json"]),
    restart(),
  ]
}
image web {
  context = "."
  dockerfile = "web/Dockerfile"
  entrypoint = ["nginx", "-g", "daemon off;"]
  live_update = [sync("web/static", "/usr/share/nginx/html"), restart()]
}
image worker {
  context = "worker"
  live_update = [sync("worker/jobs", "/jobs"), restart()]
}
service worker { labels = ["backend"] }
infra db {
  chart = "oci://registry-1.docker.io/bitnamicharts/postgresql"
  version = "15.5.0"
  port pg = 5432
}
service api {
  port http = 8080
  command = ["node", "dist/main.js"]
  args = ["--port", "8080"]
  env_vars { DB = db.port.pg.url }
  port_forwards = [forward(18080, http)]
  labels = ["backend"]
}
service web {
  port http = 80
  env_vars { API = api.port.http.url }
  port_forwards = [forward(8000, http)]
  labels = ["frontend"]
}
"#;

fn fixture(strategy: &str, context: bool) -> PathBuf {
    let project = temp(&format!("fixture-{strategy}-{context}"));
    std::fs::create_dir_all(project.join("ship")).unwrap();
    let cluster = if context {
        "cluster { context = \"kind-fx\", namespace = \"fx\" }"
    } else {
        "cluster { namespace = \"fx\" }"
    };
    std::fs::write(
        project.join("ship/main.ship"),
        format!(
            "{FIXTURE}\nenv dev {{\n  kind = tilt\n  registry = \"localhost:5005\"\n  {cluster}\n  tilt {{ strategy = \"{strategy}\", suspend_flux = [\"apps\"] }}\n}}\n"
        ),
    )
    .unwrap();
    project
}

#[test]
fn the_real_tilt_accepts_every_strategy() {
    let Some(tilt) = tilt() else { return };
    for strategy in ["manifests", "kustomize", "helm"] {
        let project = fixture(strategy, true);
        let (text, json) = check(&tilt, &project, "dev");
        assert!(text.contains("local_resource(\"flux-suspend\""), "{text}");
        if strategy == "helm" {
            assert!(text.contains("k8s_custom_deploy(\"api-tilt\""), "{text}");
            // The build sentinel watches the build context (relative to
            // the Tiltfile) and runs in the Tiltfile's folder.
            let build = json["Manifests"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["Name"] == "build-api-tilt")
                .expect("a build sentinel");
            let spec = &build["DeployTarget"]["UpdateCmdSpec"];
            let dir = spec["dir"].as_str().unwrap_or("");
            assert!(dir.ends_with("/out/dev"), "{spec}");
            let deps = build["DeployTarget"].to_string();
            assert!(deps.contains("/services/api"), "{deps}");
            let api = json["Manifests"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["Name"] == "api-tilt")
                .unwrap();
            let mut deps: Vec<&str> = api["ResourceDependencies"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(Value::as_str)
                .collect();
            deps.sort();
            assert_eq!(deps, ["build-api-tilt", "flux-suspend"]);
            continue;
        }
        // Live update: syncs and triggers relative to the Tiltfile, the
        // restart as the last step, the wrapper as the entrypoint.
        let targets = image_targets(&json, "api-tilt");
        let api = targets
            .iter()
            .find(|t| t["LiveUpdateSpec"]["syncs"].is_array())
            .expect("api has a live update");
        let lu = &api["LiveUpdateSpec"];
        assert_eq!(lu["syncs"][0]["localPath"], "../../services/api/src");
        assert_eq!(lu["syncs"][0]["containerPath"], "/app/src");
        let execs = lu["execs"].as_array().unwrap();
        assert_eq!(
            execs[0]["triggerPaths"][0],
            "../../services/api/package.json"
        );
        assert_eq!(
            execs.last().unwrap()["args"],
            serde_json::json!(["sh", "-c", "date > /tmp/.restart-proc"])
        );
        assert_eq!(
            api["overrideCommand"]["command"],
            serde_json::json!([
                "/tilt-restart-wrapper",
                "--watch_file=/tmp/.restart-proc",
                "node",
                "dist/main.js",
                "--port",
                "8080"
            ])
        );
        // The base image is built from the service's own context, with
        // ignores relative to that context.
        let base = targets
            .iter()
            .find(|t| t["BuildDetails"]["imageMaps"].is_null())
            .expect("the base image");
        let ctx = base["BuildDetails"]["context"].as_str().unwrap();
        assert!(ctx.ends_with("/services/api"), "{ctx}");
        // The Dockerfile Tilt read: `<context>/Dockerfile`, relative to the Tiltfile.
        assert_eq!(
            base["BuildDetails"]["dockerfileContents"],
            "FROM scratch\n# ../../services/api/Dockerfile\n"
        );
        let ignores: Vec<&str> = base["BuildDetails"]["contextIgnores"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["basePath"] == ctx)
            .flat_map(|i| i["patterns"].as_array().into_iter().flatten())
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(
            ignores,
            ["node_modules", "**/*.log", "!node_modules/keep"],
            "{base}"
        );
        // No entrypoint in the source: a custom_build reads the image's own.
        let worker = image_targets(&json, "worker-tilt");
        assert_eq!(worker.len(), 1, "{worker:?}");
        let cmd = worker[0]["BuildDetails"]["args"].to_string();
        assert!(cmd.contains("docker inspect"), "{cmd}");
        assert_eq!(
            worker[0]["LiveUpdateSpec"]["execs"][0]["args"],
            serde_json::json!(["sh", "-c", "date > /tmp/.restart-proc"])
        );
        let web = image_targets(&json, "web-tilt");
        assert!(
            web.iter().any(|t| t["overrideCommand"]["command"]
                == serde_json::json!([
                    "/tilt-restart-wrapper",
                    "--watch_file=/tmp/.restart-proc",
                    "nginx",
                    "-g",
                    "daemon off;"
                ])),
            "{web:?}"
        );
    }
}

#[test]
fn dotenv_secrets_are_made_by_tilt_and_never_by_shipc() {
    let Some(tilt) = tilt() else { return };
    let project = temp("dotenv");
    let ship = "service api {\n  image = external(\"nginx:1.27\")\n  port http = 80\n  env_vars {\n    PASSWORD = secret(\"db\", \"password\")\n  }\n  volumes { tls = secret_files(\"tls\", \"/etc/tls\") }\n}\nenv local {\n  kind = tilt\n  cluster { namespace = \"dev\" }\n  secrets { dotenv = \".env.local\" }\n}\n";
    std::fs::create_dir_all(project.join("ship")).unwrap();
    std::fs::write(project.join("ship/main.ship"), ship).unwrap();
    let dir = compile(&project, "local");
    let tiltfile = dir.join("Tiltfile");
    let text = std::fs::read_to_string(&tiltfile).unwrap();
    let stubs = materialise(&dir, "");
    // No file yet: Tilt stops with what it needs.
    let r = eval(&tilt, &tiltfile, &stubs, None);
    assert_eq!(r.code, 5, "{}", r.log);
    assert!(
        r.log.contains("db.password") && r.log.contains("tls.*"),
        "{}",
        r.log
    );
    std::fs::write(
        project.join(".env.local"),
        "# dev\nexport db.password=\"s3cret\"\ntls.tls.crt=CERT\n",
    )
    .unwrap();
    let r = eval(&tilt, &tiltfile, &stubs, None);
    assert_eq!(r.code, 0, "{}\n{text}", r.log);
    let all = r.json.to_string();
    assert!(all.contains("s3cret") && all.contains("tls.crt"), "{all}");
    // shipc wrote names and keys, never a value.
    let mut written = Vec::new();
    for e in walk(&project.join("out")) {
        written.push(std::fs::read_to_string(e).unwrap_or_default());
    }
    assert!(!written.concat().contains("s3cret"));
    // A file git tracks (not ignored) stops Tilt.
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(&project)
            .output()
            .unwrap()
    };
    if git(&["init", "-q"]).status.success() {
        let r = eval(&tilt, &tiltfile, &stubs, None);
        assert_eq!(r.code, 5, "{}", r.log);
        assert!(r.log.contains("does not ignore it"), "{}", r.log);
        std::fs::write(project.join(".gitignore"), ".env.local\nout/\n").unwrap();
        let r = eval(&tilt, &tiltfile, &stubs, None);
        assert_eq!(r.code, 0, "{}", r.log);
    }
    let _ = std::fs::remove_dir_all(&project);
}

fn walk(d: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn builds_beyond_a_dockerfile_load_in_the_real_tilt() {
    let Some(tilt) = tilt() else { return };
    let project = temp("builds");
    std::fs::create_dir_all(project.join("ship")).unwrap();
    let ship = std::fs::read_to_string(common::root().join("tests/ui/builds_ok.ship")).unwrap();
    std::fs::write(project.join("ship/main.ship"), ship).unwrap();
    for d in ["web/src", "web/dist", "api", "worker"] {
        std::fs::create_dir_all(project.join(d)).unwrap();
    }
    std::fs::write(project.join("web/package.json"), "{}").unwrap();
    std::fs::write(project.join("web/Dockerfile"), "FROM scratch\n").unwrap();
    let dir = compile(&project, "local");
    let tiltfile = dir.join("Tiltfile");
    let text = std::fs::read_to_string(&tiltfile).unwrap();
    let stubs = materialise(&dir, &text);
    let r = eval(&tilt, &tiltfile, &stubs, None);
    assert_eq!(r.code, 0, "{}\n{text}", r.log);
    assert!(!r.log.contains("WARNING"), "{}", r.log);
    let manifests = r.json["Manifests"].as_array().unwrap();
    let find = |name: &str| {
        manifests
            .iter()
            .find(|m| m["Name"] == name)
            .unwrap_or_else(|| panic!("no resource {name}"))
    };
    // The pre-build is a local resource the service waits for.
    let pre = find("web-pre-build").to_string();
    assert!(pre.contains("npm run build"), "{pre}");
    assert_eq!(
        find("web-tilt")["ResourceDependencies"],
        serde_json::json!(["web-pre-build"])
    );
    // custom_build and pack builds are custom image targets.
    for (resource, needle) in [
        ("api-tilt", "make -C api image"),
        ("worker-tilt", "pack build"),
    ] {
        let targets = image_targets(&r.json, resource);
        let all = serde_json::to_string(&targets).unwrap();
        assert!(all.contains(needle), "{resource}: {all}");
    }
    let _ = std::fs::remove_dir_all(&project);
}

#[test]
fn without_a_context_tilt_uses_its_own_allow_list() {
    let Some(tilt) = tilt() else { return };
    let project = fixture("manifests", false);
    let dir = compile(&project, "dev");
    let tiltfile = dir.join("Tiltfile");
    let text = std::fs::read_to_string(&tiltfile).unwrap();
    assert!(text.contains("Tilt's own allow-list applies"), "{text}");
    assert!(!text.contains("allow_k8s_contexts"), "{text}");
    let stubs = materialise(&dir, &text);
    let r = eval(&tilt, &tiltfile, &stubs, None);
    assert_eq!(r.code, 0, "{}", r.log);
    let r = eval(&tilt, &tiltfile, &stubs, Some("gke_prod"));
    assert_eq!(r.code, 5, "{}", r.log);
}

#[test]
fn suspend_flux_runs_once_per_up_not_on_every_load() {
    let Some(tilt) = tilt() else { return };
    let project = fixture("manifests", true);
    let dir = compile(&project, "dev");
    let tiltfile = dir.join("Tiltfile");
    let text = std::fs::read_to_string(&tiltfile).unwrap();
    let stubs = materialise(&dir, &text);
    for _ in 0..2 {
        let r = eval(&tilt, &tiltfile, &stubs, None);
        assert_eq!(r.code, 0, "{}", r.log);
    }
    // Loading the Tiltfile (every `tilt up`, every reload) ran no flux command.
    assert!(
        !stubs.join("calls.log").exists(),
        "{:?}",
        std::fs::read_to_string(stubs.join("calls.log"))
    );
    let r = eval(&tilt, &tiltfile, &stubs, None);
    let suspend = r.json["Manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["Name"] == "flux-suspend")
        .expect("a flux-suspend resource");
    let cmd = suspend["DeployTarget"]["UpdateCmdSpec"]["args"].to_string();
    assert!(
        cmd.contains("flux suspend kustomization apps --namespace flux-system --context kind-fx"),
        "{cmd}"
    );
}

#[test]
fn hostile_names_cannot_inject_into_what_tilt_runs() {
    let Some(tilt) = tilt() else { return };
    let project = temp("hostile");
    std::fs::create_dir_all(project.join("ship")).unwrap();
    std::fs::write(
        project.join("ship/main.ship"),
        "image evil { context = \"a\\\"), local('touch pwned')#\", ignore = [\"**/x\\\"]\\nlocal('boom')\"] }\nservice evil { port http = 80, command = [\"sh\", \"-c\", \"$(touch pwned2)\"] }\nenv local { kind = tilt, cluster { context = \"kind-x\\\")\\nlocal('boom')\", namespace = \"ns\" }, tilt { suspend_flux = [\"x; touch pwned3\"] } }\n",
    )
    .unwrap();
    let dir = compile(&project, "local");
    let tiltfile = dir.join("Tiltfile");
    let text = std::fs::read_to_string(&tiltfile).unwrap();
    let stubs = materialise(&dir, &text);
    let r = eval(&tilt, &tiltfile, &stubs, Some("kind-x\")\nlocal('boom')"));
    // Whatever Tilt decides about the odd context, nothing ran.
    for f in ["pwned", "pwned2", "pwned3"] {
        assert!(
            !dir.join(f).exists() && !project.join(f).exists(),
            "{f}: {}",
            r.log
        );
    }
    assert!(!stubs.join("calls.log").exists());
}

#[test]
fn the_project_shipc_init_writes_loads_in_the_real_tilt() {
    let Some(tilt) = tilt() else { return };
    let dir = temp("init");
    let project = dir.join("shop");
    let o = Command::new(env!("CARGO_BIN_EXE_shipc"))
        .arg("init")
        .arg(&project)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (_, json) = check(&tilt, &project, "local");
    let names: Vec<&str> = json["Manifests"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["Name"].as_str())
        .collect();
    assert!(names.contains(&"web-tilt"), "{names:?}");
}
