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
        common::skip(
            "../shared/SPEC.md is not beside this clone (nothing to compare the examples with)",
        );
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

/// A made-up but well-formed digest for an example's lock entry.
fn example_digest(seed: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut out = String::from("sha256:");
    for i in 0..8u64 {
        for b in seed.bytes().chain(i.to_le_bytes()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        out.push_str(&format!("{:08x}", h >> 32));
    }
    out
}

/// Every example ships a `ship.lock` that pins each image of each pinned
/// env, so `compile --all` works offline after a clone. With
/// `SHIPC_WRITE_EXAMPLE_LOCKS=1` this test (re)writes them: made-up
/// digests, the repositories the envs resolve, tags from the source.
#[test]
fn every_example_compiles_every_env_offline() {
    for (name, path) in examples() {
        let mut d = shipc::Diagnostics::new();
        let a = shipc::analyze(&FsHost, &path, None, &mut d).expect("loads");
        let lock_path = path.parent().unwrap().join("ship.lock");
        if std::env::var_os("SHIPC_WRITE_EXAMPLE_LOCKS").is_some() {
            let mut lock = shipc::lock::Lockfile {
                version: 1,
                ..Default::default()
            };
            for env in &a.checked.envs {
                if env.kind() == "tilt" {
                    continue;
                }
                let no_images = std::collections::BTreeMap::new();
                let inputs = shipc::lock::plan::Inputs {
                    tag: Some("1.0.0"),
                    images: &no_images,
                    previous: &lock,
                    contract: false,
                };
                let (targets, _) = shipc::lock::plan::targets(env, inputs);
                let mut pins = shipc::lock::EnvLock::default();
                for t in targets {
                    let digest = example_digest(&format!("{name}/{}/{}", env.name, t.key));
                    match &t.what {
                        shipc::lock::plan::What::Image => {
                            let tag = match &t.query.reference {
                                shipc::registry::Reference::Tag(t) => Some(t.clone()),
                                shipc::registry::Reference::Digest(_) => None,
                            };
                            pins.images.insert(
                                t.key.clone(),
                                shipc::lock::ImagePin {
                                    repository: t.query.repository.clone(),
                                    digest,
                                    tag,
                                },
                            );
                        }
                        shipc::lock::plan::What::Chart { chart, version } => {
                            pins.charts.insert(
                                t.key.clone(),
                                shipc::lock::ChartPin {
                                    chart: chart.clone(),
                                    version: version.clone(),
                                    digest,
                                },
                            );
                        }
                    }
                }
                lock.set_env(&env.name, pins);
            }
            let text = format!(
                "# The digests below are made up for the example (tests/examples.rs writes them).\n{}",
                shipc::lock::render(&lock)
            );
            std::fs::write(&lock_path, text).unwrap();
        }
        let out =
            std::env::temp_dir().join(format!("shipc-examples-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&out);
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_shipc"))
            .args(["compile", "--all", "-o"])
            .arg(&out)
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{name}: compile --all needs examples/{name}/ship.lock:\n{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let _ = std::fs::remove_dir_all(&out);
    }
}
