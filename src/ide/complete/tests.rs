use super::*;
use crate::load::MemoryHost;

fn snap(files: &[(&str, &str)]) -> Snapshot {
    let mut host = MemoryHost::new();
    for (p, t) in files {
        host.add(format!("ship/{p}"), *t);
    }
    let cache = crate::Cache::new();
    let mut d = crate::Diagnostics::new();
    let a = crate::analyze_with(
        &host,
        std::path::Path::new("ship"),
        None,
        &mut d,
        Some(&cache),
    )
    .unwrap();
    Snapshot::new(a, d.into_sorted(), &cache)
}

fn labels(items: &[Item]) -> Vec<&str> {
    items.iter().map(|i| i.label.as_str()).collect()
}

fn at(s: &Snapshot, text: &str, marker: &str) -> Vec<String> {
    let at = text.find(marker).unwrap() + marker.len();
    complete(s, text, at).into_iter().map(|i| i.label).collect()
}

#[test]
fn completes_by_context() {
    let main = "image api { context = \"api\" }\nservice api { port http = 8080 }\nenv local { kind = tilt }\n";
    let s = snap(&[("main.ship", main)]);
    let t = "service web {\n  resources {\n    ";
    assert_eq!(at(&s, t, "    "), ["cpu", "ephemeral_storage", "memory"]);
    let t = "service web {\n  workload = ";
    assert_eq!(
        at(&s, t, "= "),
        ["deployment", "statefulset", "job", "cronjob"]
    );
    let t = "service web {\n  image = ";
    assert!(at(&s, t, "= ").contains(&"api".to_string()));
    let t = "service api {\n  port http = 8080\n  readiness = http(\"/\", port = ";
    assert!(at(&s, t, "port = ").contains(&"http".to_string()));
    let t = "env prod {\n  ";
    let l = at(&s, t, "  ");
    assert!(
        l.contains(&"kind".to_string()) && l.contains(&"api".to_string()),
        "{l:?}"
    );
    let t = "env prod {\n  api.";
    assert!(at(&s, t, "api.").contains(&"replicas".to_string()));
    let t = "env prod {\n  kind = ";
    assert_eq!(at(&s, t, "= "), ["tilt", "helmfile", "flux"]);
    let l = at(&s, "", "");
    assert!(
        l.contains(&"service".to_string()) && l.contains(&"env".to_string()),
        "{l:?}"
    );
    let t = "let x = if env.name == ";
    assert_eq!(at(&s, t, "== "), ["\"local\""]);
    let t = "service web {\n  liveness = ";
    let l = at(&s, t, "= ");
    assert!(
        l.contains(&"http".to_string()) && !l.contains(&"secret".to_string()),
        "{l:?}"
    );
    let t = "service web {\n  env_vars { A = \"x\" }\n  ";
    assert!(at(&s, t, "}\n  ").contains(&"replicas".to_string()));
    // Inside a comment or a string: nothing.
    assert!(at(&s, "# serv", "serv").is_empty());
    assert!(at(&s, "service web { name = \"a", "\"a").is_empty());
}

#[test]
fn members_of_a_port_in_a_broken_file() {
    let main = "service api { port http = 8080 }\nenv local { kind = tilt }\n";
    let web = "service web {\n  env_vars { A = api.port. }\n}\n";
    let s = snap(&[("main.ship", main), ("web.ship", web)]);
    let at = web.find("port.").unwrap() + 5;
    assert_eq!(labels(&complete(&s, web, at)), ["http"]);
    let at = web.find("api.").unwrap() + 4;
    assert_eq!(labels(&complete(&s, web, at)), ["port", "host", "name"]);
}
