#![allow(clippy::disallowed_methods)] // tests read what the compiler wrote
//! `network_policy = "graph"`: the NetworkPolicies shipc writes admit
//! exactly the traffic the `.ship` files show — read back from the emitted
//! YAML, never from the compiler's own data structures.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// (client, server, ports) — ports `*` for any.
type Flow = (String, String, String);

fn policies(dir: &Path) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for doc in serde_yaml::Deserializer::from_str(&text) {
            let v: serde_json::Value = serde::Deserialize::deserialize(doc).unwrap();
            if v["kind"] == "NetworkPolicy" {
                out.push(v);
            }
        }
    }
    out
}

/// The declaration a peer selects, by its instance label (and namespace).
fn who(peer: &serde_json::Value) -> Option<String> {
    let instance = peer["podSelector"]["matchLabels"]["app.kubernetes.io/instance"].as_str()?;
    Some(instance.replace('-', "_"))
}

fn ports(rule: &serde_json::Value) -> String {
    match rule["ports"].as_array() {
        None => "*".into(),
        Some(p) => p
            .iter()
            .map(|p| p["port"].to_string())
            .collect::<Vec<_>>()
            .join(","),
    }
}

#[test]
fn the_shops_policies_admit_exactly_the_graphs_traffic() {
    let out = std::env::temp_dir().join(format!("shipc-netpol-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    common::compile_example("shop", "prod", &out);
    let all = policies(&out.join("prod/apps"));
    let _ = std::fs::remove_dir_all(&out);

    // What examples/shop references (services.ship), by hand: addresses
    // admit their port, `.host` any port of an infra; `weak()` counts;
    // `depends_on` (recommender -> catalog) does not.
    let expected: BTreeSet<Flow> = [
        ("storefront", "catalog", "50051"),
        ("storefront", "cart", "7070"),
        ("storefront", "checkout", "8080"),
        ("storefront", "search", "9200"),
        ("catalog", "postgres", "*"),
        ("cart", "redis", "*"),
        ("checkout", "cart", "7070"),
        ("checkout", "payments", "50052"),
        ("checkout", "catalog", "50051"),
        ("checkout", "kafka", "*"),
        ("payments", "checkout", "8080"),
        ("search", "catalog", "50051"),
        ("notifier", "kafka", "*"),
        ("recommender", "kafka", "*"),
        ("recommender", "redis", "*"),
        ("nightly_report", "postgres", "*"),
    ]
    .iter()
    .map(|(a, b, p)| (a.to_string(), b.to_string(), p.to_string()))
    .collect();

    let mut ingress: BTreeSet<Flow> = BTreeSet::new();
    let mut egress: BTreeSet<Flow> = BTreeSet::new();
    let mut by_name: BTreeMap<String, &serde_json::Value> = BTreeMap::new();
    for p in &all {
        let name = p["metadata"]["name"].as_str().unwrap().to_string();
        let spec = &p["spec"];
        assert_eq!(
            spec["policyTypes"],
            serde_json::json!(["Ingress", "Egress"]),
            "{name}"
        );
        let Some(me) = who(spec) else {
            by_name.insert(name, p);
            continue;
        };
        for rule in spec["ingress"].as_array().into_iter().flatten() {
            for peer in rule["from"].as_array().unwrap() {
                if let Some(client) = who(peer).filter(|c| *c != me) {
                    ingress.insert((client, me.clone(), ports(rule)));
                }
            }
        }
        for rule in spec["egress"].as_array().into_iter().flatten() {
            for peer in rule["to"].as_array().unwrap() {
                if let Some(server) = who(peer).filter(|s| *s != me) {
                    egress.insert((me.clone(), server, ports(rule)));
                }
            }
        }
        by_name.insert(name, p);
    }
    // Every flow leaves its client; every flow into the namespace's pods
    // (kafka lives in `messaging`, which shipc does not lock down) is
    // admitted by its server.
    assert_eq!(egress, expected);
    let inside: BTreeSet<Flow> = expected
        .iter()
        .filter(|(_, server, _)| server != "kafka")
        .cloned()
        .collect();
    assert_eq!(ingress, inside);

    // The namespace denies by default, DNS excepted.
    let deny = by_name["ship-default-deny"];
    assert_eq!(deny["spec"]["podSelector"], serde_json::json!({}));
    assert!(deny["spec"].get("ingress").is_none());
    assert_eq!(deny["spec"]["egress"][0]["ports"][0]["port"], 53);
    // The user's peers: the ingress controller to storefront's http port,
    // payments to the card provider outside the cluster.
    let storefront = &by_name["storefront"]["spec"]["ingress"];
    assert!(storefront.as_array().unwrap().iter().any(|r| {
        r["from"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
            == "ingress-nginx"
            && ports(r) == "3000"
    }));
    let payments = &by_name["payments"]["spec"]["egress"];
    assert!(payments
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["to"][0]["ipBlock"]["cidr"] == "0.0.0.0/0" && ports(r) == "443"));
}

#[test]
fn without_graph_policies_no_network_policy_is_written() {
    let out = std::env::temp_dir().join(format!("shipc-netpol-none-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    common::compile_example("shop", "local", &out);
    let all = policies(&out.join("local/manifests"));
    let _ = std::fs::remove_dir_all(&out);
    assert!(all.is_empty());
}

#[test]
fn graph_traffic_lists_the_same_flows() {
    let (code, stdout, stderr) = common::shipc_in(
        &common::root(),
        &["graph", "examples/shop/ship", "--env", "prod", "--traffic"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("service/payments -> service/checkout: 8080"),
        "{stdout}"
    );
    assert!(stdout.contains("service/storefront -> service/search: 9200"));
    assert!(!stdout.contains("service/recommender -> service/catalog"));
}
