#![allow(clippy::disallowed_methods)] // reads docs/reference.md
//! The stdlib is Ship: it must parse and type-check on its own, and hold the
//! schemas and functions the spec requires (SPEC §6, §13).

mod common;

use shipc::check::types::Ty;
use shipc::syntax::ast::DeclKind;

#[test]
fn stdlib_type_checks() {
    let (a, diags) = common::analyze_text(&[("empty.ship", "")]);
    assert!(diags.is_empty(), "stdlib diagnostics: {diags:#?}");
    let a = a.expect("loads");
    let p = &a.checked.program;
    for kind in [
        DeclKind::Image,
        DeclKind::Service,
        DeclKind::Infra,
        DeclKind::Env,
    ] {
        assert!(
            p.types.record(&p.schema(kind)).is_some(),
            "schema of {kind:?} is a record"
        );
    }
    // Every alias resolves to something other than the fallback.
    for (name, ty) in &p.types.aliases {
        if let Ty::Named(n) = ty {
            assert!(
                p.types.aliases.contains_key(&**n),
                "alias {name} points to unknown {n}"
            );
        }
    }
}

#[test]
fn stdlib_has_the_required_fields_and_functions() {
    let (a, _) = common::analyze_text(&[("empty.ship", "")]);
    let a = a.unwrap();
    let p = &a.checked.program;
    let fields = |kind| -> Vec<String> {
        p.types
            .record(&p.schema(kind))
            .unwrap()
            .fields
            .keys()
            .map(|k| k.to_string())
            .collect()
    };
    let service = fields(DeclKind::Service);
    for f in [
        "image",
        "ports",
        "expose",
        "replicas",
        "command",
        "args",
        "env_vars",
        "resources",
        "readiness",
        "liveness",
        "startup",
        "security",
        "service_account",
        "volumes",
        "host",
        "depends_on",
        "labels",
        "port_forwards",
        "chart",
        "image_keys",
        "workload",
        "schedule",
        "init_containers",
        "annotations",
        "pod_annotations",
        "termination_grace",
        "container_name",
        "load_balancer",
    ] {
        assert!(service.contains(&f.to_string()), "service lacks `{f}`");
    }
    let image = fields(DeclKind::Image);
    for f in [
        "context",
        "dockerfile",
        "repository",
        "build_args",
        "target",
        "live_update",
        "ignore",
    ] {
        assert!(image.contains(&f.to_string()), "image lacks `{f}`");
    }
    let infra = fields(DeclKind::Infra);
    for f in [
        "chart",
        "repo",
        "version",
        "namespace",
        "values",
        "depends_on",
        "health",
        "host",
        "ports",
    ] {
        assert!(infra.contains(&f.to_string()), "infra lacks `{f}`");
    }
    let env = fields(DeclKind::Env);
    for f in [
        "kind",
        "cluster",
        "registry",
        "domain",
        "images",
        "release_suffix",
        "storage_class",
        "routing",
        "gateway",
        "include",
        "tilt",
        "helmfile",
        "flux",
        "insecure_registries",
    ] {
        assert!(env.contains(&f.to_string()), "env lacks `{f}`");
    }
    for f in [
        "http",
        "grpc",
        "tcp",
        "exec",
        "secret",
        "config",
        "field",
        "volume",
        "scratch",
        "secret_files",
        "config_files",
        "forward",
        "sync",
        "run",
        "restart",
        "external",
        "udp",
        "container",
        "weak",
    ] {
        assert!(p.fns.contains_key(f), "stdlib lacks fn `{f}`");
    }
    assert!(p
        .std_lets
        .get("security")
        .is_some_and(|l| l.contains_key("restricted") && l.contains_key("baseline")));
}

#[test]
fn restricted_preset_is_exact() {
    let (a, diags) = common::analyze_text(&[(
        "a.ship",
        "service www { port http = 80, security = std.security.restricted + { run_as = 1000 } }\nenv local { kind = tilt }\n",
    )]);
    assert!(diags.is_empty(), "{diags:#?}");
    let a = a.unwrap();
    let sec = a.checked.envs[0].services["www"]
        .value
        .get("security")
        .unwrap()
        .clone();
    assert_eq!(
        sec.get("run_as_non_root").and_then(|v| v.as_bool()),
        Some(true)
    );
    assert_eq!(
        sec.get("read_only_root_filesystem")
            .and_then(|v| v.as_bool()),
        Some(true)
    );
    assert_eq!(
        sec.get("allow_privilege_escalation")
            .and_then(|v| v.as_bool()),
        Some(false)
    );
    assert_eq!(sec.get("privileged").and_then(|v| v.as_bool()), Some(false));
    assert_eq!(
        sec.get("seccomp").and_then(|v| v.as_str()),
        Some("RuntimeDefault")
    );
    assert_eq!(sec.get("run_as").and_then(|v| v.as_int()), Some(1000));
    let drop: Vec<&str> = sec
        .get("drop_capabilities")
        .unwrap()
        .as_list()
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert_eq!(drop, ["ALL"]);
}

/// The language reference cannot drift from the stdlib: every field of the
/// built-in kinds is in its kind's table (section 6), and every service
/// field is in the lowering table (section 11) or named here as one that
/// lowers to nothing of its own.
#[test]
fn the_reference_lists_every_field_and_its_lowering() {
    let doc = std::fs::read_to_string(common::root().join("docs/reference.md")).unwrap();
    let section = |start: &str, end: &str| -> String {
        let a = doc
            .find(start)
            .unwrap_or_else(|| panic!("no `{start}` in the reference"));
        let rest = &doc[a..];
        let b = rest[start.len()..]
            .find(end)
            .map_or(rest.len(), |i| i + start.len());
        rest[..b].to_string()
    };
    let (analysis, diags) = common::analyze_text(&[("main.ship", "env local { kind = tilt }\n")]);
    assert!(diags.is_empty(), "{diags:?}");
    let program = &analysis.unwrap().checked.program;
    let fields = |schema: &str| -> Vec<String> {
        let ty = shipc::check::types::Ty::Named(schema.into());
        program
            .types
            .record(&ty)
            .unwrap()
            .fields
            .keys()
            .map(|k| k.to_string())
            .collect()
    };
    let mut missing = Vec::new();
    for (schema, heading) in [
        ("ServiceSchema", "### service"),
        ("InfraSchema", "### infra"),
        ("ImageSchema", "### image"),
        ("EnvSchema", "### env"),
        ("ObjectSchema", "### object"),
    ] {
        let table = section(heading, "\n### ");
        for f in fields(schema) {
            // A labelled map (`ports`) is documented by its keyword.
            let shown = if f == "ports" {
                "port NAME".to_string()
            } else {
                f.clone()
            };
            if !table.contains(&format!("`{shown}")) {
                missing.push(format!("{heading}: `{f}`"));
            }
        }
    }
    let lowering = section("## 11. Lowering", "\n## ");
    // Service fields that become nothing of their own in Kubernetes objects.
    let not_lowered = [
        "depends_on",
        "port_forwards",
        "chart",
        "image_keys",
        "schedule",
    ];
    for f in fields("ServiceSchema") {
        let shown = if f == "ports" {
            "port NAME".to_string()
        } else {
            f.clone()
        };
        if !not_lowered.contains(&f.as_str()) && !lowering.contains(&format!("`{shown}")) {
            missing.push(format!("lowering: `{f}`"));
        }
    }
    assert!(
        missing.is_empty(),
        "fields missing from docs/reference.md:\n{}",
        missing.join("\n")
    );
}

/// Back ends read the model through `model::view`; every field a view reads
/// must be a field (or parameter) of the stdlib shape it names, so a renamed
/// field in `prelude.ship` cannot leave a back end reading nothing.
#[test]
fn every_field_a_view_reads_exists_in_the_prelude() {
    let (a, _) = common::analyze_text(&[("empty.ship", "")]);
    let a = a.expect("loads");
    let p = &a.checked.program;
    let mut missing = Vec::new();
    for shape in shipc::model::view::SHAPES {
        let known: Vec<String> = if let Some(f) = shape.ty.strip_prefix("fn ") {
            let sig = p
                .fns
                .get(f)
                .unwrap_or_else(|| panic!("view of unknown function {f}"));
            sig.params.iter().map(|p| p.name.clone()).collect()
        } else {
            let ty = p
                .types
                .aliases
                .get(shape.ty)
                .unwrap_or_else(|| panic!("view of unknown type {}", shape.ty));
            let rec = p
                .types
                .record(ty)
                .unwrap_or_else(|| panic!("{} is not a record", shape.ty));
            rec.fields.keys().map(|k| k.to_string()).collect()
        };
        for field in shape.fields {
            if !known.iter().any(|k| k == field) {
                missing.push(format!("{}.{field}", shape.ty));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "views read fields the prelude lacks: {missing:?}"
    );
}

/// The stdlib's trees embedded in the binary are those of the stdlib's
/// text (`SHIPC_WRITE_STDLIB_AST=1` rewrites them), and loading uses them:
/// the same program either way.
#[test]
#[allow(clippy::disallowed_methods)] // writes the embedded file on request
fn the_embedded_stdlib_trees_are_current() {
    let mut sources = shipc::SourceMap::new();
    let files: Vec<_> = shipc::load::STDLIB
        .iter()
        .map(|(name, text)| {
            let id = sources.add(format!("<std>/{name}").into(), (*text).to_string(), true);
            let file = sources.get(id).expect("added");
            shipc::syntax::parse(file).unwrap_or_else(|d| panic!("stdlib parses: {d:?}"))
        })
        .collect();
    let fresh = shipc::load::stdlib::serialize(files);
    let path = common::root().join("stdlib/ship/stdlib.ast");
    if std::env::var_os("SHIPC_WRITE_STDLIB_AST").is_some() {
        std::fs::write(&path, &fresh).expect("writes stdlib.ast");
        return;
    }
    assert!(
        fresh == shipc::load::stdlib::embedded_bytes(),
        "stdlib/ship/stdlib.ast is not the stdlib's parse: run `SHIPC_WRITE_STDLIB_AST=1 cargo test --test stdlib` and commit it"
    );
    assert!(
        shipc::load::stdlib::in_use(),
        "loading uses the embedded trees"
    );
}
