#![allow(clippy::unwrap_used, clippy::indexing_slicing)]
use super::*;

const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
const D2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

fn sample() -> Lockfile {
    let mut env = EnvLock::default();
    env.images.insert(
        "www".into(),
        ImagePin {
            repository: "registry.example.com:5000/acme/www".into(),
            digest: D1.into(),
            tag: Some("1.36".into()),
        },
    );
    env.images.insert(
        "a.init".into(),
        ImagePin {
            repository: "docker.io/library/busybox".into(),
            digest: D2.into(),
            tag: None,
        },
    );
    env.charts.insert(
        "redis".into(),
        ChartPin {
            chart: "oci://registry-1.docker.io/bitnamicharts/redis".into(),
            version: "19.6.4+1".into(),
            digest: D2.into(),
        },
    );
    let mut lock = Lockfile::empty();
    lock.set_env("prod", env);
    lock
}

#[test]
fn render_is_sorted_one_line_per_entry_and_reads_back() {
    let lock = sample();
    let text = render(&lock);
    assert_eq!(parse(&text).unwrap(), lock);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[1], "version: 1");
    assert!(lines[5].starts_with("      a.init: { repository: docker.io/library/busybox,"));
    assert!(
        lines[6].contains("tag: \"1.36\""),
        "a float-looking tag is quoted"
    );
    assert!(lines[6].contains("repository: \"registry.example.com:5000/acme/www\""));
    assert_eq!(text, render(&parse(&text).unwrap()), "stable");
    assert_eq!(
        render(&Lockfile::empty()),
        render(&parse(&render(&Lockfile::empty())).unwrap())
    );
}

/// The line reader and serde_yaml agree on every rendered file, odd
/// strings included; anything not byte-for-byte canonical falls back.
#[test]
fn canonical_reader_agrees_with_serde_yaml() {
    let mut lock = sample();
    let mut env = EnvLock::default();
    env.images.insert(
        "odd \"key\"\t\u{1}".into(),
        ImagePin {
            repository: "r.example.com/a b: c, d }".into(),
            digest: D1.into(),
            tag: Some("yes".into()),
        },
    );
    lock.set_env("env: x", env);
    for l in [lock, Lockfile::empty()] {
        let text = render(&l);
        let fast = canonical::read(text.split_once('\n').unwrap().1).unwrap();
        let slow: Lockfile = serde_yaml::from_str(&text).unwrap();
        assert_eq!(fast, slow);
        assert_eq!(fast, l);
    }
    // Without the header (older files) the line reader still applies.
    let text = render(&sample());
    let bare = text.split_once('\n').unwrap().1;
    assert_eq!(canonical::read(bare).unwrap(), sample());
    assert_eq!(parse(bare).unwrap(), sample());
    // Hand-edited: another style, a comment at the end, CRLF.
    let text = render(&sample());
    for edited in [
        text.replace(
            "{ repository: docker.io/library/busybox,",
            "{repository: docker.io/library/busybox,",
        ),
        format!("{text}# trailing\n"),
        text.replace("version: 1\n", "version: 1\n# inside\n"),
        text.replace('\n', "\r\n"),
    ] {
        assert_eq!(parse(&edited).unwrap(), sample(), "{edited}");
    }
    assert!(parse(&text.replace("digest:", "digst:")).is_err());
}

#[test]
fn changes_list_added_changed_and_removed() {
    let old = sample().envs["prod"].clone();
    let mut new = old.clone();
    new.images.remove("a.init");
    new.images.get_mut("www").unwrap().digest = D2.into();
    new.images.insert(
        "api".into(),
        ImagePin {
            repository: "r/api".into(),
            digest: D1.into(),
            tag: None,
        },
    );
    let c = changes(&old, &new);
    let keys: Vec<_> = c
        .iter()
        .map(|c| (c.key.as_str(), c.from.is_some(), c.to.is_some()))
        .collect();
    assert_eq!(
        keys,
        [
            ("images.a.init", true, false),
            ("images.api", false, true),
            ("images.www", true, true)
        ]
    );
}

#[test]
fn bad_chart_digests_are_refused() {
    let text = render(&sample()).replace(
        &format!("version: \"19.6.4+1\", digest: \"{D2}\""),
        "version: \"19.6.4+1\", digest: \"sha256:nope\"",
    );
    assert!(parse(&text)
        .unwrap_err()
        .contains("envs.prod.charts.redis.digest"));
}
