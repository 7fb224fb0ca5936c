//! Scaling and scheduling: `autoscale` → HorizontalPodAutoscaler
//! (autoscaling/v2), `disruption` → PodDisruptionBudget (policy/v1), and the
//! pod's `node_selector`, `tolerations`, `affinity` and `spread`.

use super::{seconds, string_map, Body, Context, Object};
use crate::model::view;
use crate::model::{Decl, Value, V};
use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec, MetricSpec,
    MetricTarget, ResourceMetricSource,
};
use k8s_openapi::api::core::v1::{
    Affinity, NodeAffinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm,
    PodAffinityTerm, PodAntiAffinity, PreferredSchedulingTerm, Toleration,
    TopologySpreadConstraint, WeightedPodAffinityTerm,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

/// The node label of a `spread`/`apart` domain.
fn topology_key(domain: &str) -> &'static str {
    match domain {
        "zone" => "topology.kubernetes.io/zone",
        _ => "kubernetes.io/hostname",
    }
}

/// Whether the service scales automatically (then its workload sets no
/// `replicas`: the autoscaler owns the field).
pub fn autoscaled(d: &Decl) -> bool {
    d.service().autoscale().is_some()
}

fn percent(v: &Value) -> Option<i32> {
    match &v.kind {
        V::Quantity(q) => i32::try_from(q.amount.round() as i64).ok(),
        _ => None,
    }
}

/// An `Int | Percent` as Kubernetes writes it (`1`, `"50%"`).
fn int_or_percent(v: &Value) -> Option<IntOrString> {
    match &v.kind {
        V::Int(n) => i32::try_from(*n).ok().map(IntOrString::Int),
        V::Quantity(q) => Some(IntOrString::String(q.text.clone())),
        _ => None,
    }
}

/// The HorizontalPodAutoscaler of a service with `autoscale`.
pub fn autoscaler(cx: &Context<'_>, d: &Decl, workload_kind: &str) -> Option<Object> {
    let a = view::Autoscale::of(d.service().autoscale()?);
    let (min, max) = match a.replicas().map(|r| &r.kind) {
        Some(V::Range(lo, hi)) => (
            lo.as_int(),
            hi.as_ref().and_then(|h| h.as_int()).or(lo.as_int()),
        ),
        _ => (None, None),
    };
    let metric = |(name, v): (&str, Option<&Value>)| {
        v.and_then(percent).map(|p| MetricSpec {
            type_: "Resource".into(),
            resource: Some(ResourceMetricSource {
                name: name.into(),
                target: MetricTarget {
                    type_: "Utilization".into(),
                    average_utilization: Some(p),
                    ..MetricTarget::default()
                },
            }),
            ..MetricSpec::default()
        })
    };
    let metrics: Vec<MetricSpec> = [("cpu", a.cpu()), ("memory", a.memory())]
        .into_iter()
        .filter_map(metric)
        .collect();
    let name = d.k8s_name.clone();
    let hpa = HorizontalPodAutoscaler {
        metadata: cx.meta(d, &name, BTreeMap::new()),
        spec: Some(HorizontalPodAutoscalerSpec {
            min_replicas: min.and_then(|n| i32::try_from(n).ok()),
            max_replicas: max.and_then(|n| i32::try_from(n).ok()).unwrap_or(1),
            metrics: Some(metrics).filter(|m| !m.is_empty()),
            scale_target_ref: CrossVersionObjectReference {
                api_version: Some("apps/v1".into()),
                kind: workload_kind.into(),
                name: name.clone(),
            },
            ..HorizontalPodAutoscalerSpec::default()
        }),
        ..HorizontalPodAutoscaler::default()
    };
    Some(Object {
        kind: "HorizontalPodAutoscaler".into(),
        name,
        value: Body::Autoscaler(Box::new(hpa)),
        span: a.raw().span,
    })
}

/// The PodDisruptionBudget of a service with `disruption`.
pub fn disruption_budget(cx: &Context<'_>, d: &Decl) -> Option<Object> {
    let b = view::Disruption::of(d.service().disruption()?);
    let name = d.k8s_name.clone();
    let pdb = PodDisruptionBudget {
        metadata: cx.meta(d, &name, BTreeMap::new()),
        spec: Some(PodDisruptionBudgetSpec {
            min_available: b.min_available().and_then(int_or_percent),
            max_unavailable: b.max_unavailable().and_then(int_or_percent),
            selector: Some(LabelSelector {
                match_labels: Some(cx.selector(d)),
                ..LabelSelector::default()
            }),
            ..PodDisruptionBudgetSpec::default()
        }),
        ..PodDisruptionBudget::default()
    };
    Some(Object {
        kind: "PodDisruptionBudget".into(),
        name,
        value: Body::DisruptionBudget(Box::new(pdb)),
        span: b.raw().span,
    })
}

/// What the pod spec says about where it runs.
pub struct Placement {
    /// `nodeSelector`.
    pub node_selector: Option<BTreeMap<String, String>>,
    /// `tolerations`.
    pub tolerations: Option<Vec<Toleration>>,
    /// `affinity`.
    pub affinity: Option<Affinity>,
    /// `topologySpreadConstraints`.
    pub spread: Option<Vec<TopologySpreadConstraint>>,
}

fn requirements(m: Option<&Value>) -> Vec<NodeSelectorRequirement> {
    m.map(|m| {
        m.entries()
            .map(|(k, vals)| NodeSelectorRequirement {
                key: k.to_string(),
                operator: "In".into(),
                values: Some(vals.strings().into_iter().map(str::to_string).collect()),
            })
            .collect()
    })
    .unwrap_or_default()
}

/// The placement of a service's pods.
pub fn placement(cx: &Context<'_>, d: &Decl) -> Placement {
    let svc = d.service();
    let node_selector = Some(string_map(svc.node_selector())).filter(|m| !m.is_empty());
    let tolerations: Vec<Toleration> = svc
        .tolerations()
        .map(Value::as_list)
        .unwrap_or(&[])
        .iter()
        .map(|t| {
            let t = view::Toleration::of(t);
            let s = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
            Toleration {
                key: s(t.key()),
                operator: s(t.operator()),
                value: s(t.value()),
                effect: s(t.effect()),
                toleration_seconds: t.seconds().and_then(seconds),
            }
        })
        .collect();
    let selector = LabelSelector {
        match_labels: Some(cx.selector(d)),
        ..LabelSelector::default()
    };
    let affinity = svc.affinity().map(view::Affinity::of).map(|a| {
        let required = requirements(a.nodes());
        let preferred = requirements(a.prefer_nodes());
        let node = (!required.is_empty() || !preferred.is_empty()).then(|| NodeAffinity {
            required_during_scheduling_ignored_during_execution: (!required.is_empty()).then(
                || NodeSelector {
                    node_selector_terms: vec![NodeSelectorTerm {
                        match_expressions: Some(required),
                        ..NodeSelectorTerm::default()
                    }],
                },
            ),
            preferred_during_scheduling_ignored_during_execution: (!preferred.is_empty()).then(
                || {
                    vec![PreferredSchedulingTerm {
                        weight: 100,
                        preference: NodeSelectorTerm {
                            match_expressions: Some(preferred),
                            ..NodeSelectorTerm::default()
                        },
                    }]
                },
            ),
        });
        let apart = a
            .apart()
            .and_then(Value::as_str)
            .map(|domain| PodAntiAffinity {
                preferred_during_scheduling_ignored_during_execution: Some(vec![
                    WeightedPodAffinityTerm {
                        weight: 100,
                        pod_affinity_term: PodAffinityTerm {
                            label_selector: Some(selector.clone()),
                            topology_key: topology_key(domain).into(),
                            ..PodAffinityTerm::default()
                        },
                    },
                ]),
                ..PodAntiAffinity::default()
            });
        Affinity {
            node_affinity: node,
            pod_anti_affinity: apart,
            ..Affinity::default()
        }
    });
    let spread = svc.spread().and_then(Value::as_str).map(|domain| {
        vec![TopologySpreadConstraint {
            max_skew: 1,
            topology_key: topology_key(domain).into(),
            when_unsatisfiable: "ScheduleAnyway".into(),
            label_selector: Some(selector.clone()),
            ..TopologySpreadConstraint::default()
        }]
    });
    Placement {
        node_selector,
        tolerations: Some(tolerations).filter(|t| !t.is_empty()),
        affinity: affinity.filter(|a| a.node_affinity.is_some() || a.pod_anti_affinity.is_some()),
        spread,
    }
}
