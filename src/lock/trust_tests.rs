use super::parse;

const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
const D2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

#[test]
fn duplicate_keys_are_an_error_not_last_wins() {
    let dup_image = format!(
        "version: 1\nenvs:\n  prod:\n    images:\n      api: {{ repository: r.io/a/api, digest: \"{D1}\" }}\n      api: {{ repository: evil.io/x, digest: \"{D2}\" }}\n"
    );
    let e = parse(&dup_image).unwrap_err();
    assert!(e.contains("duplicate"), "{e}");
    let dup_env = format!(
        "version: 1\nenvs:\n  prod:\n    images:\n      api: {{ repository: r.io/a/api, digest: \"{D1}\" }}\n  prod:\n    images:\n      web: {{ repository: r.io/a/web, digest: \"{D2}\" }}\n"
    );
    assert!(parse(&dup_env).unwrap_err().contains("duplicate"));
    let dup_field = format!(
        "version: 1\nenvs:\n  prod:\n    images:\n      api: {{ repository: r.io/a/api, repository: evil.io/x, digest: \"{D1}\" }}\n"
    );
    assert!(parse(&dup_field).is_err());
}

#[test]
#[allow(clippy::disallowed_methods)] // a test may time itself
fn deep_nesting_is_refused_quickly() {
    let lines = format!("version: 1\nenvs:\n{}", "{\n".repeat(1000));
    assert!(parse(&lines).unwrap_err().contains("nested"));
    let text = format!(
        "version: 1\nenvs: {}{}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let started = std::time::Instant::now();
    assert!(parse(&text).unwrap_err().contains("nested"));
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
}

#[test]
fn digests_must_be_lowercase_sha256() {
    let upper = format!("sha256:{}", "AB".repeat(32));
    for bad in ["sha256:zzz", upper.as_str(), "md5:abc"] {
        let text = format!(
            "version: 1\nenvs:\n  prod:\n    images:\n      api: {{ repository: r.io/a/api, digest: \"{bad}\" }}\n"
        );
        assert!(parse(&text).is_err(), "{bad}");
    }
}
