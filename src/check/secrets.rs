//! An env's `secrets` (E2046): a dotenv file only for tilt envs, inside the
//! project; one source per env; mapping templates with known placeholders.

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::emit::k8s::secrets::PLACEHOLDERS;
use crate::model::view::{ExternalSecrets, SecretsSettings};
use crate::model::{EnvKind, EnvModel, Value};
use crate::source::Span;

fn err(diags: &mut Diagnostics, span: Span, msg: String, label: &str, help: &str) {
    diags.push(
        Diagnostic::new(Code::E2046, span, msg)
            .label(label)
            .help(help.to_string()),
    );
}

/// The placeholders of a template that shipc does not know.
fn unknown_placeholders(t: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = t;
    while let Some(i) = rest.find('{') {
        let after = rest.get(i + 1..).unwrap_or("");
        match after.find('}') {
            Some(j) => {
                let name = after.get(..j).unwrap_or("");
                if !PLACEHOLDERS.contains(&name) {
                    out.push(name.to_string());
                }
                rest = after.get(j + 1..).unwrap_or("");
            }
            None => {
                out.push(after.to_string());
                break;
            }
        }
    }
    out
}

/// Check an env's `secrets`.
pub fn check(env: &EnvModel, diags: &mut Diagnostics) {
    let Some(s) = env.settings().secrets() else {
        return;
    };
    let s = SecretsSettings::of(s);
    if let (Some(_), Some(d)) = (s.external_secrets(), s.dotenv()) {
        err(
            diags,
            d.span,
            format!("env `{}` takes its secrets from two places", env.name),
            "and `external_secrets`",
            "keep one: `dotenv` for a tilt env's local secrets, `external_secrets` for a store",
        );
    }
    if let Some(d) = s.dotenv() {
        if env.env_kind() != EnvKind::Tilt {
            err(
                diags,
                d.span,
                format!("`dotenv` is for tilt envs; env `{}` is {}", env.name, env.kind()),
                "a local file in a shared env",
                "deployed envs take secrets from a store: `secrets { external_secrets { store = \"…\" } }`",
            );
        }
        if let Some(p) = d.as_str() {
            let path = std::path::Path::new(p);
            if path.is_absolute()
                || path
                    .components()
                    .any(|c| matches!(c, std::path::Component::ParentDir))
            {
                err(
                    diags,
                    d.span,
                    format!("`{p}` is outside the project"),
                    "not a project path",
                    "name a file inside the project, relative to its root (`.env.local`), and git-ignore it",
                );
            }
        }
    }
    if let Some(es) = s.external_secrets() {
        let es = ExternalSecrets::of(es);
        if es
            .store()
            .and_then(Value::as_str)
            .is_some_and(str::is_empty)
        {
            err(
                diags,
                es.store().map_or(env.span, |v| v.span),
                "`store` is empty".into(),
                "no store",
                "name the SecretStore or ClusterSecretStore the operator reads",
            );
        }
        for (field, v) in [("key", es.key()), ("property", es.property())] {
            let Some(t) = v.and_then(Value::as_str) else {
                continue;
            };
            for u in unknown_placeholders(t) {
                err(
                    diags,
                    v.map_or(env.span, |x| x.span),
                    format!("`{{{u}}}` in `{field}` is not a placeholder shipc fills"),
                    "unknown placeholder",
                    "placeholders are {name} (the Secret), {key} (its key), {env} and {namespace}",
                );
            }
            if field == "key" && t.contains("{key}") {
                if let Some((name, _)) = env.secret_uses().into_iter().find(|(_, u)| u.whole) {
                    err(
                        diags,
                        v.map_or(env.span, |x| x.span),
                        format!("`{name}` is mounted whole (`secret_files`): its remote key cannot depend on {{key}}"),
                        "depends on {key}",
                        "map the Secret to one remote key (`key = \"{name}\"`) and its keys to properties (`property = \"{key}\"`)",
                    );
                }
            }
            if field == "key" && t.is_empty() {
                err(
                    diags,
                    v.map_or(env.span, |x| x.span),
                    "`key` is empty".into(),
                    "no remote key",
                    "map each Secret to its remote key, e.g. `key = \"shop/{env}/{name}\"`",
                );
            }
        }
    }
}

/// Read the SOPS-encrypted files of every env's `flux.decryption.files`
/// through `host` (inside the project), check that each is encrypted (a
/// `sops` block with its MAC; a Secret's `data` / `stringData` values all
/// `ENC[…]`), and put `{ path, text }` in place of each `file(…)`.
pub fn read_sops_files(
    host: &dyn crate::load::Host,
    root: &std::path::Path,
    envs: &mut [EnvModel],
    diags: &mut Diagnostics,
) {
    use crate::model::{Fields, V};
    for env in envs.iter_mut() {
        let namespace = crate::emit::k8s::env_namespace(env);
        let Some(files) = env
            .env
            .field_mut("flux")
            .and_then(|f| f.field_mut("decryption"))
            .and_then(|d| d.field_mut("files"))
        else {
            continue;
        };
        let V::List(items) = &mut files.kind else {
            continue;
        };
        for item in items.iter_mut() {
            let Some(path) = crate::model::view::FileText::of(item)
                .path()
                .and_then(Value::as_str)
                .map(str::to_string)
            else {
                continue;
            };
            let span = item.span;
            match read_sops(host, root, &path, &namespace) {
                Ok(text) => {
                    let mut rec = Fields::new();
                    rec.insert("path", Value::new(V::Str(path), span));
                    rec.insert("text", Value::new(V::Str(text), span));
                    *item = Value::new(V::Record(rec), span);
                }
                Err((msg, help)) => {
                    err(diags, span, msg, "not deployable", help);
                    *item = Value::unknown(span);
                }
            }
        }
    }
}

fn read_sops(
    host: &dyn crate::load::Host,
    root: &std::path::Path,
    path: &str,
    namespace: &str,
) -> Result<String, (String, &'static str)> {
    let p = std::path::Path::new(path);
    if p.is_absolute()
        || p.components()
            .any(|c| matches!(c, std::path::Component::ParentDir))
    {
        return Err((
            format!("`{path}` is outside the project"),
            "name a file inside the project, relative to its root",
        ));
    }
    let bytes = host.read(&root.join(path)).map_err(|e| {
        (
            format!("cannot read `{path}`: {e}"),
            "paths are relative to the project root (the folder holding `ship/`)",
        )
    })?;
    if bytes.len() > 1024 * 1024 {
        return Err((
            format!("`{path}` is over 1 MiB"),
            "a SOPS manifest is far smaller: is this the right file?",
        ));
    }
    let text = String::from_utf8(bytes).map_err(|_| {
        (
            format!("`{path}` is not UTF-8 text"),
            "SOPS manifests are YAML",
        )
    })?;
    let mut docs = 0;
    for doc in serde_yaml::Deserializer::from_str(&text) {
        let v = <serde_json::Value as serde::Deserialize>::deserialize(doc).map_err(|e| {
            (
                format!("`{path}` is not valid YAML: {e}"),
                "encrypt a Kubernetes manifest with `sops --encrypt`",
            )
        })?;
        if v.is_null() {
            continue;
        }
        docs += 1;
        let mac = v.pointer("/sops/mac").and_then(serde_json::Value::as_str);
        if mac.is_none_or(|m| !m.starts_with("ENC[")) {
            return Err((
                format!("`{path}` is not SOPS-encrypted (no `sops` block with a MAC)"),
                "encrypt it with `sops --encrypt --in-place`; shipc never deploys a plain secret",
            ));
        }
        let ns = v
            .pointer("/metadata/namespace")
            .and_then(serde_json::Value::as_str);
        if ns != Some(namespace) {
            return Err((
                format!(
                    "`{path}` deploys to namespace `{}`, not the env's `{namespace}`",
                    ns.unwrap_or("(none)")
                ),
                "set `metadata.namespace` before encrypting (SOPS's MAC covers it: shipc cannot add it)",
            ));
        }
        for field in ["data", "stringData"] {
            if let Some(m) = v.get(field).and_then(serde_json::Value::as_object) {
                if let Some((k, _)) = m
                    .iter()
                    .find(|(_, x)| !x.as_str().is_some_and(|s| s.starts_with("ENC[")))
                {
                    return Err((
                        format!("`{path}`: `{field}.{k}` is not encrypted"),
                        "encrypt every value (`sops --encrypt`, without `--unencrypted-regex` for data)",
                    ));
                }
            }
        }
    }
    if docs == 0 {
        return Err((
            format!("`{path}` holds no manifest"),
            "encrypt a Kubernetes manifest with `sops --encrypt`",
        ));
    }
    Ok(text)
}

/// The Secrets a service references: names Kubernetes accepts, and keys
/// of the form Secrets hold (`[-._a-zA-Z0-9]+`) — shipc may create them
/// (ExternalSecrets, dev Secrets), and the kubelet refuses anything else.
pub fn references(d: &crate::model::Decl, diags: &mut Diagnostics) {
    use crate::model::view::{EnvValue, Volume};
    let v = d.service();
    let check_name = |x: Option<&Value>, diags: &mut Diagnostics| {
        let Some(x) = x else { return };
        if let Some(Err(why)) = x.as_str().map(crate::names::dns_subdomain) {
            err(
                diags,
                x.span,
                format!("not a Secret name: {why}"),
                "invalid Secret name",
                "name the Secret as Kubernetes does: `shop-postgres`",
            );
        }
    };
    for x in v.env_values() {
        if let EnvValue::Secret(r) = EnvValue::of(x) {
            check_name(r.name(), diags);
            if let Some(k) = r.key() {
                if let Some(why) = k.as_str().and_then(super::configs::key_error) {
                    err(
                        diags,
                        k.span,
                        format!("not a Secret key: {why}"),
                        "invalid key",
                        "Secret keys are letters, digits, `-`, `_` and `.`",
                    );
                }
            }
        }
    }
    for (_, vol) in v.volume_entries() {
        if let Some(Volume::Secret(sv)) = Volume::of(vol) {
            check_name(sv.secret(), diags);
        }
    }
}
