//! `config` declarations (ConfigMaps): what each entry of `files` may be
//! (E2040), the files `file("…")` reads (E2041), and the size limit.
//!
//! The evaluator leaves `file("path")` as a call; [`read_files`] reads each
//! through the [`Host`] (inside the project root, links resolved by the
//! host) and puts the content in its place: text as a string, anything that
//! is not UTF-8 as a `binary` call holding base64, the ConfigMap's
//! `binaryData`.

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::load::Host;
use crate::model::view::ConfigEntry;
use crate::model::{Decl, EnvModel, Value, V};
use std::collections::BTreeMap;
use std::path::Path;

/// Kubernetes' limit on a ConfigMap's data (etcd's object size).
pub const MAX_CONFIG_BYTES: usize = 1024 * 1024;

use crate::model::view::structured_format;
#[cfg(test)]
use crate::model::view::Format;

/// Kubernetes' rule for ConfigMap keys (`[-._a-zA-Z0-9]+`, at most 253,
/// not `.` or `..`).
pub fn key_error(key: &str) -> Option<String> {
    if key.is_empty() {
        return Some("it is empty".into());
    }
    if key.len() > 253 {
        return Some(format!("it is {} characters; the limit is 253", key.len()));
    }
    if key == "." || key == ".." {
        return Some(format!("`{key}` is not a file name"));
    }
    key.chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "-._".contains(*c)))
        .map(|c| format!("`{}` is not allowed", c.escape_debug()))
}

/// Static checks of one config in one env (or in none).
pub fn check(d: &Decl, diags: &mut Diagnostics) {
    let files = d
        .config()
        .files()
        .map(Value::entries_in_order)
        .unwrap_or_default();
    for (key, v) in files {
        if let Some(e) = key_error(key) {
            diags.push(
                Diagnostic::new(
                    Code::E2040,
                    v.span,
                    format!(
                        "config key `{}` is not valid in Kubernetes: {e}",
                        key.escape_debug()
                    ),
                )
                .label("the content of this key")
                .help(
                    "name keys like files: letters, digits, `-`, `_` and `.` (e.g. `\"app.yaml\"`)",
                ),
            );
        }
        match &v.kind {
            V::Str(_) | V::Unknown => {}
            V::Call(_)
                if matches!(
                    ConfigEntry::of(v),
                    ConfigEntry::File(_) | ConfigEntry::Binary(_)
                ) => {}
            V::Record(_) | V::List(_) => {
                if structured_format(key).is_none() {
                    diags.push(
                        Diagnostic::new(
                            Code::E2040,
                            v.span,
                            format!("`{key}` holds a {}, but its name says neither JSON nor YAML", if matches!(v.kind, V::List(_)) { "list" } else { "record" }),
                        )
                        .label("written how?")
                        .help(format!("end the key in `.json`, `.yaml` or `.yml` (e.g. `\"{key}.yaml\"`), or write the text as a string")),
                    );
                }
            }
            _ => diags.push(
                Diagnostic::new(
                    Code::E2040,
                    v.span,
                    format!("`{key}` must be text, found {}", v.describe()),
                )
                .label("not a string, a file or a record")
                .help("write a string (`\"${api.port.http}\"` interpolates), `file(\"path\")`, or a record in a `.json` / `.yaml` key"),
            ),
        }
    }
}

/// Read every `file("…")` entry of the deployed configs through `host`,
/// relative to the project `root`, and check each config's size.
pub fn read_files(host: &dyn Host, root: &Path, envs: &mut [EnvModel], diags: &mut Diagnostics) {
    // One read per path, shared by every env.
    let mut cache = ReadCache::new();
    for env in envs.iter_mut() {
        for d in env.configs.values_mut() {
            let V::Record(rec) = &mut std::sync::Arc::make_mut(&mut d.value).kind else {
                continue;
            };
            let Some(V::Record(files)) = rec.get_mut("files").map(|v| &mut v.kind) else {
                continue;
            };
            for v in files.values_mut() {
                let ConfigEntry::File(f) = ConfigEntry::of(v) else {
                    continue;
                };
                let Some(path) = f.path().and_then(Value::as_str).map(str::to_string) else {
                    continue;
                };
                replace_with_read(v, &path, &mut cache, diags, |span| {
                    read_one(host, root, &path, span)
                });
            }
            size_check(d, diags);
        }
    }
}

/// A file read once per path.
pub(crate) type ReadCache = BTreeMap<String, Result<Value, Box<Diagnostic>>>;

/// Put what `read` gives for `path` (once per path) in place of `v`, or
/// report why not and leave the poison value; true when it was read.
pub(crate) fn replace_with_read(
    v: &mut Value,
    path: &str,
    cache: &mut ReadCache,
    diags: &mut Diagnostics,
    read: impl FnOnce(crate::Span) -> Result<Value, Box<Diagnostic>>,
) -> bool {
    let span = v.span;
    match cache.entry(path.to_string()).or_insert_with(|| read(span)) {
        Ok(content) => {
            *v = Value::new(content.kind.clone(), span);
            true
        }
        Err(e) => {
            diags.push((**e).clone());
            *v = Value::unknown(span);
            false
        }
    }
}

fn read_one(
    host: &dyn Host,
    root: &Path,
    path: &str,
    span: crate::Span,
) -> Result<Value, Box<Diagnostic>> {
    let full = root.join(path);
    let bytes = host.read(&full).map_err(|e| {
        let what = if e.kind() == std::io::ErrorKind::NotFound {
            "it does not exist".to_string()
        } else {
            e.to_string()
        };
        Box::new(
            Diagnostic::new(Code::E2041, span, format!("cannot read `{path}`: {what}"))
                .label("read at compile time")
                .help("paths are relative to the project root (the folder holding `ship/`)"),
        )
    })?;
    if bytes.len() > MAX_CONFIG_BYTES {
        let d = Diagnostic::new(
            Code::E2041,
            span,
            format!(
                "`{path}` is {} bytes; a ConfigMap holds at most 1 MiB",
                bytes.len()
            ),
        )
        .label("too large for a ConfigMap")
        .help("mount large files from a volume or bake them into the image");
        return Err(Box::new(d));
    }
    // Text is UTF-8 without NUL bytes; anything else is `binaryData`.
    let is_text = !bytes.contains(&0) && std::str::from_utf8(&bytes).is_ok();
    Ok(match String::from_utf8(bytes) {
        Ok(text) if is_text => Value::new(V::Str(text), span),
        other => {
            use base64::Engine;
            let bytes = other.map_or_else(|e| e.into_bytes(), String::into_bytes);
            let data = base64::engine::general_purpose::STANDARD.encode(bytes);
            crate::model::view::binary(data, span)
        }
    })
}

/// The bytes a config's data takes (keys and values, binary decoded).
fn size(d: &Decl) -> usize {
    d.config()
        .entries()
        .map(|(k, v)| {
            k.len()
                + match v {
                    ConfigEntry::Text(s) => s.len(),
                    ConfigEntry::Binary(b) => b.len() / 4 * 3,
                    ConfigEntry::File(_) | ConfigEntry::Structured(_) | ConfigEntry::Other => 0,
                }
        })
        .sum()
}

fn size_check(d: &Decl, diags: &mut Diagnostics) {
    let n = size(d);
    if n > MAX_CONFIG_BYTES {
        diags.push(
            Diagnostic::new(
                Code::E2041,
                d.name_span,
                format!(
                    "config `{}` holds {n} bytes; a ConfigMap holds at most 1 MiB (1048576 bytes)",
                    d.id.name
                ),
            )
            .label("too large for a ConfigMap")
            .help("split it into several configs, or mount large files from a volume"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert!(key_error("app.yaml").is_none());
        assert!(key_error("a-b_c.1").is_none());
        assert!(key_error("").is_some());
        assert!(key_error("..").is_some());
        assert!(key_error("a/b").is_some());
        assert!(key_error(&"x".repeat(254)).is_some());
    }

    #[test]
    fn formats() {
        assert_eq!(structured_format("a.JSON"), Some(Format::Json));
        assert_eq!(structured_format("a.yml"), Some(Format::Yaml));
        assert_eq!(structured_format("a.conf"), None);
    }
}
