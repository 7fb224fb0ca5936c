//! What back ends derive from the views: workload kinds, ports by label,
//! image sites and lock keys, the env's settings, config entries.

use super::*;
use crate::model::{Decl, DeclKind, EnvKind, EnvModel, Key, Value};

/// A service's workload kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// A Deployment.
    Deployment,
    /// A StatefulSet.
    StatefulSet,
    /// A Job.
    Job,
    /// A CronJob.
    CronJob,
}

impl<'a> Service<'a> {
    /// The workload kind (a Deployment unless set).
    pub fn workload_kind(self) -> Workload {
        match self.workload().and_then(Value::as_str) {
            Some("statefulset") => Workload::StatefulSet,
            Some("job") => Workload::Job,
            Some("cronjob") => Workload::CronJob,
            _ => Workload::Deployment,
        }
    }

    /// The service's ports: label → value, in label order.
    pub fn port_entries(self) -> impl Iterator<Item = (&'a Key, &'a Value)> {
        self.ports().into_iter().flat_map(Value::entries)
    }

    /// The port value of a label.
    pub fn port(self, label: &str) -> Option<&'a Value> {
        self.ports().and_then(|p| p.get(label))
    }

    /// Init containers, then sidecars (see [`super::extra_containers`]).
    pub fn extra_containers(
        self,
    ) -> impl Iterator<Item = (crate::model::ContainerRole, Container<'a>)> {
        crate::model::extra_containers(self.0).map(|(role, c)| (role, Container(c)))
    }

    /// The labels of the ports its sidecars serve (the main container
    /// serves the rest).
    pub fn sidecar_port_labels(self) -> Vec<&'a str> {
        self.extra_containers()
            .filter(|(role, _)| *role == crate::model::ContainerRole::Sidecar)
            .flat_map(|(_, c)| c.port_labels())
            .collect()
    }

    /// Every env var value of its containers: the main container's, then
    /// each init container's and sidecar's.
    pub fn env_values(self) -> impl Iterator<Item = &'a Value> {
        std::iter::once(self.env_vars())
            .chain(self.extra_containers().map(|(_, c)| c.env_vars()))
            .flatten()
            .flat_map(|m| m.entries().map(|(_, v)| v))
    }

    /// Its volumes, by name, in name order.
    pub fn volume_entries(self) -> impl Iterator<Item = (&'a Key, &'a Value)> {
        self.volumes().into_iter().flat_map(Value::entries)
    }
}

impl<'a> Container<'a> {
    /// The container's name.
    pub fn name_str(self) -> Option<&'a str> {
        self.name().and_then(Value::as_str)
    }

    /// The labels of the service's ports this container serves.
    pub fn port_labels(self) -> Vec<&'a str> {
        self.ports().map(Value::strings).unwrap_or_default()
    }
}

impl<'a> Env<'a> {
    /// The env's delivery kind.
    pub fn env_kind(self) -> EnvKind {
        match self.kind().and_then(Value::as_str) {
            Some("helmfile") => EnvKind::Helmfile,
            Some("flux") => EnvKind::Flux,
            _ => EnvKind::Tilt,
        }
    }

    /// `cluster`.
    pub fn cluster_view(self) -> Option<Cluster<'a>> {
        self.cluster().map(Cluster)
    }

    /// `cluster.context`, when set.
    pub fn context(self) -> Option<&'a Value> {
        self.cluster_view().and_then(Cluster::context)
    }

    /// `cluster.namespace` (derived: always set once the env checked).
    pub fn namespace(self) -> Option<&'a Value> {
        self.cluster_view().and_then(Cluster::namespace)
    }

    /// `tilt`.
    pub fn tilt_settings(self) -> Option<TiltSettings<'a>> {
        self.tilt().map(TiltSettings)
    }

    /// `helmfile`.
    pub fn helmfile_settings(self) -> Option<HelmfileSettings<'a>> {
        self.helmfile().map(HelmfileSettings)
    }

    /// `flux`.
    pub fn flux_settings(self) -> Option<FluxSettings<'a>> {
        self.flux().map(FluxSettings)
    }

    /// `flux.git`.
    pub fn flux_git(self) -> Option<FluxGit<'a>> {
        self.flux_settings()
            .and_then(FluxSettings::git)
            .map(FluxGit)
    }

    /// `flux.oci`.
    pub fn flux_oci(self) -> Option<FluxOci<'a>> {
        self.flux_settings()
            .and_then(FluxSettings::oci)
            .map(FluxOci)
    }

    /// `gateway`.
    pub fn gateway_view(self) -> Option<Gateway<'a>> {
        self.gateway().map(Gateway)
    }

    /// Does the env run the images it builds locally (`images = "build"`,
    /// Tilt) rather than pinned ones?
    pub fn images_built_locally(self) -> bool {
        self.images().and_then(Value::as_str) == Some("build")
    }
}

impl Decl {
    /// This declaration as a service.
    pub fn service(&self) -> Service<'_> {
        Service(&self.value)
    }

    /// This declaration as an image.
    pub fn image(&self) -> Image<'_> {
        Image(&self.value)
    }

    /// This declaration as an infra.
    pub fn infra(&self) -> Infra<'_> {
        Infra(&self.value)
    }

    /// This declaration as a config.
    pub fn config(&self) -> Config<'_> {
        Config(&self.value)
    }

    /// This declaration as a raw object.
    pub fn object(&self) -> super::Object<'_> {
        super::Object(&self.value)
    }
}

impl EnvModel {
    /// The env's record.
    pub fn settings(&self) -> Env<'_> {
        Env(&self.env)
    }
}

impl Decl {
    /// `name`: the explicit Kubernetes name of a service, infra or config.
    pub fn explicit_name(&self) -> Option<&Value> {
        match self.id.kind {
            DeclKind::Service => self.service().name(),
            DeclKind::Infra => self.infra().name(),
            DeclKind::Config => self.config().name(),
            DeclKind::Object => self.object().name(),
            DeclKind::Image | DeclKind::Env => None,
        }
    }

    /// `labels`: the group labels of a service, infra or config.
    pub fn groups(&self) -> Vec<&str> {
        let v = match self.id.kind {
            DeclKind::Service => self.service().labels(),
            DeclKind::Infra => self.infra().labels(),
            DeclKind::Config => self.config().labels(),
            DeclKind::Object => self.object().labels(),
            DeclKind::Image | DeclKind::Env => None,
        };
        v.map(Value::strings).unwrap_or_default()
    }

    /// `namespace`: the namespace an infra names for itself.
    pub fn own_namespace(&self) -> Option<&str> {
        match self.id.kind {
            DeclKind::Infra => self.infra().namespace().and_then(Value::as_str),
            DeclKind::Object => self.object().namespace().and_then(Value::as_str),
            DeclKind::Service | DeclKind::Config | DeclKind::Image | DeclKind::Env => None,
        }
    }
}

/// The internal call a binary file's content becomes once read (the
/// `file()` of a `config` entry whose bytes are not UTF-8 text): base64 in
impl<'a> Config<'a> {
    /// Its `files` entries, by key.
    pub fn entries(self) -> impl Iterator<Item = (&'a Key, ConfigEntry<'a>)> {
        self.files()
            .into_iter()
            .flat_map(Value::entries)
            .map(|(k, v)| (k, ConfigEntry::of(v)))
    }
}

impl Service<'_> {
    /// The container port number of a label.
    pub fn port_number(self, label: &str) -> Option<i64> {
        self.port(label).map(|v| port_number(v).0)
    }

    /// The Service port of a label: its `expose` number, else the
    /// container port.
    pub fn service_port(self, label: &str) -> Option<i64> {
        let exposed = self
            .expose()
            .and_then(|e| e.get(label))
            .and_then(Value::as_int);
        exposed.or_else(|| self.port_number(label))
    }
}

impl EnvModel {
    /// The bare repository of an image declaration: its `repository`, else
    /// its Kubernetes name (no registry, no tag).
    pub fn image_repository(&self, image: &str) -> String {
        let decl = self.images.get(image);
        let repo = decl
            .and_then(|i| i.image().repository().and_then(Value::as_str))
            .map_or_else(|| crate::names::k8s_name(image), str::to_string);
        // Tilt names each image it builds by its repository alone (it tags
        // them itself): images that share a repository through
        // `tag_prefix` get one each in a tilt env.
        let shared = decl.is_some_and(|i| i.image().tag_prefix().is_some());
        if shared && self.env_kind() == EnvKind::Tilt {
            format!("{repo}-{}", crate::names::k8s_name(image))
        } else {
            repo
        }
    }

    /// The `tag_prefix` of an image declaration ("" without one).
    pub fn tag_prefix(&self, image: &str) -> &str {
        self.images
            .get(image)
            .and_then(|i| i.image().tag_prefix())
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    /// An image declaration's repository with the env's `registry` in front.
    pub fn registry_repository(&self, image: &str) -> String {
        let bare = self.image_repository(image);
        match self.settings().registry().and_then(Value::as_str) {
            Some(r) => format!("{}/{bare}", r.trim_end_matches('/')),
            None => bare,
        }
    }
}

/// How a tilt env deploys (`tilt.strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// One manifest per service, `k8s_yaml` each.
    Manifests,
    /// The built-in chart, a `helm_resource` per service.
    Helm,
    /// The manifests as a kustomization.
    Kustomize,
}

impl<'a> Env<'a> {
    /// `tilt.strategy`.
    pub fn strategy(self) -> Strategy {
        match self
            .tilt_settings()
            .and_then(TiltSettings::strategy)
            .and_then(Value::as_str)
        {
            Some("helm") => Strategy::Helm,
            Some("kustomize") => Strategy::Kustomize,
            _ => Strategy::Manifests,
        }
    }

    /// A list of strings under `tilt` (`suspend_flux`, `allow_contexts`).
    fn tilt_list(self, pick: fn(TiltSettings<'a>) -> Option<&'a Value>) -> Vec<&'a str> {
        self.tilt_settings()
            .and_then(pick)
            .map(Value::strings)
            .unwrap_or_default()
    }

    /// `tilt.suspend_flux`: Flux Kustomizations suspended while Tilt runs.
    pub fn suspend_flux(self) -> Vec<&'a str> {
        self.tilt_list(TiltSettings::suspend_flux)
    }

    /// `tilt.allow_contexts`.
    pub fn allow_contexts(self) -> Vec<&'a str> {
        self.tilt_list(TiltSettings::allow_contexts)
    }

    /// `cluster.context` as a string.
    pub fn context_name(self) -> Option<&'a str> {
        self.context().and_then(Value::as_str)
    }
}

/// The key of an extra container's image in `ship.lock` and the images
/// map: `SERVICE.CONTAINER`.
pub fn container_key(service: &str, container: &str) -> String {
    format!("{service}.{container}")
}

/// One image an env deploys: the key (`SERVICE` for a service's main
/// container, `SERVICE.CONTAINER` for an init container or sidecar) and the
/// `image` value.
#[derive(Debug, Clone, Copy)]
pub struct ImageSite<'a> {
    /// The service.
    pub service: &'a Decl,
    /// The init container or sidecar; `None` for the main container.
    pub container: Option<Container<'a>>,
    /// The `image` value.
    pub image: &'a Value,
}

impl ImageSite<'_> {
    /// Its key: `SERVICE` or `SERVICE.CONTAINER`.
    pub fn key(&self) -> String {
        match self.container {
            None => self.service.id.name.clone(),
            Some(c) => container_key(&self.service.id.name, c.name_str().unwrap_or("init")),
        }
    }
}

impl EnvModel {
    /// Every image the env's services deploy, services in name order, each
    /// service's main container first, then its extra containers in order.
    pub fn image_sites(&self) -> Vec<ImageSite<'_>> {
        let mut out = Vec::new();
        for s in self.services.values() {
            let svc = s.service();
            if let Some(image) = svc.image() {
                out.push(ImageSite {
                    service: s,
                    container: None,
                    image,
                });
            }
            for (_, c) in svc.extra_containers() {
                if let Some(image) = c.image() {
                    out.push(ImageSite {
                        service: s,
                        container: Some(c),
                        image,
                    });
                }
            }
        }
        out
    }
}

impl EnvModel {
    /// Does any deployed service run an image this project builds?
    pub fn builds_images(&self) -> bool {
        self.services.values().any(|s| {
            matches!(
                s.service().image().and_then(ImageUse::of),
                Some(ImageUse::Built(_))
            )
        })
    }
}

impl EnvModel {
    /// Every `ship.lock` key the env's images use, with where each is
    /// declared: image declarations by name, `external()` images by site
    /// (`SERVICE`, `SERVICE.CONTAINER`). Two images may claim one key
    /// (E2027 reports that); every claim is listed, in this order.
    pub fn lock_key_claims(&self) -> Vec<(String, crate::source::Span)> {
        let mut out: Vec<(String, crate::source::Span)> = self
            .images
            .iter()
            .map(|(name, img)| (name.clone(), img.name_span))
            .collect();
        for site in self.image_sites() {
            if let Some(ImageUse::External(..)) = ImageUse::of(site.image) {
                out.push((site.key(), site.image.span));
            }
        }
        out
    }

    /// The `ship.lock` keys the env's images use.
    pub fn lock_keys(&self) -> std::collections::BTreeSet<String> {
        self.lock_key_claims().into_iter().map(|(k, _)| k).collect()
    }
}

/// How an env uses one Secret: the keys `secret(name, key)` reads, whether
/// `secret_files` mounts all of it, and where it is first named.
#[derive(Debug, Clone, Default)]
pub struct SecretUse {
    /// The keys read one by one.
    pub keys: std::collections::BTreeSet<String>,
    /// Mounted whole (`secret_files`).
    pub whole: bool,
}

impl EnvModel {
    /// Every Secret the env's services reference, by name.
    pub fn secret_uses(&self) -> std::collections::BTreeMap<String, SecretUse> {
        let mut out: std::collections::BTreeMap<String, SecretUse> = Default::default();
        for s in self.services.values() {
            let v = s.service();
            for x in v.env_values() {
                if let EnvValue::Secret(r) = EnvValue::of(x) {
                    if let (Some(n), Some(k)) = (
                        r.name().and_then(Value::as_str),
                        r.key().and_then(Value::as_str),
                    ) {
                        out.entry(n.to_string())
                            .or_default()
                            .keys
                            .insert(k.to_string());
                    }
                }
            }
            for (_, vol) in v.volume_entries() {
                if let Some(Volume::Secret(sv)) = Volume::of(vol) {
                    if let Some(n) = sv.secret().and_then(Value::as_str) {
                        out.entry(n.to_string()).or_default().whole = true;
                    }
                }
            }
        }
        out
    }
}
