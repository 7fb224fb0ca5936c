//! String constraints: RFC 1123 labels, IANA port names, digests, image
//! references, URLs and project-relative paths. Each returns `Err(reason)`.

/// An RFC 1123 DNS label (Kubernetes object names): ≤ 63 chars, lowercase
/// alphanumerics and `-`, alphanumeric at both ends.
pub fn dns_label(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("a name cannot be empty".into());
    }
    if s.len() > 63 {
        return Err(format!(
            "`{s}` is {} characters long; the limit is 63",
            s.len()
        ));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        let why = if c.is_ascii_uppercase() {
            "uppercase letters are not allowed".to_string()
        } else {
            format!("`{c}` is not allowed")
        };
        return Err(format!("`{s}` is not a valid DNS label: {why}"));
    }
    if s.starts_with('-') || s.ends_with('-') {
        return Err(format!("`{s}` must start and end with a letter or digit"));
    }
    Ok(())
}

/// An IANA service name (Kubernetes port names): ≤ 15 chars, lowercase
/// alphanumerics and `-`, at least one letter, no leading/trailing/double `-`.
pub fn port_name(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 15 {
        return Err(format!(
            "`{s}` is {} characters long; port names have at most 15",
            s.len()
        ));
    }
    if s.chars()
        .any(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
    {
        return Err(format!(
            "`{s}` may only hold lowercase letters, digits and `-`"
        ));
    }
    if !s.chars().any(|c| c.is_ascii_lowercase()) {
        return Err(format!("`{s}` must contain a letter"));
    }
    if s.starts_with('-') || s.ends_with('-') || s.contains("--") {
        return Err(format!(
            "`{s}` may not start or end with `-` or contain `--`"
        ));
    }
    Ok(())
}

/// `sha256:` + 64 lowercase hex characters.
pub fn digest(s: &str) -> Result<(), String> {
    match s.strip_prefix("sha256:") {
        Some(hex)
            if hex.len() == 64
                && hex
                    .chars()
                    .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)) =>
        {
            Ok(())
        }
        Some(_) => Err(format!(
            "`{s}` must have 64 lowercase hex characters after `sha256:`"
        )),
        None => Err(format!("`{s}` must start with `sha256:`")),
    }
}

/// The parts of an image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRefParts {
    /// Registry host and path, without tag or digest.
    pub repository: String,
    /// The tag, if any.
    pub tag: Option<String>,
    /// The digest, if any.
    pub digest: Option<String>,
}

/// Docker Hub's implicit registry and `library/` made explicit
/// (`busybox` → `docker.io/library/busybox`): the one spelling of a
/// repository that lock entries are written and compared in.
pub fn full_repository(repo: &str) -> String {
    match repo.split_once('/') {
        Some((first, _)) if first.contains(['.', ':']) || first == "localhost" => repo.to_string(),
        Some(_) => format!("docker.io/{repo}"),
        None => format!("docker.io/library/{repo}"),
    }
}

/// `[registry/]repository[:tag][@sha256:…]`.
pub fn image_ref(s: &str) -> Result<ImageRefParts, String> {
    let (name, digest_part) = match s.split_once('@') {
        Some((n, d)) => {
            digest(d)?;
            (n, Some(d.to_string()))
        }
        None => (s, None),
    };
    let last_slash = name.rfind('/').map_or(0, |i| i + 1);
    let (repo, tag) = match name.get(last_slash..).and_then(|tail| tail.rfind(':')) {
        Some(i) => {
            let at = last_slash + i;
            (
                name.get(..at).unwrap_or(""),
                name.get(at + 1..).map(str::to_string),
            )
        }
        None => (name, None),
    };
    if repo.is_empty() {
        return Err("the repository is empty".into());
    }
    if let Some(t) = &tag {
        let ok = !t.is_empty()
            && t.len() <= 128
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
            && !t.starts_with(['.', '-']);
        if !ok {
            return Err(format!("`{t}` is not a valid tag"));
        }
    }
    // The first component may be a registry host (with `.`, `:` or `localhost`).
    let mut parts: Vec<&str> = repo.split('/').collect();
    if parts.len() > 1 {
        let first = parts.first().copied().unwrap_or("");
        if first.contains('.') || first.contains(':') || first == "localhost" {
            parts.remove(0);
        }
    }
    for p in &parts {
        let ok = !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
            && p.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit());
        if !ok {
            return Err(format!("`{p}` is not a valid repository component (lowercase letters, digits, `.`, `_`, `-`)"));
        }
    }
    Ok(ImageRefParts {
        repository: repo.to_string(),
        tag,
        digest: digest_part,
    })
}

/// `scheme://host…`.
pub fn url(s: &str) -> Result<(), String> {
    match s.split_once("://") {
        Some((scheme, rest))
            if !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
                && !rest.is_empty()
                && !rest.starts_with('/')
                && !s.chars().any(char::is_whitespace) =>
        {
            Ok(())
        }
        _ => Err(format!(
            "`{s}` is not a URL with a scheme and a host, e.g. `https://example.com`"
        )),
    }
}

/// A project-relative path that does not escape the project.
pub fn rel_path(s: &str) -> Result<(), String> {
    if s.starts_with('/') || s.starts_with('\\') || s.get(1..3) == Some(":\\") {
        return Err(format!(
            "`{s}` is absolute; paths are relative to the project root"
        ));
    }
    let mut depth: i64 = 0;
    for part in s.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                depth -= 1;
                if depth < 0 {
                    return Err(format!("`{s}` escapes the project root"));
                }
            }
            _ => depth += 1,
        }
    }
    Ok(())
}

/// A DNS subdomain (RFC 1123), what most Kubernetes object names are:
/// lower-case labels joined by `.`, at most 253 characters.
pub fn dns_subdomain(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 253 {
        return Err(format!("`{s}` must be 1–253 characters"));
    }
    for l in s.split('.') {
        let ok = !l.is_empty()
            && l.len() <= 63
            && l.bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-');
        if !ok {
            return Err(format!(
                "`{s}` is not a Kubernetes object name (lower-case letters, digits, `-` and `.`)"
            ));
        }
    }
    Ok(())
}

/// A declaration name as a Kubernetes name: `_` → `-`.
pub fn k8s_name(name: &str) -> String {
    name.replace('_', "-")
}

/// A five-field cron schedule or a `@macro`.
pub fn cron(s: &str) -> Result<(), String> {
    const MACROS: &[&str] = &[
        "@yearly",
        "@annually",
        "@monthly",
        "@weekly",
        "@daily",
        "@midnight",
        "@hourly",
    ];
    if s.starts_with('@') {
        return if MACROS.contains(&s) {
            Ok(())
        } else {
            Err(format!("`{s}` is not a cron macro ({})", MACROS.join(", ")))
        };
    }
    let fields: Vec<&str> = s.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!(
            "`{s}` has {} fields; a cron schedule has 5 (minute hour day month weekday)",
            fields.len()
        ));
    }
    if let Some(f) = fields.iter().find(|f| {
        !f.chars()
            .all(|c| c.is_ascii_alphanumeric() || "*/,-?".contains(c))
    }) {
        return Err(format!("`{f}` is not a cron field"));
    }
    Ok(())
}

/// A Kubernetes label key: an optional DNS-subdomain prefix and `/`, then a
/// name of ≤ 63 alphanumerics, `-`, `_`, `.` with alphanumerics at both ends.
pub fn label_key(s: &str) -> Result<(), String> {
    let (prefix, name) = match s.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, s),
    };
    if let Some(p) = prefix {
        let ok =
            !p.is_empty() && p.len() <= 253 && p.split('.').all(|part| dns_label(part).is_ok());
        if !ok {
            return Err(format!("the prefix `{p}` of `{s}` is not a DNS subdomain"));
        }
    }
    label_name(name).map_err(|e| format!("`{s}`: {e}"))
}

/// A Kubernetes label value: empty, or ≤ 63 alphanumerics, `-`, `_`, `.`
/// with alphanumerics at both ends.
pub fn label_value(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Ok(());
    }
    label_name(s)
}

fn label_name(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("a label name cannot be empty".into());
    }
    if s.len() > 63 {
        return Err(format!(
            "`{s}` is {} characters long; the limit is 63",
            s.len()
        ));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(format!("`{c}` is not allowed in a label"));
    }
    let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    if !alnum(s.chars().next()) || !alnum(s.chars().last()) {
        return Err(format!("`{s}` must start and end with a letter or digit"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraints() {
        assert!(dns_label("www-ameide").is_ok());
        assert!(dns_label("Www").is_err());
        assert!(dns_label("-a").is_err());
        assert!(port_name("http").is_ok());
        assert!(port_name("http-metrics-endpoint").is_err());
        assert!(port_name("80").is_err());
        let r = image_ref("lscr.io/linuxserver/sonarr:4.0.9").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.repository, "lscr.io/linuxserver/sonarr");
        assert_eq!(r.tag.as_deref(), Some("4.0.9"));
        assert!(image_ref("localhost:5000/a/b").is_ok_and(|r| r.tag.is_none()));
        assert!(image_ref("Nginx").is_err());
        assert!(rel_path("../x").is_err());
        assert!(rel_path("a/../b").is_ok());
        assert!(url("https://github.com/x").is_ok());
        assert!(cron("*/5 * * * *").is_ok());
    }
}
