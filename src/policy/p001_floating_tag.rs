//! P001: no `:latest` and no missing tag in any image reference or chart.

use super::rule;
use crate::diag::{Code, Diagnostic};
use crate::model::view::ImageUse;
use crate::model::{EnvModel, Value, V};
use crate::names;

fn external_ref(v: &Value) -> Option<(&str, crate::Span)> {
    match ImageUse::of(v)? {
        ImageUse::External(r, at) => at.as_str().map(|_| (r, at.span)),
        ImageUse::Built(_) => None,
    }
}

pub(super) fn check(env: &EnvModel, out: &mut Vec<Diagnostic>) {
    let refs: Vec<(&str, crate::Span)> = env
        .image_sites()
        .into_iter()
        .filter_map(|site| external_ref(site.image))
        .collect();
    for (r, span) in refs {
        let Ok(parts) = names::image_ref(r) else {
            continue;
        };
        if parts.digest.is_some() {
            continue;
        }
        match parts.tag.as_deref() {
            None => out.push(
                rule(Code::P001, span, format!("image `{r}` has no tag"))
                    .label("floating: means `:latest`")
                    .help(format!(
                        "name a fixed tag, e.g. `{r}:1.2.3`, or pin a digest `{r}@sha256:…`"
                    )),
            ),
            Some("latest") => out.push(
                rule(
                    Code::P001,
                    span,
                    format!("image `{r}` uses the floating tag `latest`"),
                )
                .label("floating tag")
                .help("name a fixed version tag or a digest"),
            ),
            _ => {}
        }
    }
    for i in env.infras.values() {
        if let Some(v) = i.infra().values() {
            values(&i.id.name, v, out);
        }
        if let Some(v) = i.infra().version() {
            if v.as_str().is_some_and(|s| s.eq_ignore_ascii_case("latest")) {
                out.push(
                    rule(
                        Code::P001,
                        v.span,
                        format!("infra `{}` uses chart version `latest`", i.id.name),
                    )
                    .label("floating version")
                    .help("name the exact chart version, e.g. `version = \"15.5.0\"`"),
                );
            }
        }
    }
}

/// `:latest` inside chart values: an image reference string
/// (`metrics.image = "bitnami/exporter:latest"`) or a `tag = "latest"`.
fn values(owner: &str, v: &Value, out: &mut Vec<Diagnostic>) {
    match &v.kind {
        V::Record(m) => {
            for (k, x) in m {
                let is_tag = k.eq_ignore_ascii_case("tag") || k.eq_ignore_ascii_case("imageTag");
                if is_tag && x.as_str().is_some_and(|s| s.eq_ignore_ascii_case("latest")) {
                    out.push(
                        rule(
                            Code::P001,
                            x.span,
                            format!("infra `{owner}` sets `{k}` to the floating tag `latest`"),
                        )
                        .label("floating tag in chart values")
                        .help("name a fixed version tag (or the chart's default by removing it)"),
                    );
                    continue;
                }
                values(owner, x, out);
            }
        }
        V::List(items) => items.iter().for_each(|x| values(owner, x, out)),
        V::Str(s)
            if s.ends_with(":latest")
                && !s.contains(char::is_whitespace)
                && names::image_ref(s).is_ok_and(|p| p.tag.as_deref() == Some("latest")) =>
        {
            out.push(
                rule(
                    Code::P001,
                    v.span,
                    format!(
                        "infra `{owner}` has an image value `{s}` with the floating tag `latest`"
                    ),
                )
                .label("floating tag in chart values")
                .help("name a fixed version tag or a digest"),
            );
        }
        _ => {}
    }
}
