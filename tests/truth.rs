#![allow(clippy::disallowed_methods)] // the tests make and read temporary projects
//! Repros of wrong output that real programs ported to Ship ran into: each
//! compiled silently and broke at run time. Every test failed before its fix.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn shipc(cwd: &Path, args: &[&str]) -> (i32, String, String) {
    common::shipc_in(cwd, args)
}

fn project(name: &str, main: &str) -> PathBuf {
    common::temp_project(&format!("truth-{name}"), &[("ship/main.ship", main)])
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

const DIGEST: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

#[test]
fn an_external_reference_keeps_its_tag_next_to_the_digest() {
    let p = project(
        "external-tag",
        &format!(
            "service tools {{ image = external(\"busybox:1.38.0@{DIGEST}\"), command = [\"sleep\", \"1d\"] }}\n\
             env prod {{ kind = flux, flux {{ git {{ url = \"https://example.com/g\" }} }} }}\n\
             env staging {{ kind = helmfile }}\n"
        ),
    );
    let (code, _, stderr) = shipc(&p, &["compile", "--all", "-o", "out"]);
    assert_eq!(code, 0, "{stderr}");
    let flux = read(&p.join("out/prod/apps/tools.yaml"));
    assert!(
        flux.contains(&format!("image: busybox:1.38.0@{DIGEST}")),
        "{flux}"
    );
    let values = read(&p.join("out/staging/values/staging/tools.yaml"));
    assert!(values.contains("tag: \"1.38.0\""), "{values}");
    assert!(values.contains(DIGEST), "{values}");
    // The built-in chart renders the reference as written.
    let helm = common::root().join(".tools/bin/helm");
    if !helm.exists() {
        common::skip("helm template (helm is not installed in .tools/bin)");
        return;
    }
    let env_dir = p.join("out/staging");
    let o = Command::new(helm)
        .args([
            "template",
            "tools",
            "charts/ship-app",
            "-f",
            "values/base/tools.yaml",
            "-f",
            "values/staging/tools.yaml",
        ])
        .current_dir(&env_dir)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(text.contains(&format!("busybox:1.38.0@{DIGEST}")), "{text}");
}

#[test]
fn diff_sees_every_field_and_can_gate_ci() {
    let p = project(
        "diff",
        r#"
service api {
  image = external("nginx:1.27.0")
  port http = 80
  command = if env.name != "staging" then ["nginx", "-g", "daemon off;"] else ["nginx"]
  readiness = if env.name != "staging" then http("/ready", port = http) else tcp(port = http)
  security = if env.name != "staging" then std.security.restricted else std.security.baseline
  volumes { cache = scratch(mount = if env.name != "staging" then "/cache" else "/tmp/cache") }
  load_balancer = if env.name != "staging" then { http = 80 } else {}
}
infra redis {
  chart = "oci://registry-1.docker.io/bitnamicharts/redis"
  version = if env.name != "staging" then "19.6.4" else "19.6.0"
  values { architecture = if env.name != "staging" then "replication" else "standalone" }
}
env staging { kind = tilt }
env prod { kind = tilt }
env prod_copy { kind = tilt }
"#,
    );
    let (code, stdout, stderr) = shipc(
        &p,
        &["diff", "--env", "staging", "--env", "prod", "--exit-code"],
    );
    assert_eq!(code, 1, "{stderr}");
    for field in [
        "command",
        "readiness",
        "security.read_only_root_filesystem",
        "volumes.cache",
        "load_balancer.http",
        "version",
        "values.architecture",
    ] {
        assert!(
            stdout
                .lines()
                .any(|l| l.split_whitespace().any(|w| w == field)),
            "{field} missing:\n{stdout}"
        );
    }
    assert!(stdout.contains("infra redis"), "{stdout}");
    let (code, stdout, _) = shipc(
        &p,
        &["diff", "--env", "prod", "--env", "prod_copy", "--exit-code"],
    );
    assert_eq!(code, 0, "{stdout}");
    let (code, _, _) = shipc(&p, &["diff", "--env", "staging", "--env", "prod"]);
    assert_eq!(code, 0, "without --exit-code a difference is not an error");
}

#[test]
fn a_locked_oci_chart_deploys_by_digest_in_flux() {
    let p = project(
        "chart-digest",
        "infra redis {\n  chart = \"oci://registry-1.docker.io/bitnamicharts/redis\"\n  version = \"19.6.4\"\n}\n\
         infra web { chart = \"nginx\", repo = \"https://charts.example.com\", version = \"1.0.0\" }\n\
         env prod { kind = flux, flux { git { url = \"https://example.com/g\" } } }\n",
    );
    std::fs::write(
        p.join("ship.lock"),
        format!("version: 1\nenvs:\n  prod:\n    charts:\n      redis: {{ chart: \"oci://registry-1.docker.io/bitnamicharts/redis\", version: \"19.6.4\", digest: \"{DIGEST}\" }}\n"),
    )
    .unwrap();
    let (code, _, stderr) = shipc(&p, &["compile", "--env", "prod", "-o", "out"]);
    assert_eq!(code, 0, "{stderr}");
    let redis = read(&p.join("out/prod/infra/redis.yaml"));
    assert!(redis.contains("kind: OCIRepository"), "{redis}");
    assert!(
        redis.contains(&format!("digest: \"{DIGEST}\""))
            || redis.contains(&format!("digest: {DIGEST}")),
        "{redis}"
    );
    assert!(
        redis.contains("url: oci://registry-1.docker.io/bitnamicharts/redis"),
        "{redis}"
    );
    assert!(redis.contains("chartRef:"), "{redis}");
    // A chart from an https repository (not lockable) keeps its version.
    let web = read(&p.join("out/prod/infra/web.yaml"));
    assert!(
        web.contains("kind: HelmRepository") && web.contains("version: \"1.0.0\""),
        "{web}"
    );
}
