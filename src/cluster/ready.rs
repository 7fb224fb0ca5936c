//! Whether a live object is ready, from its `status` (what `kubectl
//! rollout status` checks). The server runs the controllers; this only
//! reads what they wrote.

use super::Json;

/// Readiness of one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ready {
    /// Done.
    Yes,
    /// Not yet, and why (`1/3 replicas available`).
    Pending(String),
    /// Never will be (a failed Job).
    Failed(String),
}

fn int(obj: &Json, p: &str) -> i64 {
    obj.pointer(p).and_then(Json::as_i64).unwrap_or(0)
}

fn condition<'a>(obj: &'a Json, kind: &str) -> Option<&'a Json> {
    obj.pointer("/status/conditions")
        .and_then(Json::as_array)?
        .iter()
        .find(|c| c.get("type").and_then(Json::as_str) == Some(kind))
}

fn is_true(c: Option<&Json>) -> bool {
    c.and_then(|c| c.get("status")).and_then(Json::as_str) == Some("True")
}

/// The readiness of `obj` (a live object with its status). `immediate`:
/// whether the PVC's StorageClass binds at once (else `WaitForFirstConsumer`
/// PVCs are ready when they exist).
pub fn readiness(obj: &Json, immediate_binding: bool) -> Ready {
    let kind = obj.get("kind").and_then(Json::as_str).unwrap_or("");
    let generation = int(obj, "/metadata/generation");
    let observed = int(obj, "/status/observedGeneration");
    match kind {
        "Deployment" => {
            let want = obj
                .pointer("/spec/replicas")
                .and_then(Json::as_i64)
                .unwrap_or(1);
            let updated = int(obj, "/status/updatedReplicas");
            let available = int(obj, "/status/availableReplicas");
            let total = int(obj, "/status/replicas");
            if let Some(c) = condition(obj, "Progressing") {
                if c.get("reason").and_then(Json::as_str) == Some("ProgressDeadlineExceeded") {
                    return Ready::Failed("the rollout exceeded its progress deadline".into());
                }
            }
            if observed < generation {
                Ready::Pending("waiting for the controller to see the new spec".into())
            } else if updated < want {
                Ready::Pending(format!("{updated}/{want} replicas updated"))
            } else if total > updated {
                Ready::Pending(format!("{} old replicas terminating", total - updated))
            } else if available < want {
                Ready::Pending(format!("{available}/{want} replicas available"))
            } else {
                Ready::Yes
            }
        }
        "StatefulSet" => {
            let want = obj
                .pointer("/spec/replicas")
                .and_then(Json::as_i64)
                .unwrap_or(1);
            let ready = int(obj, "/status/readyReplicas");
            let current = obj
                .pointer("/status/currentRevision")
                .and_then(Json::as_str);
            let update = obj.pointer("/status/updateRevision").and_then(Json::as_str);
            if observed < generation {
                Ready::Pending("waiting for the controller to see the new spec".into())
            } else if ready < want {
                Ready::Pending(format!("{ready}/{want} replicas ready"))
            } else if update.is_some() && current != update {
                Ready::Pending("rolling out the new revision".into())
            } else {
                Ready::Yes
            }
        }
        "Job" => {
            if is_true(condition(obj, "Failed")) {
                let why = condition(obj, "Failed")
                    .and_then(|c| c.get("message").or_else(|| c.get("reason")))
                    .and_then(Json::as_str)
                    .unwrap_or("the Job failed");
                Ready::Failed(why.to_string())
            } else if is_true(condition(obj, "Complete")) {
                Ready::Yes
            } else {
                Ready::Pending(format!(
                    "{} succeeded, {} active",
                    int(obj, "/status/succeeded"),
                    int(obj, "/status/active")
                ))
            }
        }
        "PersistentVolumeClaim" if immediate_binding => {
            match obj.pointer("/status/phase").and_then(Json::as_str) {
                Some("Bound") => Ready::Yes,
                Some("Lost") => Ready::Failed("the claim lost its volume".into()),
                p => Ready::Pending(format!("phase {}", p.unwrap_or("Pending"))),
            }
        }
        // CronJob (accepted when stored), Service, Ingress, ConfigMap, …:
        // ready once they exist.
        _ => Ready::Yes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn deployment_rollout() {
        let d = |g: i64, st: Json| json!({"kind": "Deployment", "metadata": {"generation": g}, "spec": {"replicas": 2}, "status": st});
        assert!(matches!(
            readiness(&d(2, json!({"observedGeneration": 1})), false),
            Ready::Pending(_)
        ));
        assert!(
            matches!(readiness(&d(1, json!({"observedGeneration": 1, "updatedReplicas": 2, "replicas": 2, "availableReplicas": 1})), false), Ready::Pending(s) if s.contains("1/2"))
        );
        assert_eq!(
            readiness(
                &d(
                    1,
                    json!({"observedGeneration": 1, "updatedReplicas": 2, "replicas": 2, "availableReplicas": 2})
                ),
                false
            ),
            Ready::Yes
        );
    }

    #[test]
    fn failed_job() {
        let j = json!({"kind": "Job", "status": {"conditions": [{"type": "Failed", "status": "True", "message": "BackoffLimitExceeded"}]}});
        assert_eq!(
            readiness(&j, false),
            Ready::Failed("BackoffLimitExceeded".into())
        );
    }
}
