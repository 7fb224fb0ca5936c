//! R101–R103, the image contract: what a service's containers expect of the
//! image `shipc lock` resolved for them — its declared ports exposed
//! (R101), a non-root user when the security record requires one and names
//! none (R102), a linux/amd64 image (R103). Warnings by default;
//! `policy { R101 = "error" }` makes one stop the lock. Called by
//! `lock::plan::settle` when the registry answered with the image config.

use crate::diag::{Code, Diagnostic};
use crate::registry::Found;
use crate::Span;

/// One container that runs an image: what it expects of the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Use {
    /// `service` or `service.init_container`.
    pub container: String,
    /// Declared container ports.
    pub ports: Vec<DeclaredPort>,
    /// The `security` span, when it requires a non-root user and sets none
    /// (`run_as_non_root = true` and no `run_as`).
    pub non_root: Option<Span>,
}

/// A declared port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredPort {
    /// Its label (`http`).
    pub label: String,
    /// `8080/tcp`, as an image config writes it.
    pub spec: String,
    /// The port's value in the source.
    pub span: Span,
}

/// The image contract check for one resolved image.
pub fn check(shown: &str, span: Span, uses: &[Use], found: &Found, diags: &mut Vec<Diagnostic>) {
    if !found.platforms.is_empty() && !found.platforms.iter().any(|p| p == "linux/amd64") {
        diags.push(
            Diagnostic::new(
                Code::R103,
                span,
                format!("`{shown}` has no linux/amd64 image"),
            )
            .label("this image")
            .note(format!("it has: {}", found.platforms.join(", ")))
            .help("build and push a linux/amd64 image too (`docker buildx build --platform linux/amd64,…`)"),
        );
    }
    let Some(config) = &found.config else {
        return;
    };
    for u in uses {
        for p in &u.ports {
            if config.exposed.contains(&p.spec) {
                continue;
            }
            let has = if config.exposed.is_empty() {
                "the image exposes no ports".to_string()
            } else {
                format!(
                    "the image exposes {}",
                    config
                        .exposed
                        .iter()
                        .map(|e| format!("`{e}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            let number = p.spec.split('/').next().unwrap_or("");
            diags.push(
                Diagnostic::new(
                    Code::R101,
                    p.span,
                    format!(
                        "port `{}` ({}) of `{}` is not exposed by its image",
                        p.label, p.spec, u.container
                    ),
                )
                .label(format!("{has}; image `{shown}`"))
                .help(format!(
                    "check the port number, or add `EXPOSE {number}` to the Dockerfile"
                )),
            );
        }
        if let Some(span) = u.non_root {
            let user = config.user.trim();
            let name = user.split(':').next().unwrap_or("");
            let root = name.is_empty() || name == "0" || name == "root";
            let numeric = name.chars().all(|c| c.is_ascii_digit());
            if root {
                let shown_user = if user.is_empty() {
                    "no `USER` (root)".to_string()
                } else {
                    format!("`USER {user}`")
                };
                diags.push(
                    Diagnostic::new(
                        Code::R102,
                        span,
                        format!(
                            "`{}` requires a non-root user, but its image runs as root",
                            u.container
                        ),
                    )
                    .label(format!("run_as_non_root; image `{shown}` has {shown_user}"))
                    .note("Kubernetes refuses to start it: \"container has runAsNonRoot and image will run as root\"")
                    .help("add `USER 10001` to the Dockerfile, or set `run_as = 10001` in the security record"),
                );
            } else if !numeric {
                diags.push(
                    Diagnostic::new(
                        Code::R102,
                        span,
                        format!(
                            "`{}` requires a non-root user, but its image names the user `{name}`, which Kubernetes cannot check",
                            u.container
                        ),
                    )
                    .label(format!("run_as_non_root; image `{shown}` has `USER {user}`"))
                    .note("Kubernetes refuses to start it: \"container has runAsNonRoot and image has non-numeric user\"")
                    .help("use a numeric `USER` in the Dockerfile, or set `run_as` in the security record"),
                );
            }
        }
    }
}
