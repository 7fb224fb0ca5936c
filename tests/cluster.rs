#![allow(clippy::disallowed_methods)] // the tests make projects, run shipc and a server
//! The cluster verbs against a real Kubernetes API server (kube-testserver:
//! real server-side apply, managed fields, conflicts, dry-run; no
//! controllers, so a thread here plays the Deployment controller by
//! writing `status`). One server for the whole file; the scenarios run in
//! order, each in its own namespace.

mod common;
#[path = "common/kube.rs"]
mod kube_server;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Pod, Service};
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube_server::KubeServer;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

const WEB: &str = "docker.io/library/nginx@sha256:1111111111111111111111111111111111111111111111111111111111111111";
const WEB2: &str = "docker.io/library/nginx@sha256:2222222222222222222222222222222222222222222222222222222222222222";
const WORKER: &str = "docker.io/library/busybox@sha256:3333333333333333333333333333333333333333333333333333333333333333";

fn main_ship(ns: &str, web_image: &str, replicas: u32, with_worker: bool) -> String {
    let worker = if with_worker {
        format!(
            "service worker {{\n  image = external(\"{WORKER}\")\n  command = [\"sleep\", \"1d\"]\n  depends_on = [web]\n}}\n"
        )
    } else {
        String::new()
    };
    format!(
        "project {{ name = \"shop\" }}\n\n\
         service web {{\n  image = external(\"{web_image}\")\n  port http = 8080\n  expose {{ http = 80 }}\n  replicas = {replicas}\n}}\n\n\
         {worker}\n\
         env prod {{\n  kind = helmfile\n  cluster {{ context = \"shop-prod\", namespace = \"{ns}\" }}\n}}\n\n\
         env local {{\n  kind = tilt\n  cluster {{ context = \"kind-shop\", namespace = \"{ns}-dev\" }}\n}}\n"
    )
}

struct Project {
    dir: PathBuf,
    kubeconfig: PathBuf,
}

impl Project {
    fn new(server: &KubeServer, tag: &str, ship: &str) -> Project {
        let dir = common::temp_project(&format!("cluster-{tag}"), &[("ship/main.ship", ship)]);
        let kubeconfig = server.kubeconfig_named(&dir, "shop-prod");
        Project { dir, kubeconfig }
    }

    fn write(&self, ship: &str) {
        std::fs::write(self.dir.join("ship/main.ship"), ship).unwrap();
    }

    /// Run shipc with this project's kubeconfig: (code, stdout, stderr).
    fn shipc(&self, args: &[&str]) -> (i32, String, String) {
        run(&self.dir, &self.kubeconfig, args)
    }
}

fn run(dir: &Path, kubeconfig: &Path, args: &[&str]) -> (i32, String, String) {
    common::shipc_env(dir, args, &[("KUBECONFIG", kubeconfig.as_os_str())])
}

/// Plays the Deployment controller: every Deployment of `ns` whose spec
/// the "controller" has not seen becomes available, while `healthy`.
struct Controller {
    stop: Arc<AtomicBool>,
    healthy: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Controller {
    fn start(kubeconfig: PathBuf, ns: &str) -> Controller {
        let stop = Arc::new(AtomicBool::new(false));
        let healthy = Arc::new(AtomicBool::new(true));
        let (s, h, ns) = (stop.clone(), healthy.clone(), ns.to_string());
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let client = client_of(&kubeconfig).await;
                let api: Api<Deployment> = Api::namespaced(client, &ns);
                while !s.load(Ordering::SeqCst) {
                    if h.load(Ordering::SeqCst) {
                        if let Ok(list) = api.list(&Default::default()).await {
                            for d in list.items {
                                let generation = d.metadata.generation.unwrap_or(0);
                                let seen = d.status.as_ref().and_then(|s| s.observed_generation);
                                if seen == Some(generation) {
                                    continue;
                                }
                                let r = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
                                let status = serde_json::json!({"status": {
                                    "observedGeneration": generation, "replicas": r,
                                    "updatedReplicas": r, "readyReplicas": r, "availableReplicas": r}});
                                let name = d.metadata.name.clone().unwrap_or_default();
                                let _ = api
                                    .patch_status(&name, &PatchParams::default(), &Patch::Merge(&status))
                                    .await;
                            }
                        }
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            });
        });
        Controller {
            stop,
            healthy,
            thread: Some(thread),
        }
    }
}

impl Drop for Controller {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn client_of(kubeconfig: &Path) -> kube::Client {
    let k = kube::config::Kubeconfig::read_from(kubeconfig).unwrap();
    let c = kube::Config::from_custom_kubeconfig(k, &Default::default())
        .await
        .unwrap();
    kube::Client::try_from(c).unwrap()
}

fn block<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

async fn deployment(server: &KubeServer, ns: &str, name: &str) -> Option<Deployment> {
    let api: Api<Deployment> = Api::namespaced(server.client().await, ns);
    api.get_opt(name).await.unwrap()
}

async fn service(server: &KubeServer, ns: &str, name: &str) -> Option<Service> {
    let api: Api<Service> = Api::namespaced(server.client().await, ns);
    api.get_opt(name).await.unwrap()
}

fn image_of(d: &Deployment) -> String {
    d.spec
        .as_ref()
        .unwrap()
        .template
        .spec
        .as_ref()
        .unwrap()
        .containers[0]
        .image
        .clone()
        .unwrap()
}

#[test]
fn cluster_verbs_against_a_real_api_server() {
    let Some(server) = KubeServer::start("verbs") else {
        return;
    };
    binding_refuses_the_wrong_cluster_before_any_request(&server);
    plan_apply_noop_update_history_rollback(&server);
    ownership_conflicts_and_adoption(&server);
    prune_keeps_namespaces_and_volumes(&server);
    rbac_and_network_policies_apply_and_prune(&server);
    atomic_restores_the_previous_revision(&server);
    status_reports_drift_and_readiness(&server);
    errors_have_codes(&server);
    a_failed_job_stops_the_apply(&server);
    infra_must_be_there(&server);
    flux_releases_reconcile_and_wait(&server);
}

fn binding_refuses_the_wrong_cluster_before_any_request(server: &KubeServer) {
    let ns = "bind";
    let p = Project::new(server, "bind", &main_ship(ns, WEB, 1, false));
    // The kubeconfig's only context is `kube-testserver`: not the env's.
    let (code, _, err) = run(&p.dir, &server.kubeconfig, &["plan", "--env", "prod"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("K008") && err.contains("shop-prod") && err.contains("kube-testserver"),
        "{err}"
    );
    let (code, _, err) = p.shipc(&["plan", "--env", "prod", "--context", "kube-testserver"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("K008"), "{err}");
    let (code, _, err) = p.shipc(&["apply", "--env", "local", "--yes"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("tilt up"), "{err}");
    // Without a terminal, apply needs --yes (and changed nothing).
    let (code, _, err) = p.shipc(&["apply", "--env", "prod", "--skip-verify"]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("--yes"), "{err}");
    assert!(block(deployment(server, ns, "web")).is_none());
}

fn plan_apply_noop_update_history_rollback(server: &KubeServer) {
    let ns = "shop";
    let p = Project::new(server, "flow", &main_ship(ns, WEB, 1, true));
    let _controller = Controller::start(server.kubeconfig.clone(), ns);

    let (code, out, err) = p.shipc(&["plan", "--env", "prod"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.contains("+ create  Namespace shop"), "{out}");
    assert!(out.contains("+ create  Deployment shop/web"), "{out}");
    assert!(
        out.contains("Plan: 4 to create, 0 to update, 0 to delete, 0 unchanged."),
        "{out}"
    );

    let (code, out, err) = p.shipc(&[
        "apply",
        "--env",
        "prod",
        "--yes",
        "--skip-verify",
        "--timeout",
        "60s",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("revision 1"), "{err}");
    // Waves: web (and its Service) are ready before worker is written.
    let web_ready = err.find("ready      Deployment shop/web").expect(&err);
    let worker_created = err.find("created    Deployment shop/worker").expect(&err);
    assert!(web_ready < worker_created, "{err}");
    let d = block(deployment(server, ns, "web")).expect("web applied");
    let labels = d.metadata.labels.clone().unwrap();
    assert_eq!(
        labels.get("ship.dev/project").map(String::as_str),
        Some("shop")
    );
    assert_eq!(labels.get("ship.dev/env").map(String::as_str), Some("prod"));
    assert_eq!(image_of(&d), WEB);
    let managers: Vec<String> = d
        .metadata
        .managed_fields
        .unwrap()
        .into_iter()
        .filter_map(|m| m.manager)
        .collect();
    assert!(managers.contains(&"shipc".to_string()), "{managers:?}");

    // Nothing changed: plan exits 0, apply records nothing.
    let (code, out, err) = p.shipc(&["plan", "--env", "prod"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("0 to create, 0 to update, 0 to delete, 4 unchanged"),
        "{out}"
    );
    let (code, _, err) = p.shipc(&["apply", "--env", "prod", "--yes", "--skip-verify"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("up to date"), "{err}");

    // A new digest and replica count: a field-level update.
    p.write(&main_ship(ns, WEB2, 2, true));
    let (code, out, err) = p.shipc(&["plan", "--env", "prod"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.contains("~ update  Deployment shop/web"), "{out}");
    assert!(out.contains("spec.replicas: 1 → 2"), "{out}");
    assert!(
        out.contains(&format!(
            "spec.template.spec.containers[web].image: {WEB} → {WEB2}"
        )),
        "{out}"
    );
    let (code, _, err) = p.shipc(&["plan", "--env", "prod", "--format", "json"]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = p.shipc(&["apply", "--env", "prod", "--yes", "--skip-verify"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("revision 2") && err.contains("1 configured"),
        "{err}"
    );
    assert_eq!(
        image_of(&block(deployment(server, ns, "web")).unwrap()),
        WEB2
    );

    let (code, out, err) = p.shipc(&["history", "--env", "prod"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("superseded") && out.contains("deployed"),
        "{out}"
    );
    assert!(out.contains(&format!("image web/web={WEB2}")), "{out}");

    // Rollback re-applies revision 1 exactly and records revision 3.
    let (code, _, err) = p.shipc(&["rollback", "--env", "prod", "--yes"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("revision 3"), "{err}");
    let d = block(deployment(server, ns, "web")).unwrap();
    assert_eq!(image_of(&d), WEB);
    assert_eq!(d.spec.unwrap().replicas, Some(1));
    let (_, out, _) = p.shipc(&["history", "--env", "prod", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let revs = v["revisions"].as_array().unwrap();
    assert_eq!(revs.len(), 3, "{out}");
    assert_eq!(revs[2]["description"], "rollback to 1");
    assert_eq!(revs[2]["status"], "deployed");
    let (code, _, err) = p.shipc(&["rollback", "--env", "prod", "--yes", "--to", "9"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("K011"), "{err}");
}

fn ownership_conflicts_and_adoption(server: &KubeServer) {
    let ns = "owned";
    let p = Project::new(server, "owned", &main_ship(ns, WEB, 1, false));
    // A Service of the same name that a Helm release owns.
    block(async {
        let client = server.client().await;
        let nsapi: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
        let n: k8s_openapi::api::core::v1::Namespace =
            serde_json::from_value(serde_json::json!({"metadata": {"name": ns}})).unwrap();
        nsapi.create(&PostParams::default(), &n).await.unwrap();
        let api: Api<Service> = Api::namespaced(client, ns);
        let s: Service = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web", "annotations": {"meta.helm.sh/release-name": "web", "meta.helm.sh/release-namespace": ns}},
            "spec": {"ports": [{"port": 80}]}
        }))
        .unwrap();
        api.create(&PostParams::default(), &s).await.unwrap();
    });
    let (code, _, err) = p.shipc(&[
        "apply",
        "--env",
        "prod",
        "--yes",
        "--skip-verify",
        "--wait=false",
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("P005") && err.contains("Helm release"),
        "{err}"
    );
    assert!(err.contains("nothing was changed"), "{err}");
    assert!(
        block(deployment(server, ns, "web")).is_none(),
        "refused before any write"
    );
    let (code, _, err) = p.shipc(&[
        "apply",
        "--env",
        "prod",
        "--yes",
        "--skip-verify",
        "--wait=false",
        "--adopt",
    ]);
    assert_eq!(code, 0, "{err}");
    let s = block(service(server, ns, "web")).unwrap();
    assert_eq!(
        s.metadata
            .labels
            .unwrap()
            .get("ship.dev/env")
            .map(String::as_str),
        Some("prod")
    );

    // Another field manager changes replicas: a conflict, named.
    block(async {
        let api: Api<Deployment> = Api::namespaced(server.client().await, ns);
        let patch = serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": 5}});
        api.patch(
            "web",
            &PatchParams::apply("kubectl-scale").force(),
            &Patch::Apply(&patch),
        )
        .await
        .unwrap();
    });
    let (code, _, err) = p.shipc(&["plan", "--env", "prod"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("K005") && err.contains("kubectl-scale"),
        "{err}"
    );
    let (code, out, err) = p.shipc(&["plan", "--env", "prod", "--adopt"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.contains("spec.replicas: 5 → 1"), "{out}");
}

fn prune_keeps_namespaces_and_volumes(server: &KubeServer) {
    let ns = "prune";
    let p = Project::new(server, "prune", &main_ship(ns, WEB, 1, true));
    let (code, _, err) = p.shipc(&[
        "apply",
        "--env",
        "prod",
        "--yes",
        "--skip-verify",
        "--wait=false",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(block(deployment(server, ns, "worker")).is_some());
    p.write(&main_ship(ns, WEB, 1, false));
    let (code, out, _) = p.shipc(&["plan", "--env", "prod"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("- delete  Deployment prune/worker"), "{out}");
    // Without --prune the stale object stays.
    let (code, _, err) = p.shipc(&[
        "apply",
        "--env",
        "prod",
        "--yes",
        "--skip-verify",
        "--wait=false",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(block(deployment(server, ns, "worker")).is_some());
    let (code, _, err) = p.shipc(&[
        "apply",
        "--env",
        "prod",
        "--yes",
        "--skip-verify",
        "--wait=false",
        "--prune",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("deleted    Deployment prune/worker"), "{err}");
    assert!(block(deployment(server, ns, "worker")).is_none());
    assert!(block(deployment(server, ns, "web")).is_some());
    let (code, out, _) = p.shipc(&["plan", "--env", "prod"]);
    assert_eq!(code, 0, "{out}");
}

fn rbac_ship(ns: &str, with_rules: bool) -> String {
    let rules = if with_rules {
        "  service_account = true\n  rules = [\n    { resources = [\"pods\"], verbs = [\"get\", \"list\"] },\n    { resources = [\"nodes\"], verbs = [\"list\"], cluster = true },\n  ]\n"
    } else {
        ""
    };
    let objects = if with_rules {
        "object reader {\n  api_version = \"rbac.authorization.k8s.io/v1\"\n  kind = \"ClusterRole\"\n  fields { rules = [{ apiGroups = [\"\"], resources = [\"pods\"], verbs = [\"get\"] }] }\n}\n\n\
         object settings {\n  api_version = \"v1\"\n  kind = \"ConfigMap\"\n  fields { data { mode = \"fast\" } }\n}\n\n"
    } else {
        ""
    };
    format!(
        "project {{ name = \"shop\" }}\n\n\
         service web {{\n  image = external(\"{WEB}\")\n  port http = 8080\n{rules}}}\n\n\
         service worker {{\n  image = external(\"{WORKER}\")\n  env_vars {{ WEB = web.port.http.url }}\n}}\n\n\
         {objects}\
         env prod {{\n  kind = helmfile\n  network_policy = \"graph\"\n  cluster {{ context = \"shop-prod\", namespace = \"{ns}\" }}\n}}\n"
    )
}

/// Roles, cluster roles (cluster-scoped: no namespace) and NetworkPolicies
/// apply, read back as no change, and prune like every other object.
fn rbac_and_network_policies_apply_and_prune(server: &KubeServer) {
    use k8s_openapi::api::networking::v1::NetworkPolicy;
    use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, RoleBinding};
    let ns = "rbac";
    let p = Project::new(server, "rbac", &rbac_ship(ns, true));
    let apply = |extra: &[&str]| {
        let mut args = vec![
            "apply",
            "--env",
            "prod",
            "--yes",
            "--skip-verify",
            "--wait=false",
        ];
        args.extend_from_slice(extra);
        p.shipc(&args)
    };
    let (code, _, err) = apply(&[]);
    assert_eq!(code, 0, "{err}");
    let found = block(async {
        let c = server.client().await;
        let cr: Api<ClusterRole> = Api::all(c.clone());
        let crb: Api<ClusterRoleBinding> = Api::all(c.clone());
        let rb: Api<RoleBinding> = Api::namespaced(c.clone(), ns);
        let np: Api<NetworkPolicy> = Api::namespaced(c, ns);
        (
            cr.get_opt("rbac-web").await.unwrap(),
            crb.get_opt("rbac-web").await.unwrap(),
            rb.get_opt("web").await.unwrap(),
            np.get_opt("web").await.unwrap(),
            np.get_opt("ship-default-deny").await.unwrap(),
        )
    });
    let (cr, crb, rb, np, deny) = found;
    let (pc, cm) = block(async {
        let c = server.client().await;
        let pc: Api<ClusterRole> = Api::all(c.clone());
        let cm: Api<k8s_openapi::api::core::v1::ConfigMap> = Api::namespaced(c, ns);
        (
            pc.get_opt("reader").await.unwrap(),
            cm.get_opt("settings").await.unwrap(),
        )
    });
    assert_eq!(pc.unwrap().rules.unwrap()[0].verbs, ["get"]);
    assert_eq!(cm.unwrap().data.unwrap()["mode"], "fast");
    assert!(cr.is_some() && deny.is_some());
    assert_eq!(crb.unwrap().subjects.unwrap()[0].name, "web");
    assert_eq!(rb.unwrap().role_ref.name, "web");
    let ingress = np.unwrap().spec.unwrap().ingress.unwrap();
    let from = ingress[0].from.as_ref().unwrap()[0]
        .pod_selector
        .clone()
        .unwrap();
    assert_eq!(
        from.match_labels.unwrap()["app.kubernetes.io/instance"],
        "worker"
    );
    let (code, out, err) = p.shipc(&["plan", "--env", "prod"]);
    assert_eq!(
        code, 0,
        "applied RBAC and policies are no change: {out}{err}"
    );

    // Rollback restores namespaced objects from the record, but cluster
    // RBAC only ever comes from the source: a record (a Secret in the
    // namespace) must not be a way to grant cluster-wide rights.
    let widened = rbac_ship(ns, true).replace(
        "verbs = [\"list\"], cluster",
        "verbs = [\"list\", \"watch\"], cluster",
    );
    p.write(&widened);
    let (code, _, err) = apply(&[]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = p.shipc(&["rollback", "--env", "prod", "--yes", "--wait=false"]);
    assert_eq!(code, 0, "{err}");
    let verbs = block(async {
        let cr: Api<ClusterRole> = Api::all(server.client().await);
        cr.get("rbac-web").await.unwrap().rules.unwrap()[0]
            .verbs
            .clone()
    });
    assert_eq!(verbs, ["list", "watch"]);
    p.write(&rbac_ship(ns, true));
    let (code, _, err) = apply(&[]);
    assert_eq!(code, 0, "{err}");

    p.write(&rbac_ship(ns, false));
    let (code, _, err) = apply(&["--prune"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("deleted    ClusterRole rbac-web"), "{err}");
    assert!(err.contains("deleted    ClusterRole reader"), "{err}");
    assert!(err.contains("deleted    ConfigMap rbac/settings"), "{err}");
    let gone = block(async {
        let cr: Api<ClusterRole> = Api::all(server.client().await);
        cr.get_opt("rbac-web").await.unwrap()
    });
    assert!(gone.is_none());
}

fn atomic_restores_the_previous_revision(server: &KubeServer) {
    let ns = "atomic";
    let p = Project::new(server, "atomic", &main_ship(ns, WEB, 1, false));
    let controller = Controller::start(server.kubeconfig.clone(), ns);
    let (code, _, err) = p.shipc(&[
        "apply",
        "--env",
        "prod",
        "--yes",
        "--skip-verify",
        "--timeout",
        "60s",
    ]);
    assert_eq!(code, 0, "{err}");
    // The next rollout never becomes available.
    controller.healthy.store(false, Ordering::SeqCst);
    p.write(&main_ship(ns, WEB2, 1, true));
    let (code, _, err) = p.shipc(&[
        "apply",
        "--env",
        "prod",
        "--yes",
        "--skip-verify",
        "--atomic",
        "--timeout",
        "3s",
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("K007") && err.contains("Deployment atomic/web"),
        "{err}"
    );
    assert!(err.contains("restored revision 1"), "{err}");
    let d = block(deployment(server, ns, "web")).unwrap();
    assert_eq!(image_of(&d), WEB, "the previous digest is back");
    assert!(
        block(deployment(server, ns, "worker")).is_none(),
        "what the failed apply added is gone"
    );
    let (_, out, _) = p.shipc(&["history", "--env", "prod"]);
    assert!(out.contains("failed"), "{out}");
    controller.healthy.store(true, Ordering::SeqCst);
}

fn status_reports_drift_and_readiness(server: &KubeServer) {
    let ns = "status";
    let p = Project::new(server, "status", &main_ship(ns, WEB, 1, false));
    let _controller = Controller::start(server.kubeconfig.clone(), ns);
    let (code, _, err) = p.shipc(&[
        "apply",
        "--env",
        "prod",
        "--yes",
        "--skip-verify",
        "--timeout",
        "60s",
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = p.shipc(&["status", "--env", "prod"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("ready") && out.contains("Deployment status/web  1/1 ready"),
        "{out}"
    );
    // A pod that runs another digest than the pin: drift.
    block(async {
        let api: Api<Pod> = Api::namespaced(server.client().await, ns);
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web-1", "labels": {"app.kubernetes.io/instance": "web"}},
            "spec": {"containers": [{"name": "web", "image": WEB}]}
        }))
        .unwrap();
        api.create(&PostParams::default(), &pod).await.unwrap();
        let status = serde_json::json!({"status": {"containerStatuses": [{
            "name": "web", "image": WEB, "imageID": format!("docker.io/library/nginx@{}", &WEB2[WEB2.find('@').unwrap() + 1..]),
            "ready": true, "restartCount": 3, "started": true, "state": {"running": {}}}]}});
        api.patch_status("web-1", &PatchParams::default(), &Patch::Merge(&status))
            .await
            .unwrap();
    });
    let (code, out, err) = p.shipc(&["status", "--env", "prod", "--format", "json"]);
    assert_eq!(code, 2, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let web = &v["status"]["services"][0];
    assert_eq!(web["health"], "drift", "{out}");
    assert_eq!(web["restarts"], 3, "{out}");
    assert_eq!(web["images"][0]["drift"], true, "{out}");
}

fn errors_have_codes(server: &KubeServer) {
    // An HTTPRoute without the Gateway API CRDs: K004 at the service.
    let ns = "gw";
    let ship = main_ship(ns, WEB, 1, false).replace(
        "replicas = 1\n",
        "replicas = 1\n  host = \"shop.example.com\"\n",
    )
    .replace("kind = helmfile\n", "kind = helmfile\n  routing = \"gateway\"\n  gateway { name = \"public\", namespace = \"gateway\" }\n");
    let p = Project::new(server, "gw", &ship);
    let (code, _, err) = p.shipc(&["plan", "--env", "prod"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("K004") && err.contains("HTTPRoute"), "{err}");
    assert!(
        err.contains("main.ship"),
        "the error points at the source: {err}"
    );

    // Nothing listens: K001.
    let dir = p.dir.clone();
    let text = std::fs::read_to_string(&p.kubeconfig).unwrap();
    let re_port = format!("127.0.0.1:{}", server.port);
    let dead = dir.join("dead-kubeconfig");
    std::fs::write(&dead, text.replace(&re_port, "127.0.0.1:1")).unwrap();
    let (code, _, err) = run(&dir, &dead, &["plan", "--env", "prod"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("K001"), "{err}");

    // No such context: K013.
    let (code, _, err) = p.shipc(&["status", "--env", "prod", "--context", "nope"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("K008") || err.contains("K013"), "{err}");
}

fn a_failed_job_stops_the_apply(server: &KubeServer) {
    let ns = "jobs";
    let ship = format!(
        "project {{ name = \"shop\" }}\n\
         service migrate {{\n  image = external(\"{WORKER}\")\n  workload = \"job\"\n  command = [\"migrate\"]\n}}\n\
         env prod {{\n  kind = helmfile\n  cluster {{ context = \"shop-prod\", namespace = \"{ns}\" }}\n}}\n"
    );
    let p = Project::new(server, "jobs", &ship);
    // Play the Job controller: the Job fails.
    let failer = {
        let kubeconfig = server.kubeconfig.clone();
        std::thread::spawn(move || {
            block(async move {
                let api: Api<k8s_openapi::api::batch::v1::Job> =
                    Api::namespaced(client_of(&kubeconfig).await, "jobs");
                for _ in 0..300 {
                    if api.get_opt("migrate").await.unwrap().is_some() {
                        let status = serde_json::json!({"status": {"failed": 1, "conditions": [
                            {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
                             "message": "Job has reached the specified backoff limit"}]}});
                        api.patch_status(
                            "migrate",
                            &PatchParams::default(),
                            &Patch::Merge(&status),
                        )
                        .await
                        .unwrap();
                        return;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            })
        })
    };
    let (code, _, err) = p.shipc(&[
        "apply",
        "--env",
        "prod",
        "--yes",
        "--skip-verify",
        "--timeout",
        "60s",
    ]);
    failer.join().unwrap();
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("K009") && err.contains("backoff limit"),
        "{err}"
    );
    let (_, out, _) = p.shipc(&["history", "--env", "prod"]);
    assert!(out.contains("failed"), "{out}");
}

fn infra_must_be_there(server: &KubeServer) {
    let ns = "infra";
    let ship = main_ship(ns, WEB, 1, false).replace(
        "env prod {",
        "infra redis {\n  chart = \"oci://registry-1.docker.io/bitnamicharts/redis\"\n  version = \"19.6.4\"\n  health = \"statefulset/redis-master\"\n}\n\nenv prod {",
    );
    let p = Project::new(server, "infra", &ship);
    let (code, _, err) = p.shipc(&[
        "apply",
        "--env",
        "prod",
        "--yes",
        "--skip-verify",
        "--wait=false",
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("K010") && err.contains("StatefulSet infra/redis-master"),
        "{err}"
    );
    assert!(err.contains("nothing was changed"), "{err}");
    // --with-infra needs helm: a clear error, nothing applied.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_shipc"))
        .args([
            "apply",
            "--env",
            "prod",
            "--yes",
            "--skip-verify",
            "--with-infra",
        ])
        .current_dir(&p.dir)
        .env("NO_COLOR", "1")
        .env("KUBECONFIG", &p.kubeconfig)
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("`helm` CLI"), "{err}");
    assert!(block(deployment(server, ns, "web")).is_none());
}

/// Install the Flux CRDs (tests/tools/schemas/flux) and `flux-system`.
async fn install_flux(server: &KubeServer) {
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
    let client = server.client().await;
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/tools/schemas/flux");
    let mut names = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
        let crd: CustomResourceDefinition = serde_yaml::from_str(&text).unwrap();
        let name = crd.metadata.name.clone().unwrap();
        crds.patch(
            &name,
            &PatchParams::apply("test").force(),
            &Patch::Apply(&crd),
        )
        .await
        .unwrap();
        names.push(name);
    }
    for name in names {
        for _ in 0..100 {
            let c = crds.get(&name).await.unwrap();
            let established = c
                .status
                .and_then(|s| s.conditions)
                .unwrap_or_default()
                .iter()
                .any(|c| c.type_ == "Established" && c.status == "True");
            if established {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
    let nsapi: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client);
    let n: k8s_openapi::api::core::v1::Namespace =
        serde_json::from_value(serde_json::json!({"metadata": {"name": "flux-system"}})).unwrap();
    let _ = nsapi.create(&PostParams::default(), &n).await;
    // Discovery of the new kinds can lag the Established condition.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
}

/// Plays kustomize-controller: each Kustomization of the env is reported
/// Ready at the remote's head (mode 0), failed there (1), or left alone (2).
struct FluxController {
    stop: Arc<AtomicBool>,
    mode: Arc<std::sync::atomic::AtomicU8>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FluxController {
    fn start(kubeconfig: PathBuf, remote: PathBuf, prefix: &str) -> FluxController {
        let prefix = prefix.to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let mode = Arc::new(std::sync::atomic::AtomicU8::new(0));
        let (s, m) = (stop.clone(), mode.clone());
        let thread = std::thread::spawn(move || {
            block(async move {
                let client = client_of(&kubeconfig).await;
                let gvk = kube::core::GroupVersionKind::gvk(
                    "kustomize.toolkit.fluxcd.io",
                    "v1",
                    "Kustomization",
                );
                let ar = kube::core::ApiResource::from_gvk(&gvk);
                let api: Api<kube::core::DynamicObject> =
                    Api::namespaced_with(client, "flux-system", &ar);
                while !s.load(Ordering::SeqCst) {
                    let head = std::process::Command::new("git")
                        .arg("--git-dir")
                        .arg(&remote)
                        .args(["rev-parse", "main"])
                        .output()
                        .ok()
                        .filter(|o| o.status.success())
                        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
                    let mode = m.load(Ordering::SeqCst);
                    if let (Some(head), true) = (head, mode < 2) {
                        if let Ok(list) = api.list(&Default::default()).await {
                            for k in list.items {
                                let name = k.metadata.name.clone().unwrap_or_default();
                                if !name.starts_with(&prefix) {
                                    continue;
                                }
                                let requested = k
                                    .metadata
                                    .annotations
                                    .as_ref()
                                    .and_then(|a| a.get("reconcile.fluxcd.io/requestedAt"))
                                    .cloned()
                                    .unwrap_or_default();
                                let rev = format!("main@sha1:{head}");
                                let status = if mode == 0 {
                                    serde_json::json!({"status": {"lastAppliedRevision": rev, "lastAttemptedRevision": rev,
                                        "lastHandledReconcileAt": requested,
                                        "conditions": [{"type": "Ready", "status": "True", "reason": "ReconciliationSucceeded",
                                            "message": format!("Applied revision: {rev}"), "lastTransitionTime": "2026-12-01T00:00:00Z"}]}})
                                } else {
                                    serde_json::json!({"status": {"lastAttemptedRevision": rev, "lastHandledReconcileAt": requested,
                                        "conditions": [{"type": "Ready", "status": "False", "reason": "BuildFailed",
                                            "message": "kustomize build failed: accumulating resources: missing web.yaml", "lastTransitionTime": "2026-12-01T00:00:00Z"}]}})
                                };
                                let _ = api
                                    .patch_status(
                                        &name,
                                        &PatchParams::default(),
                                        &Patch::Merge(&status),
                                    )
                                    .await;
                            }
                        }
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
                }
            });
        });
        FluxController {
            stop,
            mode,
            thread: Some(thread),
        }
    }
}

impl Drop for FluxController {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn flux_ship(replicas: u32) -> String {
    format!(
        "project {{ name = \"shop\" }}\n\
         service web {{\n  image = external(\"{WEB}\")\n  port http = 8080\n  expose {{ http = 80 }}\n  replicas = {replicas}\n}}\n\
         env prod {{\n  kind = flux\n  cluster {{ context = \"shop-prod\", namespace = \"fluxapp\" }}\n  \
         flux {{ git {{ url = \"https://git.example.com/shop/gitops\", branch = \"main\", path = \"./clusters/prod\" }} }}\n}}\n"
    )
}

fn flux_releases_reconcile_and_wait(server: &KubeServer) {
    let have_git = std::process::Command::new("git")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have_git {
        common::skip("git is not installed: the flux release scenario needs it");
        return;
    }
    block(install_flux(server));
    let p = Project::new(server, "flux", &flux_ship(1));
    let remote = p.dir.join("remote.git");
    let st = std::process::Command::new("git")
        .args(["init", "-q", "--bare", "--initial-branch=main"])
        .arg(&remote)
        .status()
        .unwrap();
    assert!(st.success());
    let gitconfig = p.dir.join("gitconfig");
    std::fs::write(
        &gitconfig,
        format!(
            "[user]\n  name = Release Bot\n  email = bot@example.com\n[url \"file://{}\"]\n  insteadOf = https://git.example.com/shop/gitops\n",
            remote.display()
        ),
    )
    .unwrap();
    let shipc = |args: &[&str]| -> (i32, String, String) {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_shipc"))
            .args(args)
            .current_dir(&p.dir)
            .env("NO_COLOR", "1")
            .env("KUBECONFIG", &p.kubeconfig)
            .env("GIT_CONFIG_GLOBAL", &gitconfig)
            .env("SHIPC_CACHE_DIR", p.dir.join("cache"))
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let controller = FluxController::start(server.kubeconfig.clone(), remote.clone(), "shop-");

    // Without --bootstrap the env's Flux objects are not in the cluster:
    // the release is pushed, and the wait says what is missing.
    let (code, _, err) = shipc(&[
        "apply",
        "--env",
        "prod",
        "--yes",
        "--skip-verify",
        "--timeout",
        "3s",
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("K007") && err.contains("--bootstrap"), "{err}");

    let (code, _, err) = shipc(&[
        "apply",
        "--env",
        "prod",
        "--yes",
        "--skip-verify",
        "--bootstrap",
        "--timeout",
        "30s",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("bootstrap: applied GitRepository flux-system/shop-prod"),
        "{err}"
    );
    assert!(
        err.contains("up to date") && err.contains("Flux applied"),
        "{err}"
    );
    let gitrepo = block(async {
        let ar = kube::core::ApiResource::from_gvk(&kube::core::GroupVersionKind::gvk(
            "source.toolkit.fluxcd.io",
            "v1",
            "GitRepository",
        ));
        let api: Api<kube::core::DynamicObject> =
            Api::namespaced_with(server.client().await, "flux-system", &ar);
        api.get("shop-prod").await.unwrap()
    });
    assert!(gitrepo
        .metadata
        .annotations
        .unwrap_or_default()
        .contains_key("reconcile.fluxcd.io/requestedAt"));

    // A new release: pushed, reconciled, waited for.
    let p2 = |r: u32| std::fs::write(p.dir.join("ship/main.ship"), flux_ship(r)).unwrap();
    p2(2);
    let (code, _, err) = shipc(&[
        "apply",
        "--env",
        "prod",
        "--yes",
        "--skip-verify",
        "--timeout",
        "30s",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("Flux applied"), "{err}");
    let (code, out, err) = shipc(&["plan", "--env", "prod"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("Ready=True") && out.contains("Kustomization flux-system/shop-prod-apps"),
        "{out}"
    );

    // Flux fails: its message stops the wait.
    controller.mode.store(1, Ordering::SeqCst);
    p2(3);
    let (code, _, err) = shipc(&[
        "apply",
        "--env",
        "prod",
        "--yes",
        "--skip-verify",
        "--timeout",
        "30s",
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("K009") && err.contains("kustomize build failed"),
        "{err}"
    );

    // Flux never answers: K007 at the deadline.
    controller.mode.store(2, Ordering::SeqCst);
    p2(4);
    let (code, _, err) = shipc(&[
        "apply",
        "--env",
        "prod",
        "--yes",
        "--skip-verify",
        "--timeout",
        "2s",
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("K007"), "{err}");

    // Suspend, status shows it, a release does not wait on a suspended env; resume.
    controller.mode.store(0, Ordering::SeqCst);
    let (code, _, err) = shipc(&["suspend", "--env", "prod"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("suspended Kustomization flux-system/shop-prod-apps"),
        "{err}"
    );
    let (_, out, _) = shipc(&["status", "--env", "prod"]);
    assert!(out.contains("SUSPENDED"), "{out}");
    p2(5);
    let (code, _, err) = shipc(&[
        "apply",
        "--env",
        "prod",
        "--yes",
        "--skip-verify",
        "--timeout",
        "30s",
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("is suspended"), "{err}");
    let (code, _, err) = shipc(&["resume", "--env", "prod"]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = shipc(&["reconcile", "--env", "prod", "--timeout", "30s"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("Flux reconciled"), "{err}");

    // The env's GitRepository now looks like another env's: P005 unless --adopt.
    block(async {
        let ar = kube::core::ApiResource::from_gvk(&kube::core::GroupVersionKind::gvk(
            "source.toolkit.fluxcd.io",
            "v1",
            "GitRepository",
        ));
        let api: Api<kube::core::DynamicObject> =
            Api::namespaced_with(server.client().await, "flux-system", &ar);
        let patch = serde_json::json!({"metadata": {"labels": {"ship.dev/env": "staging"}}});
        api.patch("shop-prod", &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .unwrap();
    });
    p2(6);
    let (code, _, err) = shipc(&[
        "apply",
        "--env",
        "prod",
        "--yes",
        "--skip-verify",
        "--timeout",
        "30s",
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("P005") && err.contains("GitRepository flux-system/shop-prod"),
        "{err}"
    );
    drop(controller);
}
