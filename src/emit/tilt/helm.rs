//! `strategy = "helm"` for the tilt target.

use super::{build_paths, push_labels, suspends_flux, FLUX_SUSPEND};
use crate::emit::k8s::Context;
use crate::emit::starlark::{list, shell_word, string};
use crate::emit::OutputTree;
use crate::graph::DepGraph;
use crate::model::view::ImageUse;
use crate::model::{EnvModel, Value};
use crate::yaml;

/// `strategy = "helm"`: each service is a Helm release of the built-in
/// chart, deployed by Tilt's built-in `k8s_custom_deploy` (`helm upgrade
/// --install --wait --atomic`, then the release's objects read back for Tilt;
/// `helm uninstall` on `tilt down`). No extension is loaded, so the Tiltfile
/// evaluates offline. A `local_resource` per built image builds and pushes
/// it, asks the registry for the digest and writes
/// `tilt-values/<service>.values.yaml`; the release waits for it (the
/// sentinel) and for nothing else, so Tilt's ordering can never form a
/// cycle. Tilt does not inject images; the digest values file does.
pub(super) fn helm_strategy(
    env: &EnvModel,
    graph: &DepGraph,
    cx: &Context<'_>,
    root: &str,
    t: &mut String,
    out: &mut OutputTree,
) {
    for (name, text) in crate::emit::chart::CHART {
        out.add(format!("charts/ship-app/{name}"), *text);
    }
    super::configs(env, cx, "manifests", t, out);
    super::env_objects(env, cx, "manifests", t, out);
    super::dotenv_secrets(env, cx, root, t);
    let namespace = cx.namespace();
    let registry = env
        .settings()
        .registry()
        .and_then(Value::as_str)
        .unwrap_or("localhost:5000")
        .trim_end_matches('/')
        .to_string();
    let kube_ctx: Option<&str> = env.settings().context_name();
    for svc in env.services.values() {
        let objects = crate::emit::chart::chart_objects(cx, svc);
        let mut image_values: Option<serde_json::Value> = None;
        let mut flags: Vec<String> = vec![format!("--values=values/{}.yaml", svc.k8s_name)];
        let mut deps: Vec<String> = Vec::new();
        match svc.service().image().and_then(ImageUse::of) {
            Some(ImageUse::Built(image)) => {
                let (values_file, sentinel) = local_build(env, image, svc, &registry, root, t);
                image_values = Some(serde_json::json!({"repository": env.image_repository(image)}));
                flags.push(format!("--values={values_file}"));
                deps.push(sentinel);
            }
            Some(ImageUse::External(r, _)) => {
                if let Ok(parts) = crate::names::image_ref(r) {
                    let mut image = serde_json::Map::new();
                    image.insert("repository".into(), parts.repository.into());
                    if let Some(d) = parts.digest {
                        image.insert("digest".into(), d.into());
                    }
                    if let Some(tag) = parts.tag {
                        image.insert("tag".into(), tag.into());
                    }
                    image_values = Some(serde_json::Value::Object(image));
                }
            }
            None => {}
        }
        let values = crate::emit::chart::ChartValues {
            image: image_values,
            objects: &objects,
        };
        out.add(
            format!("values/{}.yaml", svc.k8s_name),
            yaml::to_string(&values),
        );
        custom_deploy(svc, &namespace, kube_ctx, flags, !deps.is_empty(), t);
        let mut kw: Vec<String> = Vec::new();
        if suspends_flux(env) {
            deps.push(FLUX_SUSPEND.into());
        }
        deps.extend(super::config_deps(env, graph, svc));
        if !deps.is_empty() {
            kw.push(format!("resource_deps={}", list(&deps)));
        }
        push_labels(&mut kw, svc);
        if !kw.is_empty() {
            t.push_str(&format!(
                "k8s_resource({}, {})\n",
                string(&svc.k8s_name),
                kw.join(", ")
            ));
        }
    }
}

/// A built image under the helm strategy: a `local_resource` that builds
/// and pushes it, asks the registry for the digest and writes the values
/// file the release reads. Returns that file and the resource's name.
fn local_build(
    env: &EnvModel,
    image: &str,
    svc: &crate::model::Decl,
    registry: &str,
    root: &str,
    t: &mut String,
) -> (String, String) {
    let img = env.images.get(image).map(crate::model::Decl::image);
    let repo = format!("{registry}/{}", env.image_repository(image));
    let reference = format!("{repo}:tilt-dev");
    let empty = Value::unknown(svc.name_span);
    let (context, dockerfile) =
        build_paths(img.unwrap_or(crate::model::view::Image::of(&empty)), root);
    let values_file = format!("tilt-values/{}.values.yaml", svc.k8s_name);
    let mut build: Vec<String> = vec![
        "docker".into(),
        "build".into(),
        "-t".into(),
        reference.clone(),
        "-f".into(),
        dockerfile,
    ];
    if let Some(target) = img.and_then(|i| i.target()).and_then(Value::as_str) {
        build.extend(["--target".into(), target.to_string()]);
    }
    for (k, v) in img
        .and_then(|i| i.build_args())
        .map(|b| b.entries().collect::<Vec<_>>())
        .unwrap_or_default()
    {
        build.extend([
            "--build-arg".into(),
            format!("{k}={}", v.as_str().unwrap_or("")),
        ]);
    }
    build.push(context.clone());
    let q = |argv: &[String]| {
        argv.iter()
            .map(|a| shell_word(a))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let script = format!(
        "set -e; mkdir -p tilt-values; {}; {}; ref=$({}); printf 'image:\\n  repository: %s\\n  digest: %s\\n' \"${{ref%@*}}\" \"${{ref#*@}}\" > {}",
        q(&build),
        q(&["docker".into(), "push".into(), reference.clone()]),
        q(&["docker".into(), "inspect".into(), "--format".into(), "{{index .RepoDigests 0}}".into(), reference]),
        shell_word(&values_file)
    );
    let sentinel = format!("build-{}", svc.k8s_name);
    t.push_str(&format!(
        "\nlocal_resource({}, cmd={}, deps={}, labels={})\n",
        string(&sentinel),
        list(&["sh".to_string(), "-c".to_string(), script]),
        list(&[context]),
        list(&["build"])
    ));
    (values_file, sentinel)
}

/// A service's release: `k8s_custom_deploy` with `helm upgrade --install
/// --wait --atomic`, the objects read back for Tilt, `helm uninstall` on
/// `tilt down`.
fn custom_deploy(
    svc: &crate::model::Decl,
    namespace: &str,
    kube_ctx: Option<&str>,
    mut flags: Vec<String>,
    built: bool,
    t: &mut String,
) {
    flags.extend(["--wait".to_string(), "--atomic".to_string()]);
    let q = |argv: &[String]| {
        argv.iter()
            .map(|a| shell_word(a))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let helm_ctx: Vec<String> =
        kube_ctx.map_or(Vec::new(), |c| vec!["--kube-context".into(), c.to_string()]);
    let kubectl_ctx: Vec<String> =
        kube_ctx.map_or(Vec::new(), |c| vec!["--context".into(), c.to_string()]);
    let release = svc.k8s_name.clone();
    let mut install: Vec<String> = vec![
        "helm".into(),
        "upgrade".into(),
        "--install".into(),
        release.clone(),
        "charts/ship-app".into(),
        "--namespace".into(),
        namespace.to_string(),
    ];
    install.extend(helm_ctx.iter().cloned());
    install.extend(flags);
    let mut manifest: Vec<String> = vec![
        "helm".into(),
        "get".into(),
        "manifest".into(),
        release.clone(),
        "--namespace".into(),
        namespace.to_string(),
    ];
    manifest.extend(helm_ctx.iter().cloned());
    let mut get: Vec<String> = vec!["kubectl".into()];
    get.extend(kubectl_ctx);
    get.extend([
        "get".into(),
        "--namespace".into(),
        namespace.to_string(),
        "-o".into(),
        "yaml".into(),
        "-f".into(),
        "-".into(),
    ]);
    // Tilt reads the deployed objects from the apply command's stdout.
    let apply = format!(
        "set -e; {} >&2; {} | {}",
        q(&install),
        q(&manifest),
        q(&get)
    );
    let mut delete: Vec<String> = vec![
        "helm".into(),
        "uninstall".into(),
        release.clone(),
        "--namespace".into(),
        namespace.to_string(),
    ];
    delete.extend(helm_ctx);
    let mut watch = vec![
        "charts/ship-app".to_string(),
        format!("values/{}.yaml", svc.k8s_name),
    ];
    if built {
        watch.push(format!("tilt-values/{}.values.yaml", svc.k8s_name));
    }
    t.push_str(&format!(
        "k8s_custom_deploy({}, apply_cmd={}, delete_cmd={}, deps={})\n",
        string(&release),
        list(&["sh".to_string(), "-c".to_string(), apply]),
        list(&delete),
        list(&watch)
    ));
}
