//! Every example checks with zero diagnostics in every env, and its graphs
//! (JSON, SPEC §13 shape) are snapshotted. The appendix programs of the spec
//! are kept verbatim in `examples/{ameide,cs720,arr-stack}/ship/main.ship`.
#![allow(clippy::disallowed_methods)]

mod common;

use common::{examples, FsHost};
use shipc::graph::{render, Format};

#[test]
fn examples_check_cleanly_and_graphs_are_stable() {
    let all = examples();
    assert!(
        all.len() >= 4,
        "expected at least four examples, found {}",
        all.len()
    );
    for (name, path) in all {
        let mut d = shipc::Diagnostics::new();
        let a = shipc::analyze(&FsHost, &path, None, &mut d).expect("loads");
        let diags = d.into_sorted();
        assert!(
            diags.is_empty(),
            "{name}: expected no diagnostics, got {diags:#?}"
        );
        assert_eq!(
            a.graphs.len(),
            a.checked.envs.len(),
            "{name}: every env has a graph"
        );
        for g in &a.graphs {
            let json = render(g, Format::Json);
            let v: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
            for key in ["env", "nodes", "edges", "waves"] {
                assert!(
                    v.get(key).is_some(),
                    "{name}/{}: graph JSON lacks `{key}`",
                    g.env
                );
            }
            insta::with_settings!({snapshot_path => "snapshots/graphs", prepend_module_to_snapshot => false, omit_expression => true}, {
                insta::assert_snapshot!(format!("{name}__{}", g.env), render(g, Format::Text));
            });
        }
    }
}

#[test]
fn appendix_programs_are_verbatim_from_the_spec() {
    let spec = std::fs::read_to_string(common::root().join("../shared/SPEC.md"));
    let Ok(spec) = spec else {
        // The spec lives beside the repository in CI and development; a bare
        // clone without it cannot compare.
        assert!(
            std::env::var_os("CI").is_none(),
            "../shared/SPEC.md is missing in CI"
        );
        eprintln!("SKIPPED: ../shared/SPEC.md is not beside this clone (nothing to compare the examples with)");
        return;
    };
    let appendix = &spec[spec.find("## Appendix A").expect("appendix")..];
    let blocks: Vec<&str> = appendix
        .split("```ship\n")
        .skip(1)
        .map(|b| &b[..b.find("```").unwrap()])
        .collect();
    for (block, name) in blocks.iter().zip(["ameide", "cs720", "arr-stack"]) {
        let file =
            std::fs::read_to_string(common::root().join(format!("examples/{name}/ship/main.ship")))
                .unwrap();
        assert_eq!(
            &file, block,
            "examples/{name} must hold the appendix program verbatim"
        );
    }
}

#[test]
fn check_is_deterministic() {
    for (name, path) in examples() {
        let render_all = || {
            let mut d = shipc::Diagnostics::new();
            let a = shipc::analyze(&FsHost, &path, None, &mut d).unwrap();
            a.graphs
                .iter()
                .map(|g| render(g, Format::Json))
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert_eq!(
            render_all(),
            render_all(),
            "{name}: graph output differs between runs"
        );
    }
}
