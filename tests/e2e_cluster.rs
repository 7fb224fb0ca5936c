#![allow(clippy::disallowed_methods)] // the test makes a project and runs shipc
//! The cluster verbs against a real cluster (kind, k3d, …) with
//! controllers: pods really start, rollouts really become available. Runs
//! only when `SHIPC_E2E_KUBECONFIG` names a kubeconfig (its current context
//! is used; everything happens in a fresh namespace `shipc-e2e-<pid>`,
//! deleted at the end). The image must be pullable by the cluster:
//! `SHIPC_E2E_IMAGE` (default: the multi-arch `registry.k8s.io/pause:3.9`
//! by digest). Without the variable the test says so and passes: it is an
//! opt-in suite, not a tool CI installs.

mod common;

use std::path::Path;

const PAUSE: &str =
    "registry.k8s.io/pause@sha256:7031c1b283388d2c2e09b57badb803c05ebed362dc88d84b480cc47f72a21097";

fn shipc(dir: &Path, kubeconfig: &str, args: &[&str]) -> (i32, String, String) {
    common::shipc_env(dir, args, &[("KUBECONFIG", kubeconfig.as_ref())])
}

fn project(ns: &str, image: &str, replicas: u32) -> String {
    format!(
        "project {{ name = \"e2e\" }}\n\
         service web {{\n  image = external(\"{image}\")\n  port http = 8080\n  expose {{ http = 80 }}\n  replicas = {replicas}\n  security = std.security.restricted\n}}\n\
         env prod {{\n  kind = helmfile\n  cluster {{ namespace = \"{ns}\" }}\n}}\n"
    )
}

#[test]
fn apply_status_rollback_on_a_real_cluster() {
    let Ok(kubeconfig) = std::env::var("SHIPC_E2E_KUBECONFIG") else {
        let _ = std::io::Write::write_all(
            &mut std::io::stderr().lock(),
            b"note: SHIPC_E2E_KUBECONFIG is not set: the end-to-end cluster suite did not run\n",
        );
        return;
    };
    let image = std::env::var("SHIPC_E2E_IMAGE").unwrap_or_else(|_| PAUSE.to_string());
    let ns = format!("shipc-e2e-{}", std::process::id());
    let dir = common::temp_project("e2e", &[("ship/main.ship", &project(&ns, &image, 1))]);
    let run = |args: &[&str]| shipc(&dir, &kubeconfig, args);

    let (code, out, err) = run(&["plan", "--env", "prod"]);
    assert_eq!(code, 2, "{out}{err}");
    let (code, _, err) = run(&[
        "apply",
        "--env",
        "prod",
        "--yes",
        "--skip-verify",
        "--timeout",
        "5m",
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = run(&["status", "--env", "prod"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("1/1 ready"), "{out}");
    let (code, out, err) = run(&["plan", "--env", "prod"]);
    assert_eq!(
        code, 0,
        "a real API server's defaults are no change: {out}{err}"
    );

    std::fs::write(dir.join("ship/main.ship"), project(&ns, &image, 2)).unwrap();
    let (code, _, err) = run(&[
        "apply",
        "--env",
        "prod",
        "--yes",
        "--skip-verify",
        "--timeout",
        "5m",
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = run(&["status", "--env", "prod"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("2/2 ready"), "{out}");
    let (code, _, err) = run(&["rollback", "--env", "prod", "--yes", "--timeout", "5m"]);
    assert_eq!(code, 0, "{err}");
    let (_, out, _) = run(&["history", "--env", "prod"]);
    assert!(out.contains("rollback to 1"), "{out}");

    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let k = kube::config::Kubeconfig::read_from(&kubeconfig).unwrap();
            let c = kube::Config::from_custom_kubeconfig(k, &Default::default())
                .await
                .unwrap();
            let api: kube::Api<k8s_openapi::api::core::v1::Namespace> =
                kube::Api::all(kube::Client::try_from(c).unwrap());
            let _ = api.delete(&ns, &Default::default()).await;
        });
}

/// A flux env released through Git to a cluster that runs Flux: needs
/// `SHIPC_E2E_KUBECONFIG` and `SHIPC_E2E_FLUX_REPO` — a Git URL that this
/// machine can push to (with the user's git credentials) and the cluster's
/// Flux can read (`SHIPC_E2E_FLUX_SECRET` names the Secret in
/// `flux-system` with its credentials, if it needs one). The release goes
/// to `./shipc-e2e/<pid>` on branch `shipc-e2e`.
#[test]
fn a_flux_release_on_a_real_cluster() {
    let (Ok(kubeconfig), Ok(repo)) = (
        std::env::var("SHIPC_E2E_KUBECONFIG"),
        std::env::var("SHIPC_E2E_FLUX_REPO"),
    ) else {
        let _ = std::io::Write::write_all(
            &mut std::io::stderr().lock(),
            b"note: SHIPC_E2E_KUBECONFIG and SHIPC_E2E_FLUX_REPO are not both set: the end-to-end flux suite did not run\n",
        );
        return;
    };
    let image = std::env::var("SHIPC_E2E_IMAGE").unwrap_or_else(|_| PAUSE.to_string());
    let secret = std::env::var("SHIPC_E2E_FLUX_SECRET")
        .map(|s| format!(", secret = \"{s}\""))
        .unwrap_or_default();
    let id = std::process::id();
    let ns = format!("shipc-e2e-flux-{id}");
    let text = format!(
        "project {{ name = \"e2e{id}\" }}\n\
         service web {{\n  image = external(\"{image}\")\n  port http = 8080\n  security = std.security.restricted\n}}\n\
         env prod {{\n  kind = flux\n  cluster {{ namespace = \"{ns}\" }}\n  flux {{ git {{ url = \"{repo}\", branch = \"shipc-e2e\", path = \"./shipc-e2e/{id}\"{secret} }}, interval = 1m }}\n}}\n"
    );
    let dir = common::temp_project("e2e-flux", &[("ship/main.ship", &text)]);
    let (code, _, err) = shipc(
        &dir,
        &kubeconfig,
        &[
            "apply",
            "--env",
            "prod",
            "--yes",
            "--skip-verify",
            "--bootstrap",
            "--context",
            &current_context(&kubeconfig),
            "--timeout",
            "10m",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("Flux applied"), "{err}");
    let (code, out, err) = shipc(
        &dir,
        &kubeconfig,
        &[
            "status",
            "--env",
            "prod",
            "--context",
            &current_context(&kubeconfig),
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
}

fn current_context(kubeconfig: &str) -> String {
    let k = kube::config::Kubeconfig::read_from(kubeconfig).unwrap();
    k.current_context.unwrap_or_default()
}
