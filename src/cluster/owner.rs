//! Who owns a live object: this env, another shipc env, Helm, Flux, Argo
//! CD, or nobody. `apply` refuses to write over another owner's object
//! (P005) unless `--adopt`.

use super::{Json, ENV_LABEL, PROJECT_LABEL};

/// The owner of a live object, as its labels and annotations say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// This project's env: ours to change and prune.
    This,
    /// Nobody claims it (made by hand, or a namespace that was there).
    Nobody,
    /// Someone else, described for the message (`the Helm release
    /// shop/web`, `shipc env staging of project shop`).
    Other(String),
}

fn label<'a>(obj: &'a Json, k: &str) -> Option<&'a str> {
    obj.pointer("/metadata/labels")
        .and_then(|l| l.get(k))
        .and_then(Json::as_str)
}

fn annotation<'a>(obj: &'a Json, k: &str) -> Option<&'a str> {
    obj.pointer("/metadata/annotations")
        .and_then(|l| l.get(k))
        .and_then(Json::as_str)
}

/// Who owns `obj`, for project `project` and env label `env`.
pub fn owner(obj: &Json, project: &str, env: &str) -> Owner {
    match (label(obj, PROJECT_LABEL), label(obj, ENV_LABEL)) {
        (Some(p), Some(e)) if p == project && e == env => return Owner::This,
        (Some(p), e) => {
            return Owner::Other(format!("shipc env `{}` of project `{p}`", e.unwrap_or("?")))
        }
        _ => {}
    }
    if let Some(r) = annotation(obj, "meta.helm.sh/release-name") {
        let ns = annotation(obj, "meta.helm.sh/release-namespace").unwrap_or("");
        return Owner::Other(format!("the Helm release `{ns}/{r}`"));
    }
    if label(obj, "app.kubernetes.io/managed-by") == Some("Helm") {
        return Owner::Other("Helm (`app.kubernetes.io/managed-by: Helm`)".into());
    }
    let labels = obj
        .pointer("/metadata/labels")
        .and_then(Json::as_object)
        .into_iter()
        .flatten();
    for (k, v) in labels {
        if let Some(rest) = k
            .strip_prefix("kustomize.toolkit.fluxcd.io/")
            .or_else(|| k.strip_prefix("helm.toolkit.fluxcd.io/"))
        {
            let v = v.as_str().unwrap_or("");
            return Owner::Other(format!("Flux (label `{k}` = `{v}`; {rest})"));
        }
    }
    if let Some(t) = annotation(obj, "argocd.argoproj.io/tracking-id") {
        return Owner::Other(format!("the Argo CD application `{t}`"));
    }
    if let Some(t) = label(obj, "argocd.argoproj.io/instance") {
        return Owner::Other(format!("the Argo CD application `{t}`"));
    }
    Owner::Nobody
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn owners() {
        let o =
            |labels: Json, ann: Json| json!({"metadata": {"labels": labels, "annotations": ann}});
        assert_eq!(
            owner(
                &o(json!({PROJECT_LABEL: "shop", ENV_LABEL: "prod"}), json!({})),
                "shop",
                "prod"
            ),
            Owner::This
        );
        assert!(
            matches!(owner(&o(json!({PROJECT_LABEL: "shop", ENV_LABEL: "staging"}), json!({})), "shop", "prod"), Owner::Other(s) if s.contains("staging"))
        );
        assert!(
            matches!(owner(&o(json!({}), json!({"meta.helm.sh/release-name": "web"})), "shop", "prod"), Owner::Other(s) if s.contains("Helm"))
        );
        assert!(
            matches!(owner(&o(json!({"kustomize.toolkit.fluxcd.io/name": "apps"}), json!({})), "shop", "prod"), Owner::Other(s) if s.contains("Flux"))
        );
        assert!(
            matches!(owner(&o(json!({}), json!({"argocd.argoproj.io/tracking-id": "a:apps/Deployment:shop/web"})), "shop", "prod"), Owner::Other(s) if s.contains("Argo"))
        );
        assert_eq!(
            owner(&o(json!({"app": "x"}), json!({})), "shop", "prod"),
            Owner::Nobody
        );
    }
}
