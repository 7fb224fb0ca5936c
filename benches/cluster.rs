//! `cargo bench --bench cluster`: wall time of `shipc plan` and of a no-op
//! `shipc apply` (the release binary, end to end) for the synthetic
//! project's helmfile env — N services (default 1,000: a Deployment and a
//! Service each, about 2,000 objects) — against kube-testserver on
//! loopback. Targets (issue 12): each under 5 s. Needs kube-testserver
//! (`tests/tools/kube/install-kube-testserver.sh`); without it the bench
//! says so and exits. The service count can be passed as an argument.
#![allow(clippy::disallowed_methods)]

#[path = "../tests/common/mod.rs"]
#[allow(unused)]
mod common;
#[path = "../tests/common/kube.rs"]
mod kube_server;

use std::process::Command;
use std::time::{Duration, Instant};

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1000);
    let Some(server) = kube_server::KubeServer::start("bench") else {
        eprintln!("cluster bench skipped: no kube-testserver");
        return;
    };
    let dir = std::env::temp_dir().join(format!("shipc-cluster-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("ship")).unwrap();
    for (name, text) in shipc::synth::project_files(n) {
        std::fs::write(dir.join("ship").join(name), text).unwrap();
    }
    let mut lock = String::from("version: 1\nenvs:\n  staging:\n    images:\n");
    for i in 0..n {
        lock.push_str(&format!(
            "      svc{i}: {{ repository: registry.example.com/synth/svc{i}, digest: \"sha256:{:064x}\" }}\n",
            i + 1
        ));
    }
    std::fs::write(dir.join("ship.lock"), lock).unwrap();
    // The infra release the env needs, as Helm would have installed it.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use k8s_openapi::api::core::v1::{Namespace, Service};
        let client = server.client().await;
        let ns: Namespace =
            serde_json::from_value(serde_json::json!({"metadata": {"name": "synth"}})).unwrap();
        kube::Api::<Namespace>::all(client.clone())
            .create(&Default::default(), &ns)
            .await
            .unwrap();
        let api: kube::Api<Service> = kube::Api::namespaced(client, "synth");
        let s: Service = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "postgres"}, "spec": {"ports": [{"port": 5432}]}
        }))
        .unwrap();
        api.create(&Default::default(), &s).await.unwrap();
    });
    let shipc = |args: &[&str]| -> (Duration, i32, String) {
        let started = Instant::now();
        let o = Command::new(env!("CARGO_BIN_EXE_shipc"))
            .args(args)
            .current_dir(&dir)
            .env("KUBECONFIG", &server.kubeconfig)
            .output()
            .unwrap();
        (
            started.elapsed(),
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (first_plan, code, err) = shipc(&["plan", "--env", "staging"]);
    assert_eq!(code, 2, "{err}");
    let (first_apply, code, err) = shipc(&[
        "apply",
        "--env",
        "staging",
        "--yes",
        "--skip-verify",
        "--wait=false",
    ]);
    assert_eq!(code, 0, "{err}");
    let mut plans = Vec::new();
    let mut applies = Vec::new();
    for _ in 0..5 {
        let (t, code, err) = shipc(&["plan", "--env", "staging"]);
        assert_eq!(code, 0, "{err}");
        plans.push(t);
        let (t, code, err) = shipc(&["apply", "--env", "staging", "--yes", "--skip-verify"]);
        assert_eq!(code, 0, "{err}");
        assert!(err.contains("up to date"), "{err}");
        applies.push(t);
    }
    plans.sort();
    applies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "{n} services ({} objects) on loopback kube-testserver:",
        2 * n + 1
    );
    println!("  first plan (all create):  {:.0} ms", ms(first_plan));
    println!("  first apply (no wait):    {:.0} ms", ms(first_apply));
    println!(
        "  plan, no changes:         min {:.0} ms, median {:.0} ms, max {:.0} ms (target: 5000 ms)",
        ms(plans[0]),
        ms(plans[2]),
        ms(plans[4])
    );
    println!(
        "  apply, no-op:             min {:.0} ms, median {:.0} ms, max {:.0} ms (target: 5000 ms)",
        ms(applies[0]),
        ms(applies[2]),
        ms(applies[4])
    );
}
