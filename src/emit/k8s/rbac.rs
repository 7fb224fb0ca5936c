//! A service's RBAC `rules`: namespaced rules become a Role and a
//! RoleBinding named after the service; `cluster = true` rules a
//! ClusterRole and a ClusterRoleBinding named `<namespace>-<service>` (a
//! cluster-scoped name must not collide between namespaces). Both bind the
//! service's account: its own, or the shared one it names.

use super::{Body, Context, Object};
use crate::model::view::AccessRule;
use crate::model::{Decl, Value};
use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject,
};
use std::collections::BTreeMap;

fn strings(v: Option<&Value>) -> Vec<String> {
    v.map(Value::strings)
        .unwrap_or_default()
        .into_iter()
        .map(str::to_string)
        .collect()
}

fn policy_rule(r: &Value) -> PolicyRule {
    let a = AccessRule::of(r);
    let names = strings(a.names());
    PolicyRule {
        api_groups: Some(strings(a.api_groups())),
        resources: Some(strings(a.resources())),
        verbs: strings(a.verbs()),
        resource_names: Some(names).filter(|n| !n.is_empty()),
        non_resource_urls: None,
    }
}

/// The Role / ClusterRole objects and their bindings of a service.
pub fn objects(cx: &Context<'_>, d: &Decl) -> Vec<Object> {
    let Some(rules_v) = d.service().rules() else {
        return Vec::new();
    };
    let Some(account) = super::pod::service_account_name(d) else {
        return Vec::new();
    };
    let (cluster, namespaced): (Vec<&Value>, Vec<&Value>) = rules_v
        .as_list()
        .iter()
        .partition(|r| AccessRule::of(r).cluster().and_then(Value::as_bool) == Some(true));
    let subject = Subject {
        kind: "ServiceAccount".into(),
        name: account,
        namespace: Some(cx.namespace()),
        api_group: None,
    };
    let mut out = Vec::new();
    if !namespaced.is_empty() {
        let name = d.k8s_name.clone();
        let meta = || cx.meta(d, &name, BTreeMap::new());
        out.push(Object {
            kind: "Role".into(),
            name: name.clone(),
            value: Body::Role(Box::new(Role {
                metadata: meta(),
                rules: Some(namespaced.iter().map(|r| policy_rule(r)).collect()),
            })),
            span: rules_v.span,
        });
        out.push(Object {
            kind: "RoleBinding".into(),
            name: name.clone(),
            value: Body::RoleBinding(Box::new(RoleBinding {
                metadata: meta(),
                role_ref: RoleRef {
                    api_group: "rbac.authorization.k8s.io".into(),
                    kind: "Role".into(),
                    name: name.clone(),
                },
                subjects: Some(vec![subject.clone()]),
            })),
            span: rules_v.span,
        });
    }
    if !cluster.is_empty() {
        let name = cluster_name(cx, d);
        let meta = || {
            let mut m = cx.meta(d, &name, BTreeMap::new());
            m.namespace = None;
            m
        };
        out.push(Object {
            kind: "ClusterRole".into(),
            name: name.clone(),
            value: Body::ClusterRole(Box::new(ClusterRole {
                metadata: meta(),
                rules: Some(cluster.iter().map(|r| policy_rule(r)).collect()),
                aggregation_rule: None,
            })),
            span: rules_v.span,
        });
        out.push(Object {
            kind: "ClusterRoleBinding".into(),
            name: name.clone(),
            value: Body::ClusterRoleBinding(Box::new(ClusterRoleBinding {
                metadata: meta(),
                role_ref: RoleRef {
                    api_group: "rbac.authorization.k8s.io".into(),
                    kind: "ClusterRole".into(),
                    name: name.clone(),
                },
                subjects: Some(vec![subject]),
            })),
            span: rules_v.span,
        });
    }
    out
}

/// The name of a service's ClusterRole and ClusterRoleBinding.
pub fn cluster_name(cx: &Context<'_>, d: &Decl) -> String {
    format!("{}-{}", cx.namespace(), d.k8s_name)
}
