//! The `tilt` target (SPEC §10): a `Tiltfile` and, with the default
//! `manifests` strategy, one `manifests/<service>.yaml` per service; with the
//! `kustomize` strategy the same files under `kustomize/` with a
//! `kustomization.yaml`, loaded by `k8s_yaml(kustomize("kustomize"))`; with
//! the `helm` strategy the built-in chart with a `helm_resource` per service
//! (see [`helm_strategy`]). All are built from the one Kubernetes lowering. Dev manifests reference images by bare repository with
//! `IfNotPresent`; Tilt builds them (`docker_build` with live update) and
//! rewrites the references. Infra is never deployed: a
//! `local_resource("infra-health-check")` checks that it exists and every
//! service that references infra waits for it.

mod build;
mod helm;

use super::k8s::{self, Context};
use super::starlark::{list, shell_word, string};
use super::OutputTree;
use crate::graph::DepGraph;
use crate::images::Images;
use crate::model::view::{self, Strategy, TiltSettings};
use crate::model::{EnvModel, Value, V};
use crate::source::SourceMap;
use crate::syntax::ast::DeclKind;
use crate::yaml;

/// Inputs of the tilt target besides the env.
pub struct TiltInput<'a> {
    /// The project record.
    pub project: &'a Value,
    /// Sources (for `ship.dev/source`).
    pub sources: &'a SourceMap,
    /// The project root (source paths are shown relative to it).
    pub root: &'a std::path::Path,
    /// The project root as seen from the Tiltfile's folder (`../..`).
    pub root_from_output: &'a str,
}

/// An image's build context and Dockerfile, as seen from the Tiltfile
/// (`dockerfile` defaults to `<context>/Dockerfile`).
pub(super) fn build_paths(image: view::Image<'_>, root: &str) -> (String, String) {
    let ctx_rel = image.context().and_then(Value::as_str).unwrap_or(".");
    let dockerfile = match image.dockerfile().and_then(Value::as_str) {
        Some(d) => join_root(root, d),
        None => join_root(
            root,
            &format!("{}/Dockerfile", ctx_rel.trim_end_matches('/')),
        ),
    };
    (join_root(root, ctx_rel), dockerfile)
}

/// A list of project-relative paths, as seen from the Tiltfile.
pub(super) fn root_paths(list: Option<&Value>, root: &str) -> Vec<String> {
    list.map(Value::strings)
        .unwrap_or_default()
        .into_iter()
        .map(|p| join_root(root, p))
        .collect()
}

pub(super) fn join_root(root: &str, rel: &str) -> String {
    let rel = rel.trim_start_matches("./");
    match (root, rel) {
        ("" | ".", "" | ".") => ".".to_string(),
        ("" | ".", r) => r.to_string(),
        (r, "" | ".") => r.to_string(),
        (r, p) => format!("{}/{}", r.trim_end_matches('/'), p),
    }
}

/// Emit a tilt env.
pub fn emit(env: &EnvModel, graph: &DepGraph, input: &TiltInput<'_>) -> OutputTree {
    emit_into(env, graph, input, OutputTree::new())
}

/// [`emit`] into `out` (a spilling tree, when compiling).
pub fn emit_into(
    env: &EnvModel,
    graph: &DepGraph,
    input: &TiltInput<'_>,
    mut out: OutputTree,
) -> OutputTree {
    let images = Images::dev(env);
    let cx = Context::new(env, input.project, input.sources, input.root, &images);
    let root = input.root_from_output;
    let e = env.settings();
    let mut t = header(env);
    let kubectl_ctx: Vec<String> = match e.context_name() {
        Some(c) => vec!["--context".into(), c.to_string()],
        None => Vec::new(),
    };
    suspend_flux(env, &kubectl_ctx, &mut t);
    infra_health_check(env, &cx, &kubectl_ctx, &mut t);
    let kustomize = e.strategy() == Strategy::Kustomize;
    if e.strategy() == Strategy::Helm {
        helm::helm_strategy(env, graph, &cx, root, &mut t, &mut out);
        out.add("Tiltfile", t);
        return out;
    }
    for (name, img) in &env.images {
        build::docker_build(env, name, img, root, &mut t);
    }
    // Services.
    // `kustomize` strategy: the same manifests as a kustomization, loaded once.
    if kustomize {
        let mut files: Vec<String> = env
            .configs
            .values()
            .chain(env.services.values())
            .map(|s| format!("{}.yaml", s.k8s_name))
            .collect();
        if k8s::network::enabled(&cx) || !env.objects.is_empty() {
            files.push(objects_file(env));
        }
        let k = serde_json::json!({
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": files,
        });
        out.add("kustomize/kustomization.yaml", yaml::to_string(&k));
        if !env.services.is_empty() || k8s::network::enabled(&cx) || !env.objects.is_empty() {
            t.push_str(&format!("\nk8s_yaml(kustomize({}))\n", string("kustomize")));
        }
    }
    configs(
        env,
        &cx,
        if kustomize { "kustomize" } else { "manifests" },
        &mut t,
        &mut out,
    );
    env_objects(
        env,
        &cx,
        if kustomize { "kustomize" } else { "manifests" },
        &mut t,
        &mut out,
    );
    dotenv_secrets(env, &cx, root, &mut t);
    k8s::each_service_documents(&cx, env, |svc, docs| {
        if kustomize {
            out.add(format!("kustomize/{}.yaml", svc.k8s_name), docs);
            t.push('\n');
        } else {
            let file = format!("manifests/{}.yaml", svc.k8s_name);
            out.add(&file, docs);
            t.push_str(&format!("\nk8s_yaml({})\n", string(&file)));
        }
        let kw = resource_kwargs(env, graph, svc);
        t.push_str(&format!(
            "k8s_resource({}{}{})\n",
            string(&svc.k8s_name),
            if kw.is_empty() { "" } else { ", " },
            kw.join(", ")
        ));
    });
    out.add("Tiltfile", t);
    out
}

/// The Tiltfile's first lines: what wrote it, the contexts it may deploy
/// to, Tilt's settings and the default registry.
fn header(env: &EnvModel) -> String {
    let e = env.settings();
    let mut t = String::new();
    t.push_str(&format!(
        "# Generated by shipc for env `{}`. Do not edit: change the .ship files and run `shipc compile`.\n",
        env.name
    ));
    t.push_str("# Run: tilt up (from this folder)\n");
    if e.context().is_none() {
        t.push_str("# The env names no `cluster.context`: Tilt's own allow-list applies (it deploys only to\n# local clusters such as kind-*, k3d-*, minikube, docker-desktop, unless the env lists `tilt.allow_contexts`).\n");
    }
    t.push('\n');
    let mut contexts: Vec<String> = e.allow_contexts().into_iter().map(str::to_string).collect();
    if let Some(c) = e.context_name() {
        contexts.push(c.to_string());
    }
    contexts.sort();
    contexts.dedup();
    if !contexts.is_empty() {
        t.push_str(&format!("allow_k8s_contexts({})\n", list(&contexts)));
    }
    if let Some(secs) = e
        .tilt_settings()
        .and_then(TiltSettings::upsert_timeout)
        .and_then(k8s::seconds)
    {
        t.push_str(&format!(
            "update_settings(k8s_upsert_timeout_secs={secs})\n"
        ));
    }
    if let Some(reg) = e.registry().and_then(Value::as_str) {
        t.push_str(&format!("default_registry({})\n", string(reg)));
    }
    t
}

/// Flux must not fight Tilt over the same objects while developing: the
/// env's `tilt.suspend_flux` Kustomizations are suspended once per `tilt up`.
fn suspend_flux(env: &EnvModel, kubectl_ctx: &[String], t: &mut String) {
    let e = env.settings();
    let suspend: Vec<&str> = e.suspend_flux();
    if !suspend.is_empty() {
        let each = |verb: &str| -> Vec<String> {
            let script: Vec<String> = suspend
                .iter()
                .map(|k| {
                    let mut argv: Vec<String> = vec![
                        "flux".into(),
                        verb.into(),
                        "kustomization".into(),
                        (*k).to_string(),
                        "--namespace".into(),
                        "flux-system".into(),
                    ];
                    argv.extend(kubectl_ctx.iter().cloned());
                    argv.iter()
                        .map(|a| shell_word(a))
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .collect();
            vec![
                "sh".into(),
                "-c".into(),
                format!("set -e; {}", script.join("; ")),
            ]
        };
        t.push_str(
            "\n# Flux must not fight Tilt over this namespace: its Kustomizations are suspended\n# once per `tilt up` (a resource every service waits for) and resumed by `tilt down`.\n",
        );
        t.push_str(&format!(
            "local_resource({}, cmd={}, labels={})\n",
            string(FLUX_SUSPEND),
            list(&each("suspend")),
            list(&["flux"])
        ));
        t.push_str(&format!(
            "if config.tilt_subcommand == \"down\":\n    local({})\n",
            list(&each("resume"))
        ));
    }
}

/// Infra is deployed by GitOps, never by Tilt: a `local_resource` checks
/// that each infra exists, and the services that reference infra wait for it.
fn infra_health_check(env: &EnvModel, cx: &Context<'_>, kubectl_ctx: &[String], t: &mut String) {
    // Infra health check.
    let infra_needed = !env.infras.is_empty();
    if infra_needed {
        let mut script: Vec<String> = Vec::new();
        for i in env.infras.values() {
            let ns = cx.namespace_of(i);
            let target = i
                .infra()
                .health()
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| {
                    let host = i
                        .infra()
                        .host()
                        .and_then(Value::as_str)
                        .unwrap_or(&i.k8s_name);
                    format!("service/{}", host.split('.').next().unwrap_or(host))
                });
            let mut argv: Vec<String> = vec!["kubectl".into()];
            argv.extend(kubectl_ctx.iter().cloned());
            argv.extend(["--namespace".into(), ns, "get".into(), target]);
            script.push(
                argv.iter()
                    .map(|a| shell_word(a))
                    .collect::<Vec<_>>()
                    .join(" "),
            );
        }
        let cmd = vec![
            "sh".to_string(),
            "-c".to_string(),
            format!("set -e; {}", script.join("; ")),
        ];
        t.push_str("\n# Infra is deployed by GitOps, never by Tilt: check that it exists.\n");
        t.push_str(&format!(
            "local_resource({}, cmd={}, labels={})\n",
            string("infra-health-check"),
            list(&cmd),
            list(&["infra"])
        ));
    }
}

/// The keyword arguments of a service's `k8s_resource`: port forwards,
/// labels, the resources it waits for.
fn resource_kwargs(env: &EnvModel, graph: &DepGraph, svc: &crate::model::Decl) -> Vec<String> {
    let mut kw: Vec<String> = Vec::new();
    let forwards: Vec<String> = svc
        .service()
        .port_forwards()
        .map(Value::as_list)
        .unwrap_or(&[])
        .iter()
        .map(view::PortForward::of)
        .filter_map(|f| {
            let local = f.local().and_then(Value::as_int)?;
            let port = match f.port().map(|p| &p.kind) {
                Some(V::Int(n)) => *n,
                Some(V::Str(label)) => svc.service().port_number(label)?,
                _ => return None,
            };
            Some(format!("port_forward({local}, {port})"))
        })
        .collect();
    if !forwards.is_empty() {
        kw.push(format!("port_forwards=[{}]", forwards.join(", ")));
    }
    push_labels(&mut kw, svc);
    let deps = resource_deps(env, graph, svc);
    if !deps.is_empty() {
        kw.push(format!("resource_deps={}", list(&deps)));
    }
    kw
}

/// The resource that suspends Flux while Tilt runs.
pub(super) const FLUX_SUSPEND: &str = "flux-suspend";

/// Does the env suspend Flux Kustomizations while Tilt runs?
pub(super) fn suspends_flux(env: &EnvModel) -> bool {
    !env.settings().suspend_flux().is_empty()
}

/// Text for a `#` comment: no character can end the comment line.
pub(super) fn comment_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() || c == '\u{2028}' || c == '\u{2029}' {
                '?'
            } else {
                c
            }
        })
        .collect()
}

/// The Tilt resource names a service waits for: the services it references
/// (by their suffixed names) and the infra health check.
fn resource_deps(env: &EnvModel, graph: &DepGraph, svc: &crate::model::Decl) -> Vec<String> {
    let mut deps: Vec<String> = Vec::new();
    if suspends_flux(env) {
        deps.push(FLUX_SUSPEND.into());
    }
    for d in graph.deps(&svc.id) {
        match d.kind {
            DeclKind::Service => {
                if let Some(s) = env.services.get(&d.name) {
                    deps.push(s.k8s_name.clone());
                }
            }
            DeclKind::Infra => deps.push("infra-health-check".into()),
            DeclKind::Image => {
                if let Some(img) = env.images.get(&d.name) {
                    if img.image().pre_build().is_some() {
                        deps.push(build::pre_build_name(img));
                    }
                }
            }
            _ => {}
        }
    }
    deps.extend(config_deps(env, graph, svc));
    deps.sort();
    deps.dedup();
    deps
}

/// The config resources a service waits for.
pub(super) fn config_deps(
    env: &EnvModel,
    graph: &DepGraph,
    svc: &crate::model::Decl,
) -> Vec<String> {
    graph
        .deps(&svc.id)
        .into_iter()
        .filter(|d| d.kind == DeclKind::Config)
        .filter_map(|d| env.configs.get(&d.name))
        .map(|c| c.k8s_name.clone())
        .collect()
}

/// Each config's ConfigMap as a manifest in `dir`, and a Tilt resource of
/// its own (labelled `config`) that the services using it wait for. With
/// the kustomize strategy the kustomization loads the manifest.
pub(super) fn configs(
    env: &EnvModel,
    cx: &k8s::Context<'_>,
    dir: &str,
    t: &mut String,
    out: &mut OutputTree,
) {
    for c in env.configs.values() {
        let object = k8s::config::config_map(cx, c);
        let file = format!("{dir}/{}.yaml", c.k8s_name);
        out.add(&file, yaml::to_string(&object.value));
        if dir != "kustomize" {
            t.push_str(&format!("\nk8s_yaml({})\n", string(&file)));
        } else {
            t.push('\n');
        }
        t.push_str(&format!(
            "k8s_resource(new_name={}, objects={}, labels={})\n",
            string(&c.k8s_name),
            list(&[format!("{}:configmap", c.k8s_name)]),
            list(&["config"])
        ));
    }
}

/// The manifest file of an env's NetworkPolicies.
fn objects_file(env: &EnvModel) -> String {
    format!("{}.yaml", k8s::env_objects_name(env))
}

/// The env-wide objects (raw `object` declarations; with
/// `network_policy = "graph"` the default-deny and infra NetworkPolicies)
/// as a manifest in `dir`, and a Tilt resource of their own (labelled
/// `objects`). With the kustomize strategy the
/// kustomization loads the manifest.
pub(super) fn env_objects(
    env: &EnvModel,
    cx: &k8s::Context<'_>,
    dir: &str,
    t: &mut String,
    out: &mut OutputTree,
) {
    let objects = k8s::env_objects(cx);
    if objects.is_empty() {
        return;
    }
    let file = format!("{dir}/{}", objects_file(env));
    out.add(&file, yaml::documents(objects.iter().map(|o| &o.value)));
    if dir != "kustomize" {
        t.push_str(&format!("\nk8s_yaml({})\n", string(&file)));
    } else {
        t.push('\n');
    }
    let names: Vec<String> = objects
        .iter()
        .map(|o| format!("{}:{}", o.name, o.kind.to_ascii_lowercase()))
        .collect();
    t.push_str(&format!(
        "k8s_resource(new_name={}, objects={}, labels={})\n",
        string(&k8s::env_objects_name(env)),
        list(&names),
        list(&["objects"])
    ));
}

/// `secrets { dotenv = "…" }`: Secrets for the dev namespace, made by Tilt
/// at `tilt up` from a local file the project keeps out of git — shipc
/// writes the names and keys the env uses, never a value. Each line of the
/// file is `SECRET.KEY=value` (`#` comments, `export`, quotes allowed);
/// `secret(name, key)` reads `name.key`, `secret_files(name, …)` every
/// `name.*`. A missing file or entry stops the Tiltfile with the list of
/// what is needed, and so does a file that git tracks or does not ignore.
pub(super) fn dotenv_secrets(env: &EnvModel, cx: &k8s::Context<'_>, root: &str, t: &mut String) {
    let Some(path) = env
        .settings()
        .secrets()
        .and_then(|s| view::SecretsSettings::of(s).dotenv())
        .and_then(Value::as_str)
    else {
        return;
    };
    let uses = env.secret_uses();
    if uses.is_empty() {
        return;
    }
    let file = join_root(root, path);
    let ignored_check = format!(
        "git -C {root} rev-parse --is-inside-work-tree >/dev/null 2>&1 || exit 0; git -C {root} check-ignore -q -- {rel} || {{ echo {msg} >&2; exit 1; }}",
        root = shell_word(if root.is_empty() { "." } else { root }),
        rel = shell_word(path),
        msg = shell_word(&format!(
            "{path} holds secrets but git does not ignore it: add it to .gitignore"
        )),
    );
    let mut labels = std::collections::BTreeMap::new();
    labels.insert(
        "app.kubernetes.io/managed-by".to_string(),
        "shipc".to_string(),
    );
    labels.insert("app.kubernetes.io/part-of".to_string(), cx.project_name());
    labels.insert("ship.dev/env".to_string(), env.label());
    t.push_str(&format!(
        r##"
# Secrets of this dev env from {shown} (`SECRET.KEY=value` lines), read by
# Tilt at `tilt up`; shipc never sees a value. Keep the file out of git.
local({check}, quiet=True)

def _ship_dotenv(path):
    if not os.path.exists(path):
        fail("secrets: create " + path + " with one `SECRET.KEY=value` line per key this env uses: " + ", ".join(_ship_secret_keys))
        return {{}}
    out = {{}}
    for line in str(read_file(path)).splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export "):].strip()
        k, sep, v = line.partition("=")
        if not sep:
            continue
        k = k.strip()
        v = v.strip()
        if len(v) >= 2 and v[0] == v[-1] and v[0] in ("'", '"'):
            v = v[1:-1]
        out[k] = v
    return out

def _ship_secret(values, name, keys, whole):
    data = {{}}
    for k in keys:
        v = values.get(name + "." + k)
        if v == None:
            fail("secrets: " + {shown_lit} + " has no `" + name + "." + k + "=`")
            continue
        data[k] = v
    if whole:
        for full in values:
            if full.startswith(name + "."):
                data[full[len(name) + 1:]] = values[full]
    k8s_yaml(encode_yaml({{"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": {{"name": name, "namespace": {ns}, "labels": {labels}}}, "stringData": data}}))

"##,
        shown = path,
        shown_lit = string(path),
        check = string(&ignored_check),
        ns = string(&cx.namespace()),
        labels = super::starlark::dict(&labels),
    ));
    let keys: Vec<String> = uses
        .iter()
        .flat_map(|(n, u)| {
            u.keys
                .iter()
                .map(move |k| format!("{n}.{k}"))
                .chain(u.whole.then(|| format!("{n}.*")))
        })
        .collect();
    t.push_str(&format!(
        "_ship_secret_keys = {}
",
        list(&keys)
    ));
    t.push_str(&format!(
        "_ship_secret_values = _ship_dotenv({})
",
        string(&file)
    ));
    for (name, u) in &uses {
        let keys: Vec<&str> = u.keys.iter().map(String::as_str).collect();
        t.push_str(&format!(
            "_ship_secret(_ship_secret_values, {}, {}, {})
",
            string(name),
            list(&keys),
            if u.whole { "True" } else { "False" }
        ));
    }
}

/// `labels=[…]` for a Tilt resource, when the service has labels.
pub(super) fn push_labels(kw: &mut Vec<String>, svc: &crate::model::Decl) {
    let labels = svc.groups();
    if !labels.is_empty() {
        kw.push(format!("labels={}", list(&labels)));
    }
}
