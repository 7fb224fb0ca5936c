use super::*;
use serde_json::json;

#[test]
fn ambiguous_strings_are_quoted() {
    for s in [
        "yes", "on", "0123", "1e3", "null", "~", "", " x", "a: b", "-x", "1.5", "0x1F", "12:30",
        "True", "NO", "Off", "Y", "nuLL", "-.inf", ".NaN", "a:", "x\ty", "a: b", "ab:",
    ] {
        assert!(needs_quotes(s), "{s}");
    }
    for s in [
        "nginx",
        "http",
        "app.kubernetes.io/name",
        "registry.example.com/a:1.0",
        "100m",
        "64Mi",
        "yess",
        "name",
        "nginx-1.25/x_y",
        "a:b",
        "sha256:3333",
        "registry.example.com:5000/a/b@sha256:ab",
        "http://x.example.com/p",
    ] {
        assert!(!needs_quotes(s), "{s}");
    }
}

#[test]
fn renders_block_yaml() {
    let v = json!({"b": [1, {"x": "yes", "y": []}], "a": {"k": "v\nw\n"}, "c": {}});
    assert_eq!(
        to_string(&v),
        "a:\n  k: |\n    v\n    w\nb:\n- 1\n- x: \"yes\"\n  \"y\": []\nc: {}\n"
    );
}

/// Fields that arrive out of order are written sorted, at the top, after
/// a key and after a dash (where the first key shares the dash line).
#[test]
fn unsorted_fields_are_written_sorted() {
    #[derive(serde::Serialize)]
    struct Inner {
        zeta: u8,
        alpha: Vec<u8>,
        mid: Option<&'static str>,
    }
    #[derive(serde::Serialize)]
    struct Outer {
        z: Inner,
        list: Vec<Inner>,
        a: std::collections::BTreeMap<String, Inner>,
        empty: Vec<u8>,
    }
    let inner = || Inner {
        zeta: 1,
        alpha: vec![2, 3],
        mid: None,
    };
    let v = Outer {
        z: inner(),
        list: vec![inner(), inner()],
        a: [("k".to_string(), inner())].into_iter().collect(),
        empty: vec![],
    };
    let text = to_string(&v);
    let mut sorted = serde_json::to_value(&v).unwrap();
    sorted.sort_all_objects();
    assert_eq!(text, to_string(&sorted));
    assert_eq!(
        text,
        "a:\n  k:\n    alpha:\n    - 2\n    - 3\n    mid: null\n    zeta: 1\nempty: []\n\
         list:\n- alpha:\n  - 2\n  - 3\n  mid: null\n  zeta: 1\n- alpha:\n  - 2\n  - 3\n\
         \x20 mid: null\n  zeta: 1\nz:\n  alpha:\n  - 2\n  - 3\n  mid: null\n  zeta: 1\n"
    );
    assert_eq!(documents([&1, &2]), "1\n---\n2\n");
}

/// Every serde shape writes what its `serde_json::Value` writes.
#[test]
fn every_shape_matches_its_json_value() {
    #[derive(serde::Serialize)]
    enum E {
        Unit,
        New(u8),
        Tuple(u8, &'static str),
        Struct { b: bool, a: Option<u8> },
    }
    #[derive(serde::Serialize)]
    struct All {
        unit: (),
        tuple: (i8, u64, f64),
        chars: char,
        bytes: &'static [u8],
        keys: std::collections::BTreeMap<u16, &'static str>,
        variants: Vec<E>,
        nested: Vec<Vec<u8>>,
        text: &'static str,
    }
    let v = All {
        unit: (),
        tuple: (-1, 2, 1.5),
        chars: 'y',
        bytes: b"ab",
        keys: [(10, "ten"), (2, "two")].into_iter().collect(),
        variants: vec![
            E::Unit,
            E::New(1),
            E::Tuple(2, "on"),
            E::Struct { b: true, a: None },
        ],
        nested: vec![vec![], vec![1, 2]],
        text: "line\nnext\n",
    };
    assert_eq!(to_string(&v), to_string(&serde_json::to_value(&v).unwrap()));
}

/// Field names that YAML would read as booleans are quoted every time,
/// cached or not.
#[test]
fn static_keys_are_quoted_when_needed() {
    #[derive(serde::Serialize)]
    struct Flags {
        #[serde(rename = "on")]
        on: bool,
        #[serde(rename = "y")]
        y: u8,
        name: u8,
    }
    let v = Flags {
        on: true,
        y: 1,
        name: 2,
    };
    for _ in 0..3 {
        assert_eq!(to_string(&v), "name: 2\n\"on\": true\n\"y\": 1\n");
    }
}
