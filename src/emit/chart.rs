//! The built-in `ship-app` chart: its files (embedded), the objects a
//! service's release renders (the one lowering's, with the main container's
//! image left to the chart's `image` value), and its values file. The
//! helmfile target, the flux target and Tilt's helm strategy deploy it.

use super::k8s::{self, Context};

/// The built-in chart's files, embedded.
pub const CHART: &[(&str, &str)] = &[
    ("Chart.yaml", include_str!("chart/Chart.yaml")),
    ("values.yaml", include_str!("chart/values.yaml")),
    (
        "values.schema.json",
        include_str!("chart/values.schema.json"),
    ),
    (
        "templates/_helpers.tpl",
        include_str!("chart/templates/_helpers.tpl"),
    ),
    (
        "templates/objects.yaml",
        include_str!("chart/templates/objects.yaml"),
    ),
];

/// The objects of one service with the main container's image left empty
/// (the chart fills it in from `image`).
pub fn chart_objects(cx: &Context<'_>, d: &crate::model::Decl) -> Vec<k8s::Body> {
    k8s::service_objects(cx, d)
        .into_iter()
        .map(|o| {
            let mut v = o.value;
            if let Some(c) = v.pod_spec_mut().and_then(|p| p.containers.first_mut()) {
                c.image = None;
            }
            v
        })
        .collect()
}

/// A service's values file for the `ship-app` chart: the image (absent,
/// bare, or pinned) and the objects the chart renders.
#[derive(serde::Serialize)]
pub struct ChartValues<'a> {
    /// `image:` (repository, and digest or tag).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<serde_json::Value>,
    /// `objects:`, with the main container's image left to the chart.
    pub objects: &'a [k8s::Body],
}

/// `oci://host/path/name` → (repository URL `host/path`, chart name).
pub fn split_oci(chart: &str) -> Option<(String, String)> {
    let rest = chart.strip_prefix("oci://")?;
    let (repo, name) = rest.rsplit_once('/')?;
    Some((repo.to_string(), name.to_string()))
}
