//! A real OCI registry for tests and benches: Debian's `docker-registry`
//! started on a free loopback port by `tests/tools/registry/`, and
//! test images pushed by its script or by `oci-client`.
#![allow(clippy::disallowed_methods, dead_code)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;

pub const USER: &str = "shipper";
pub const PASS: &str = "s3cret-pw";

pub fn scripts() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/tools/registry")
}

pub fn have_registry() -> bool {
    let ok = Command::new("sh")
        .args(["-c", "command -v docker-registry && command -v skopeo"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        if std::env::var_os("SHIPC_REQUIRE_REGISTRY").is_some() {
            panic!("docker-registry/skopeo are not installed: .ci/run must install them");
        }
        let _ = std::io::Write::write_all(
            &mut std::io::stderr().lock(),
            b"SKIPPED: docker-registry/skopeo are not installed (`bash tests/tools/registry/start-registry.sh --port 5999` installs them with apt-get)\n",
        );
    }
    ok
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("shipc-registry-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A registry on a free loopback port, stopped (and purged) on drop.
pub struct Registry {
    pub host: String,
    pub state: PathBuf,
    pub ca: Option<PathBuf>,
}

impl Registry {
    pub fn start(name: &str, tls_auth: bool) -> Option<Registry> {
        if !have_registry() {
            return None;
        }
        let state = temp_dir(&format!("{name}-state"));
        // A free port can be taken between our probe and the registry's
        // bind (tests run in parallel): try a few.
        let mut attempts = 0;
        let o = loop {
            let port = free_port();
            let mut cmd = Command::new("bash");
            cmd.arg(scripts().join("start-registry.sh"))
                .args(["--port", &port.to_string(), "--no-install", "--state-dir"])
                .arg(&state);
            if tls_auth {
                cmd.args(["--tls", "--auth", &format!("{USER}:{PASS}")]);
            }
            let o = cmd.output().unwrap();
            attempts += 1;
            if o.status.success() || attempts == 3 {
                break o;
            }
        };
        assert!(
            o.status.success(),
            "start-registry: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let env = String::from_utf8_lossy(&o.stdout).to_string();
        let get = |k: &str| {
            env.lines()
                .find_map(|l| l.strip_prefix(&format!("{k}=")))
                .unwrap_or("")
                .to_string()
        };
        let ca = Some(get("REGISTRY_CA"))
            .filter(|c| !c.is_empty())
            .map(PathBuf::from);
        Some(Registry {
            host: get("REGISTRY"),
            state,
            ca,
        })
    }

    /// Push a test image with `push-test-image.sh`; its digest.
    pub fn push(&self, name_tag: &str, extra: &[&str]) -> String {
        let o = Command::new("bash")
            .arg(scripts().join("push-test-image.sh"))
            .arg(name_tag)
            .arg("--state-dir")
            .arg(&self.state)
            .args(extra)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "push {name_tag}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(scripts().join("stop-registry.sh"))
            .arg("--state-dir")
            .arg(&self.state)
            .arg("--purge")
            .output();
    }
}

/// Push an image with the given config (`ExposedPorts`, `User`) for
/// `arch` to a plain-HTTP registry with `oci-client`; its digest.
pub fn push_custom(
    host: &str,
    repo: &str,
    tag: &str,
    arch: &str,
    config: serde_json::Value,
) -> String {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(push_async(&client(), host, repo, tag, arch, config))
}

/// A plain-HTTP `oci-client` for pushing test images.
pub fn client() -> oci_client::Client {
    use oci_client::client::{ClientConfig, ClientProtocol};
    oci_client::Client::new(ClientConfig {
        protocol: ClientProtocol::Http,
        ..ClientConfig::default()
    })
}

/// Push `n` distinct images `<prefix>-<i>:v1` concurrently (in one runtime).
pub fn push_many(host: &str, prefix: &str, n: usize) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let client = std::sync::Arc::new(client());
        let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(16));
        let mut set = tokio::task::JoinSet::new();
        for i in 0..n {
            let (client, permits) = (client.clone(), permits.clone());
            let (host, repo) = (host.to_string(), format!("{prefix}-{i}"));
            set.spawn(async move {
                let _p = permits.acquire_owned().await.unwrap();
                let config = serde_json::json!({"User": "1000"});
                push_async(&client, &host, &repo, "v1", "amd64", config).await
            });
        }
        while let Some(r) = set.join_next().await {
            r.unwrap();
        }
    });
}

async fn push_async(
    client: &oci_client::Client,
    host: &str,
    repo: &str,
    tag: &str,
    arch: &str,
    config: serde_json::Value,
) -> String {
    use oci_client::client::{Config, ImageLayer};
    let layer = ImageLayer::oci_v1(format!("layer of {repo}:{tag}").into_bytes(), None);
    let config = Config::oci_v1(
        serde_json::to_vec(&serde_json::json!({
            "architecture": arch, "os": "linux", "config": config,
            "rootfs": {"type": "layers", "diff_ids": [layer.sha256_digest()]},
        }))
        .unwrap(),
        None,
    );
    push_artifact(client, host, repo, tag, layer, config).await
}

/// Push one layer and a config as `repo:tag`; the manifest digest.
async fn push_artifact(
    client: &oci_client::Client,
    host: &str,
    repo: &str,
    tag: &str,
    layer: oci_client::client::ImageLayer,
    config: oci_client::client::Config,
) -> String {
    let manifest =
        oci_client::manifest::OciImageManifest::build(std::slice::from_ref(&layer), &config, None);
    let reference = oci_client::Reference::with_tag(host.into(), repo.into(), tag.into());
    let auth = oci_client::secrets::RegistryAuth::Anonymous;
    client
        .push(&reference, &[layer], config, &auth, Some(manifest))
        .await
        .unwrap();
    client
        .fetch_manifest_digest(&reference, &auth)
        .await
        .unwrap()
}

/// Push a (fake) Helm chart as an OCI artifact, as `helm push` lays it out:
/// a Helm config and one chart-content layer; its digest.
pub fn push_chart(host: &str, repo: &str, version: &str) -> String {
    use oci_client::client::{Config, ImageLayer};
    let layer = ImageLayer::new(
        format!("chart {repo} {version}").into_bytes(),
        "application/vnd.cncf.helm.chart.content.v1.tar+gzip".into(),
        None,
    );
    let config = Config::new(
        serde_json::to_vec(
            &serde_json::json!({"name": repo, "version": version, "apiVersion": "v2"}),
        )
        .unwrap(),
        "application/vnd.cncf.helm.config.v1+json".into(),
        None,
    );
    let tag = version.replace('+', "_");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(push_artifact(&client(), host, repo, &tag, layer, config))
}
