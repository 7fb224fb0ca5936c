#![allow(clippy::disallowed_methods)] // tests time themselves
//! Bad input never panics, never overflows the stack, and never takes long:
//! random bytes, token soups, deep nesting, huge literals, NUL bytes. A
//! bounded number of cases runs in `cargo test`; `fuzz/` has the open-ended
//! cargo-fuzz target over the same entry point.

mod common;

use proptest::prelude::*;
use std::time::{Duration, Instant};

fn check_text(text: &str) -> Duration {
    let start = Instant::now();
    let _ = common::analyze_text(&[("fuzz.ship", text)]);
    start.elapsed()
}

fn check_bytes(bytes: &[u8]) {
    let mut host = shipc::load::MemoryHost::new();
    host.add("ship/fuzz.ship", bytes.to_vec());
    let mut d = shipc::Diagnostics::new();
    let _ = shipc::analyze(&host, std::path::Path::new("ship"), None, &mut d);
}

const TOKENS: &[&str] = &[
    "service",
    "image",
    "infra",
    "env",
    "template",
    "let",
    "type",
    "import",
    "policy",
    "project",
    "from",
    "if",
    "then",
    "else",
    "true",
    "false",
    "self",
    "weak",
    "std",
    "security",
    "restricted",
    "x",
    "www",
    "port",
    "http",
    "replicas",
    "=",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ",",
    ".",
    "..",
    "+",
    "==",
    "!=",
    "&&",
    "||",
    "!",
    "\"s\"",
    "\"${",
    "\"\"\"",
    "1",
    "-1",
    "250m",
    "64Mi",
    "1h30m",
    "99999999999999999999",
    "#c\n",
    "\n",
    " ",
    "env.name",
    "kind",
    "tilt",
    "a.b",
    "@",
    "?",
    ":",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        check_bytes(&bytes);
    }

    #[test]
    fn token_soup_never_panics(tokens in proptest::collection::vec(proptest::sample::select(TOKENS), 0..80)) {
        let text = tokens.join(" ");
        let t = check_text(&text);
        prop_assert!(t < Duration::from_secs(1), "took {t:?} on {text:?}");
    }

    #[test]
    fn unbracketed_nesting_and_long_lines_never_panic(
        prefix in proptest::sample::select(&["!", "if true then 1 else ", "1 + ", "a && ", "- ", "x.", "\"", "${"][..]),
        n in 0usize..20_000,
        line in 0usize..200_000,
    ) {
        let text = format!(
            "let x = {}1\nservice a {{ port http = 80, labels = [\"{}\"] }}\nenv e {{ kind = tilt }}\n",
            prefix.repeat(n),
            "y".repeat(line)
        );
        let t = check_text(&text);
        prop_assert!(t < Duration::from_secs(5), "took {t:?}");
    }

    #[test]
    fn mutated_examples_never_panic(cut in 0usize..2000, insert in proptest::sample::select(TOKENS)) {
        let base = include_str!("../examples/ameide/ship/main.ship");
        let at = cut.min(base.len());
        let at = (0..=at).rev().find(|i| base.is_char_boundary(*i)).unwrap_or(0);
        let text = format!("{}{}{}", &base[..at], insert, &base[at..]);
        check_text(&text);
    }
}

#[test]
fn deep_nesting_is_refused_quickly() {
    for (open, close) in [("[", "]"), ("(", ")"), ("{", "}")] {
        let text = format!("let x = {}1{}", open.repeat(10_000), close.repeat(10_000));
        let t = check_text(&text);
        assert!(t < Duration::from_secs(1), "{open}: {t:?}");
        let (_, diags) = common::analyze_text(&[("a.ship", &text)]);
        assert!(
            diags.iter().any(|d| d.code == shipc::Code::E0006),
            "{open}: {diags:?}"
        );
    }
    // Deep but allowed: 200 levels of parentheses.
    let text = format!("let x = {}1{}", "(".repeat(200), ")".repeat(200));
    let (_, diags) = common::analyze_text(&[("a.ship", &text)]);
    assert!(diags.is_empty(), "{diags:?}");
    // Unbalanced deep opening only.
    check_text(&"{".repeat(100_000));
    check_text(&format!("let s = \"{}\"", "${".repeat(5_000)));
}

#[test]
fn deep_if_chains_and_long_operator_chains_are_fine() {
    let chain = (0..5_000)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(" + ");
    let t = check_text(&format!(
        "let x = {chain}\nservice a {{ port http = 80, replicas = x }}"
    ));
    assert!(t < Duration::from_secs(1), "{t:?}");
    let nots = format!("let b = {}true", "!".repeat(5_000));
    assert!(check_text(&nots) < Duration::from_secs(1));
    let ifs = format!(
        "let x = {}1{}",
        "if true then ".repeat(200),
        " else 2".repeat(200)
    );
    assert!(check_text(&ifs) < Duration::from_secs(1));
}

#[test]
fn unbracketed_nesting_is_refused_not_a_stack_overflow() {
    for text in [
        format!("let x = {}true", "!".repeat(600_000)),
        format!("let x = {}0", "if true then 1 else ".repeat(125_000)),
        format!("let x = {}0", "if true then 1 else\n  ".repeat(125_000)),
        format!("let x = {}", vec!["1"; 600_000].join(" + ")),
        format!("let x = {}", vec!["a"; 600_000].join(" && ")),
    ] {
        let (_, diags) = common::analyze_text(&[("a.ship", &text)]);
        assert!(
            diags.iter().any(|d| d.code == shipc::Code::E0006),
            "{diags:?}"
        );
    }
    // Long but legitimate entries stay fine; separate entries do not add up.
    let ok = format!(
        "let x = {}0\nlet y = {}\n",
        "if true then 1 else ".repeat(7_000),
        vec!["1"; 7_000].join(" + ")
    );
    let (_, diags) = common::analyze_text(&[("a.ship", &ok)]);
    assert!(diags.is_empty(), "{diags:?}");
}

#[test]
fn long_alias_and_template_chains_are_linear_or_refused() {
    let n = 4_000;
    let aliases = String::from("type T0 = String\n")
        + &(0..n)
            .map(|i| format!("type T{} = T{i}\n", i + 1))
            .collect::<String>();
    let t = check_text(&aliases);
    assert!(t < Duration::from_secs(2), "{t:?}");
    let (_, d) = common::analyze_text(&[("a.ship", &aliases)]);
    assert_eq!(
        d.iter().filter(|d| d.code == shipc::Code::E1017).count(),
        1,
        "{d:?}"
    );
    let templates = String::from("template t0 { replicas = 1 }\n")
        + &(0..n)
            .map(|i| format!("template t{} from t{i} {{ }}\n", i + 1))
            .collect::<String>()
        + &format!("service a from t{n} {{ port http = 80 }}\nenv e {{ kind = tilt }}\n");
    let t = check_text(&templates);
    assert!(t < Duration::from_secs(2), "{t:?}");
    let (_, d) = common::analyze_text(&[("a.ship", &templates)]);
    assert!(d.iter().any(|d| d.code == shipc::Code::E1009), "{d:?}");
    // 60 levels are fine.
    let ok = String::from("template t0 { replicas = 1 }\n")
        + &(0..60)
            .map(|i| format!("template t{} from t{i} {{ }}\n", i + 1))
            .collect::<String>()
        + "service a from t60 { port http = 80 }\nenv e { kind = tilt }\n";
    let (_, d) = common::analyze_text(&[("a.ship", &ok)]);
    assert!(d.is_empty(), "{d:?}");
}

#[test]
fn a_long_import_chain_is_loaded_without_recursion() {
    let mut host = shipc::load::MemoryHost::new();
    let n = 20_000;
    host.add("ship/a.ship", "import \"../lib1\"\nlet v0 = 0\n");
    for i in 1..n {
        let next = if i + 1 < n {
            format!("import \"../lib{}\"\n", i + 1)
        } else {
            String::new()
        };
        host.add(format!("lib{i}/a.ship"), format!("{next}let v{i} = {i}\n"));
    }
    let mut d = shipc::Diagnostics::new();
    let a = shipc::analyze(&host, std::path::Path::new("ship"), None, &mut d);
    assert!(a.is_ok() && !d.has_errors(), "{:?}", d.into_sorted());
}

#[test]
fn huge_literals_and_nul_bytes() {
    let big = "9".repeat(100_000);
    let (_, d) = common::analyze_text(&[("a.ship", &format!("let x = {big}"))]);
    assert!(d.iter().any(|d| d.code == shipc::Code::E0005));
    let long = "a".repeat(1_000_000);
    let (_, d) = common::analyze_text(&[("a.ship", &format!("let x = \"{long}\""))]);
    assert!(d.is_empty(), "a long string is fine");
    let (_, d) = common::analyze_text(&[("a.ship", "service a { port http = 80 }\0")]);
    assert!(d.iter().any(|d| d.code == shipc::Code::E0003));
    let unit = format!("let x = 1{}", "m".repeat(100));
    check_text(&unit);
    let many = "service a { port http = 80 }\n".to_string() + &"let z = 1\n".repeat(10_000);
    assert!(
        check_text(&many) < Duration::from_secs(5),
        "10,000 lets (debug build)"
    );
}
