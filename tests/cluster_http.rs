//! What kube-testserver cannot show — RBAC refusals, bad credentials, a
//! server that defaults fields, an invalid object — at the HTTP level: the
//! real kube-rs client and `KubeCluster`, answered by `tower-test`'s mock
//! service, then the engine's verdict (the K code, the span, the plan).

use http::{Request, Response};
use kube::client::Body;
use serde_json::{json, Value};
use shipc::cluster::engine::{self, Action, Settings};
use shipc::cluster::kube::KubeCluster;
use shipc::cluster::render::{Desired, Rendered};
use shipc::cluster::Key;
use shipc::diag::Code;
use std::collections::BTreeMap;
use std::pin::pin;
use tower_test::mock;

/// What the fake server answers: (status, body) by method and path.
type Handler = fn(&http::Method, &str, &Value) -> (u16, Value);

fn status(code: u16, reason: &str, message: &str) -> (u16, Value) {
    (
        code,
        json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
               "code": code, "reason": reason, "message": message}),
    )
}

fn core_resources() -> Value {
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "v1", "resources": [
        {"name": "services", "singularName": "service", "namespaced": true, "kind": "Service",
         "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]},
        {"name": "secrets", "singularName": "secret", "namespaced": true, "kind": "Secret",
         "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]},
        {"name": "namespaces", "singularName": "namespace", "namespaced": false, "kind": "Namespace",
         "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]}
    ]})
}

fn list(kind: &str, items: Vec<Value>) -> Value {
    json!({"kind": format!("{kind}List"), "apiVersion": "v1", "metadata": {}, "items": items})
}

fn desired_service() -> Value {
    json!({"apiVersion": "v1", "kind": "Service",
           "metadata": {"name": "web", "namespace": "shop",
                        "labels": {"ship.dev/project": "shop", "ship.dev/env": "prod"}},
           "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}})
}

/// The Service as a real API server stores it: defaults filled in.
fn defaulted_service() -> Value {
    let mut s = desired_service();
    s["metadata"]["uid"] = json!("7f0c");
    s["metadata"]["resourceVersion"] = json!("42");
    s["metadata"]["creationTimestamp"] = json!("2026-12-01T00:00:00Z");
    s["metadata"]["managedFields"] = json!([{"manager": "shipc", "operation": "Apply"}]);
    s["spec"]["clusterIP"] = json!("10.96.0.12");
    s["spec"]["clusterIPs"] = json!(["10.96.0.12"]);
    s["spec"]["type"] = json!("ClusterIP");
    s["spec"]["sessionAffinity"] = json!("None");
    s["spec"]["ipFamilies"] = json!(["IPv4"]);
    s["spec"]["ports"][0]["protocol"] = json!("TCP");
    s["status"] = json!({"loadBalancer": {}});
    s
}

fn rendered() -> Rendered {
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}});
    let svc = desired_service();
    Rendered {
        project: "shop".into(),
        env: "prod".into(),
        namespace: "shop".into(),
        span: shipc::Span::default(),
        objects: vec![
            Desired {
                key: Key::of(&ns).unwrap(),
                object: ns,
                span: shipc::Span::default(),
                wave: 0,
            },
            Desired {
                key: Key::of(&svc).unwrap(),
                object: svc,
                span: shipc::Span {
                    file: shipc::source::FileId(1),
                    start: 10,
                    end: 20,
                },
                wave: 1,
            },
        ],
        images: BTreeMap::new(),
        infra: Vec::new(),
    }
}

fn settings() -> Settings {
    Settings {
        concurrency: 4,
        adopt: false,
        prune_volumes: false,
    }
}

/// A cluster whose every request `handler` answers.
fn cluster(handler: Handler) -> KubeCluster {
    let (service, handle) = mock::pair::<Request<Body>, Response<Body>>();
    tokio::spawn(async move {
        let mut handle = pin!(handle);
        while let Some((req, send)) = handle.next_request().await {
            let method = req.method().clone();
            let path = req.uri().path().to_string();
            let body = req.into_body().collect_bytes().await.unwrap_or_default();
            let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let (code, answer) = handler(&method, &path, &body);
            let resp = Response::builder()
                .status(code)
                .header("content-type", "application/json")
                .body(Body::from(serde_json::to_vec(&answer).unwrap()))
                .unwrap();
            send.send_response(resp);
        }
    });
    KubeCluster::from_client(kube::Client::new(service, "default"))
}

/// A server that answers as kube-apiserver does for an allowed user.
fn normal(method: &http::Method, path: &str, _body: &Value) -> (u16, Value) {
    match (method.as_str(), path) {
        ("GET", "/api/v1") => (200, core_resources()),
        ("GET", "/api/v1/namespaces/shop/secrets") => (200, list("Secret", vec![])),
        ("GET", "/api/v1/namespaces") => (
            200,
            list(
                "Namespace",
                vec![
                    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}),
                ],
            ),
        ),
        ("GET", "/api/v1/namespaces/shop/services") => {
            (200, list("Service", vec![defaulted_service()]))
        }
        // The dry-run answer carries the same defaults (and a new resourceVersion).
        ("PATCH", "/api/v1/namespaces/shop/services/web") => {
            let mut s = defaulted_service();
            s["metadata"]["resourceVersion"] = json!("43");
            (200, s)
        }
        _ => status(404, "NotFound", &format!("{method} {path}")),
    }
}

#[tokio::test]
async fn server_defaults_are_not_changes() {
    let c = cluster(normal);
    let plan = engine::plan(&c, &rendered(), &settings()).await.unwrap();
    let svc = plan
        .changes
        .iter()
        .find(|c| c.object.kind == "Service")
        .unwrap();
    assert_eq!(svc.action, Action::Unchanged, "{:?}", svc.fields);
    assert!(!plan.has_changes(), "{plan:?}");
}

#[tokio::test]
async fn a_changed_field_is_shown_and_nothing_else() {
    fn changed(method: &http::Method, path: &str, body: &Value) -> (u16, Value) {
        if method == "PATCH" {
            let mut s = defaulted_service();
            s["spec"]["ports"][0]["targetPort"] = json!(9090);
            return (200, s);
        }
        normal(method, path, body)
    }
    let c = cluster(changed);
    let plan = engine::plan(&c, &rendered(), &settings()).await.unwrap();
    let svc = plan
        .changes
        .iter()
        .find(|c| c.object.kind == "Service")
        .unwrap();
    assert_eq!(svc.action, Action::Update);
    assert_eq!(svc.fields.len(), 1, "{:?}", svc.fields);
    assert_eq!(svc.fields[0].path, "spec.ports[http].targetPort");
}

#[tokio::test]
async fn an_rbac_refusal_is_k003_with_the_verb_and_resource() {
    fn forbidden(method: &http::Method, path: &str, body: &Value) -> (u16, Value) {
        if path == "/api/v1/namespaces/shop/services" {
            return status(403, "Forbidden", "services is forbidden: User \"dev\" cannot list resource \"services\" in API group \"\" in the namespace \"shop\"");
        }
        normal(method, path, body)
    }
    let c = cluster(forbidden);
    let errors = engine::plan(&c, &rendered(), &settings())
        .await
        .unwrap_err();
    let d = errors.iter().find(|d| d.code == Code::K003).expect("K003");
    assert!(
        d.notes
            .iter()
            .any(|n| n.contains("cannot list resource \"services\"")),
        "{d:?}"
    );
    assert!(d.help.as_deref().unwrap_or("").contains("Role"), "{d:?}");
}

#[tokio::test]
async fn bad_credentials_are_k002() {
    fn unauthorized(_: &http::Method, _: &str, _: &Value) -> (u16, Value) {
        status(401, "Unauthorized", "Unauthorized")
    }
    let c = cluster(unauthorized);
    let errors = engine::plan(&c, &rendered(), &settings())
        .await
        .unwrap_err();
    assert!(errors.iter().any(|d| d.code == Code::K002), "{errors:?}");
}

#[tokio::test]
async fn an_invalid_object_is_k006_at_its_declaration() {
    fn invalid(method: &http::Method, path: &str, body: &Value) -> (u16, Value) {
        if method == "PATCH" {
            return status(
                422,
                "Invalid",
                "Service \"web\" is invalid: spec.ports[0].port: Invalid value: 0",
            );
        }
        normal(method, path, body)
    }
    let c = cluster(invalid);
    let errors = engine::plan(&c, &rendered(), &settings())
        .await
        .unwrap_err();
    let d = errors.iter().find(|d| d.code == Code::K006).expect("K006");
    assert_eq!(d.primary.span.start, 10, "points at the declaration");
    assert!(
        d.notes.iter().any(|n| n.contains("spec.ports[0].port")),
        "{d:?}"
    );
}

#[tokio::test]
async fn an_unserved_kind_is_k004() {
    fn no_apps(method: &http::Method, path: &str, body: &Value) -> (u16, Value) {
        if path == "/apis/apps/v1" {
            return status(
                404,
                "NotFound",
                "the server could not find the requested resource",
            );
        }
        normal(method, path, body)
    }
    let c = cluster(no_apps);
    let mut r = rendered();
    let d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"}});
    r.objects.push(Desired {
        key: Key::of(&d).unwrap(),
        object: d,
        span: shipc::Span::default(),
        wave: 1,
    });
    let errors = engine::plan(&c, &r, &settings()).await.unwrap_err();
    assert!(
        errors
            .iter()
            .any(|d| d.code == Code::K004 && d.message.contains("Deployment")),
        "{errors:?}"
    );
}
