//! A real Kubernetes API server for tests and benches: `kube-testserver`
//! (installed into `.tools/bin` by `tests/tools/kube/install-kube-testserver.sh`,
//! which `.ci/run` runs) with etcd, started on free loopback ports by
//! `tests/tools/kube/start-kube-testserver.sh` and stopped (state purged)
//! on drop.
#![allow(clippy::disallowed_methods, dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

pub struct KubeServer {
    pub port: u16,
    pub state: PathBuf,
    /// The kubeconfig the start script wrote (context `kube-testserver`).
    pub kubeconfig: PathBuf,
}

fn scripts() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/tools/kube")
}

fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".tools/bin/kube-testserver")
}

/// Two free ports `p` and `p + 1` (etcd's client and peer ports).
fn free_pair() -> u16 {
    for _ in 0..100 {
        let p = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if p < 65000 && TcpListener::bind(("127.0.0.1", p + 1)).is_ok() {
            return p;
        }
    }
    panic!("no two free neighbouring ports");
}

impl KubeServer {
    /// Start one, or say why the test skips (a failure under `CI`).
    pub fn start(name: &str) -> Option<KubeServer> {
        let have_etcd = Command::new("sh")
            .args(["-c", "command -v etcd"])
            .output()
            .is_ok_and(|o| o.status.success());
        if !binary().is_file() || !have_etcd {
            crate::common::skip(
                "kube-testserver or etcd is not installed (`bash tests/tools/kube/install-kube-testserver.sh DIR .tools` installs them; .ci/run does)",
            );
            return None;
        }
        let state = std::env::temp_dir().join(format!("shipc-kube-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&state);
        for _ in 0..3 {
            let port = TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let etcd = free_pair();
            let out = Command::new("bash")
                .arg(scripts().join("start-kube-testserver.sh"))
                .args([
                    "--port",
                    &port.to_string(),
                    "--etcd-port",
                    &etcd.to_string(),
                ])
                .arg("--state-dir")
                .arg(&state)
                .arg("--bin")
                .arg(binary())
                .output()
                .expect("run start-kube-testserver.sh");
            if out.status.success() {
                return Some(KubeServer {
                    port,
                    kubeconfig: state.join("kubeconfig"),
                    state,
                });
            }
            eprintln!(
                "start-kube-testserver.sh failed (retrying on other ports): {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        panic!("kube-testserver did not start");
    }

    /// A kubeconfig beside the server's whose context is named `context`
    /// (`cluster.context` of an env), at `dir/kubeconfig`.
    pub fn kubeconfig_named(&self, dir: &Path, context: &str) -> PathBuf {
        let text = std::fs::read_to_string(&self.kubeconfig).unwrap();
        let path = dir.join("kubeconfig");
        std::fs::write(&path, text.replace("kube-testserver", context)).unwrap();
        path
    }

    /// A kube-rs client, for playing the controller in tests.
    pub async fn client(&self) -> kube::Client {
        let k = kube::config::Kubeconfig::read_from(&self.kubeconfig).unwrap();
        let c = kube::Config::from_custom_kubeconfig(k, &Default::default())
            .await
            .unwrap();
        kube::Client::try_from(c).unwrap()
    }
}

impl Drop for KubeServer {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(scripts().join("stop-kube-testserver.sh"))
            .arg("--state-dir")
            .arg(&self.state)
            .arg("--purge")
            .output();
    }
}
