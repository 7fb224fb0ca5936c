//! `shipc init [DIR] [--name N]`: a small project that `check` and
//! `compile --env local` accept at once — a `ship/` folder with the
//! project, one image, one service, a tilt env `local`, a helmfile env
//! `staging` and a flux env `prod` — plus the Dockerfile it builds and a
//! `.gitignore`. Nothing existing is overwritten: if any file is there,
//! nothing is written.

use super::args::InitArgs;
use super::render::Output;
use std::path::{Path, PathBuf};

fn main_ship(name: &str) -> String {
    format!(
        r#"# {name}: a Ship project. `shipc check` type-checks every env;
# `shipc compile --env local` writes out/local/ (a Tiltfile and manifests).
project {{ name = "{name}" }}

# Built from the Dockerfile beside ship/.
image web {{ context = "." }}

service web {{
  port http = 8080
  expose {{ http = 80 }}
  readiness = http("/", port = http)
  resources {{ cpu = 50m .. 250m, memory = 32Mi .. 64Mi }}
  security = std.security.restricted
  port_forwards = [forward(8080, http)]
}}

# The inner loop: Tilt builds and live-updates on a local cluster.
env local {{
  kind = tilt
  registry = "localhost:5005"
  cluster {{ context = "kind-{name}", namespace = "{name}" }}
}}

# Test: a Helmfile release, images pinned by digest (`shipc lock --env staging --tag <TAG>`).
env staging {{
  kind = helmfile
  registry = "registry.example.com/{name}"
  cluster {{ namespace = "{name}" }}
}}

# Prod: a Flux GitOps tree (`shipc apply --env prod` commits it).
env prod {{
  kind = flux
  registry = "registry.example.com/{name}"
  cluster {{ namespace = "{name}" }}
  flux {{
    git {{
      url = "https://github.com/example/{name}-gitops"
      branch = "main"
      path = "./clusters/prod"
    }}
  }}
}}
"#
    )
}

const DOCKERFILE: &str = "# The `web` image: nginx as a non-root user, listening on 8080.\nFROM nginxinc/nginx-unprivileged:1.27-alpine\n";

const GITIGNORE: &str = "# shipc compile output\n/out/\n";

/// A DNS label from a folder name (`My App` → `my-app`), or `app`.
fn name_from(dir: &Path) -> String {
    let raw = dir
        .canonicalize()
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().to_string()))
        .unwrap_or_default();
    let mut n: String = raw
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    while n.contains("--") {
        n = n.replace("--", "-");
    }
    let n = n.trim_matches('-').chars().take(40).collect::<String>();
    let n = n.trim_matches('-').to_string();
    if n.is_empty() || n.starts_with(|c: char| c.is_ascii_digit()) {
        "app".into()
    } else {
        n
    }
}

pub fn run(out: &Output, a: &InitArgs) -> u8 {
    let dir = a.dir.clone().unwrap_or_else(|| PathBuf::from("."));
    if let Err(e) = std::fs::create_dir_all(&dir) {
        out.tool_error(&format!("cannot create `{}`: {e}", dir.display()), None);
        return 1;
    }
    let name = match &a.name {
        Some(n) => {
            if shipc::names::dns_label(n).is_err() {
                out.usage(&format!("`--name {n}`: a project name is a DNS label (lowercase letters, digits and `-`)"));
                return super::USAGE;
            }
            n.clone()
        }
        None => name_from(&dir),
    };
    let files: Vec<(PathBuf, String)> = vec![
        (dir.join("ship/main.ship"), main_ship(&name)),
        (dir.join("Dockerfile"), DOCKERFILE.to_string()),
        (dir.join(".gitignore"), GITIGNORE.to_string()),
    ];
    let existing: Vec<String> = files
        .iter()
        .filter(|(p, _)| p.exists() || p.symlink_metadata().is_ok())
        .map(|(p, _)| format!("`{}`", p.display()))
        .collect();
    if !existing.is_empty() {
        out.tool_error(
            &format!(
                "refusing to overwrite {}: nothing was written",
                existing.join(", ")
            ),
            Some("run `shipc init` in an empty folder, or `shipc init NEW_DIR`"),
        );
        return 1;
    }
    for (p, text) in &files {
        let written = p
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| {
                std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(p)
            })
            .and_then(|mut f| std::io::Write::write_all(&mut f, text.as_bytes()));
        if let Err(e) = written {
            out.tool_error(&format!("cannot write `{}`: {e}", p.display()), None);
            return 1;
        }
    }
    if !out.json() {
        eprintln!(
            "created project `{name}` in {}: ship/main.ship, Dockerfile, .gitignore",
            dir.display()
        );
        eprintln!("next:");
        if a.dir.is_some() {
            eprintln!("  cd {}", dir.display());
        }
        eprintln!("  shipc check                              # every env type-checks");
        eprintln!("  shipc compile --env local && (cd out/local && tilt up)");
        eprintln!("  shipc lock --env staging --tag <TAG>     # after CI pushed the image");
        eprintln!("  shipc plan --env staging                 # what `shipc apply` would change");
    }
    0
}
