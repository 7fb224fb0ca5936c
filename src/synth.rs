//! A synthetic project generator for benchmarks and scale tests: `n`
//! services, each with a template, probes, resources and three env vars
//! referencing other services, in four envs (tilt, helmfile, flux, flux).
//! References only point to lower-numbered services, so the graph is acyclic.

/// How many services each generated file holds (projects split by team).
pub const SERVICES_PER_FILE: usize = 100;

/// The synthetic project as files of the root module: `(file name, text)`,
/// with the shared parts in `platform.ship` and the services split into
/// files of [`SERVICES_PER_FILE`].
pub fn project_files(n: usize) -> Vec<(String, String)> {
    let text = project(n);
    let Some(first_service) = text.find("image svc") else {
        return vec![("platform.ship".to_string(), text)];
    };
    let envs = text.find("\nenv local").unwrap_or(text.len());
    let mut files = vec![(
        "platform.ship".to_string(),
        format!(
            "{}{}",
            text.get(..first_service).unwrap_or(""),
            text.get(envs..).unwrap_or("")
        ),
    )];
    let body = text.get(first_service..envs).unwrap_or("");
    let mut current = String::new();
    let mut count = 0;
    for chunk in body.split_inclusive("}\n}\n") {
        current.push_str(chunk);
        count += 1;
        if count % SERVICES_PER_FILE == 0 {
            files.push((
                format!("services_{:04}.ship", files.len()),
                std::mem::take(&mut current),
            ));
        }
    }
    if !current.trim().is_empty() {
        files.push((format!("services_{:04}.ship", files.len()), current));
    }
    files
}

/// The text of one `.ship` file holding the whole synthetic project.
pub fn project(n: usize) -> String {
    let mut s = String::with_capacity(n * 420 + 2048);
    s.push_str("project { name = \"synth\" }\n\n");
    s.push_str(
        "template backend(port_number: Port = 8080) {\n  port http = port_number\n  readiness = http(\"/healthz\", port = http, period = 10s)\n  liveness = tcp(port = http, delay = 5s)\n  security = std.security.restricted\n  labels = [\"backend\"]\n}\n\n",
    );
    s.push_str("infra postgres {\n  chart = \"oci://registry-1.docker.io/bitnamicharts/postgresql\"\n  version = \"15.5.0\"\n  port pg = 5432\n}\n\n");
    for i in 0..n {
        s.push_str(&format!(
            "image svc{i} {{ context = \"services/svc{i}\" }}\n"
        ));
        s.push_str(&format!(
            "service svc{i} from backend(port_number = {}) {{\n",
            8000 + (i % 1000)
        ));
        s.push_str("  replicas = if env.name == \"prod\" then 3 else 1\n");
        s.push_str("  resources { cpu = 100m .. 500m, memory = 128Mi .. 256Mi }\n");
        s.push_str("  env_vars {\n");
        for k in 1..=3usize {
            if i >= k {
                s.push_str(&format!("    DEP{k}_URL = svc{}.port.http.url\n", i - k));
            } else {
                s.push_str(&format!("    DEP{k}_URL = postgres.port.pg\n"));
            }
        }
        s.push_str("  }\n}\n");
    }
    s.push_str("\nenv local {\n  kind = tilt\n  registry = \"localhost:5000\"\n  domain = \"local.synth.dev\"\n  cluster { context = \"kind-synth\", namespace = \"synth\" }\n}\n");
    s.push_str("env staging {\n  kind = helmfile\n  registry = \"registry.example.com/synth\"\n  domain = \"staging.synth.dev\"\n}\n");
    s.push_str("env prod {\n  kind = flux\n  registry = \"registry.example.com/synth\"\n  domain = \"synth.dev\"\n  flux { git { url = \"https://github.com/example/synth\", branch = \"main\", path = \"./clusters/prod\" } }\n}\n");
    s.push_str("env prod_eu {\n  kind = flux\n  registry = \"registry.example.com/synth\"\n  domain = \"eu.synth.dev\"\n  flux { git { url = \"https://github.com/example/synth\", branch = \"main\", path = \"./clusters/prod-eu\" } }\n}\n");
    s
}
