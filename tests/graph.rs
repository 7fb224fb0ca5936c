//! Graph semantics: which references add edges, and with what reason.

mod common;

use shipc::graph::{render, Format};

fn edges(src: &str, env: &str) -> Vec<String> {
    let (a, diags) = common::analyze_text(&[("main.ship", src)]);
    assert!(diags.is_empty(), "{diags:#?}");
    let a = a.unwrap();
    let g = a.graphs.iter().find(|g| g.env == env).expect("graph");
    let v: serde_json::Value = serde_json::from_str(&render(g, Format::Json)).unwrap();
    v["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} -> {} ({})",
                e["from"].as_str().unwrap(),
                e["to"].as_str().unwrap(),
                e["why"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn references_through_a_let_are_edges_of_each_user() {
    let e = edges(
        "let api_url = api.port.http.url\nservice api { port http = 80 }\nservice a { port http = 80, env_vars { U = api_url } }\nservice b { port http = 80, env_vars { V = api_url } }\nenv local { kind = tilt }\n",
        "local",
    );
    assert_eq!(
        e,
        [
            "service/a -> service/api (env_vars.U)",
            "service/b -> service/api (env_vars.V)"
        ]
    );
}

#[test]
fn weak_self_and_default_images() {
    let e = edges(
        "image a { context = \"a\" }\nservice a { port http = 80, env_vars { ME = self.port.http.url, B = weak(b.port.http.url) } }\nservice b { port http = 80, depends_on = [a] }\nenv local { kind = tilt }\n",
        "local",
    );
    assert_eq!(
        e,
        [
            "service/a -> image/a (image)",
            "service/b -> service/a (depends_on)"
        ]
    );
}

#[test]
fn templates_and_overrides_add_edges() {
    let e = edges(
        "infra db { chart = \"oci://r/pg\", version = \"1.0.0\", port pg = 5432 }\ntemplate uses_db { env_vars { DB = db.port.pg } }\nservice a from uses_db { port http = 80 }\nservice b { port http = 80 }\nenv prod { kind = helmfile, b.env_vars.A = a.port.http.url }\n",
        "prod",
    );
    assert_eq!(
        e,
        [
            "service/a -> infra/db (env_vars.DB)",
            "service/b -> service/a (env_vars.A)"
        ]
    );
}

#[test]
fn include_drops_other_declarations() {
    let (a, diags) = common::analyze_text(&[(
        "main.ship",
        "service a { port http = 80 }\nservice b { port http = 80 }\nenv local { kind = tilt, include = [a] }\n",
    )]);
    assert!(diags.is_empty());
    let a = a.unwrap();
    assert_eq!(a.checked.envs[0].services.keys().collect::<Vec<_>>(), ["a"]);
}

#[test]
fn edges_through_template_arguments_say_why() {
    let text = "template uses(target: Service) {\n  env_vars { ADDR = target.port.http.url }\n}\nservice a { port http = 80 }\nservice b from uses(target = a) { port http = 81 }\nenv dev { kind = tilt }\n";
    let (a, diags) = common::analyze_text(&[("main.ship", text)]);
    assert!(diags.is_empty(), "{diags:?}");
    let a = a.unwrap();
    let json = shipc::graph::render(&a.graphs[0], shipc::graph::Format::Json);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    for e in v["edges"].as_array().unwrap() {
        assert!(!e["why"].as_str().unwrap().is_empty(), "{e}");
    }
    assert!(json.contains("template uses(target)"), "{json}");
}
