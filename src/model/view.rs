//! Typed views over the evaluated model: the one place back ends' field
//! names live.
//!
//! The evaluator produces untyped [`Value`] records (every value keeps its
//! span); back ends (emit, policy, lock, diff, the cluster verbs) read them
//! through these views, never by a string key (rust-analyzer's typed `ast`
//! over its untyped tree is the pattern). A view is a `Copy` wrapper of one
//! record or stdlib call with an accessor per field that returns the value
//! with its span; unions the stdlib closes (probes, hooks, volumes, env var
//! sources, live-update steps, workloads, env kinds) are enums matched
//! exhaustively, so a new constructor is a compile error in every back end
//! that must handle it, never a silent fall-through.
//!
//! Every view names the stdlib type (or function) it reads and its fields
//! ([`Shape`]); a test checks each field against `prelude.ship`.

use super::{Decl, EnvKind, EnvModel, Value, V};
use crate::syntax::ast::DeclKind;

/// What a view reads: a stdlib record type or function, and its fields.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// `ServiceSchema`, or `fn http` for a call's arguments.
    pub ty: &'static str,
    /// The fields (or parameters) the view reads.
    pub fields: &'static [&'static str],
}

macro_rules! key {
    ($f:ident) => {
        stringify!($f)
    };
    ($f:ident $k:literal) => {
        $k
    };
}

macro_rules! view {
    ($(#[$doc:meta])* $name:ident = $ty:literal { $($field:ident $(as $key:literal)?),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        pub struct $name<'a>(&'a Value);

        impl<'a> $name<'a> {
            /// View a value of this shape.
            pub fn of(v: &'a Value) -> Self {
                $name(v)
            }

            /// The whole value (its span, or a generic walk).
            pub fn raw(self) -> &'a Value {
                self.0
            }

            $(
                #[doc = concat!("`", key!($field $($key)?), "`, when set.")]
                pub fn $field(self) -> Option<&'a Value> {
                    self.0.get(key!($field $($key)?))
                }
            )*
        }

        impl $name<'_> {
            /// The stdlib shape this view reads.
            pub const SHAPE: Shape = Shape {
                ty: $ty,
                fields: &[$(key!($field $($key)?)),*],
            };
        }
    };
}

view! {
    /// A `service` declaration's record.
    Service = "ServiceSchema" {
        name, image, ports, expose, load_balancer, replicas, workload, schedule,
        command, args, env_vars, resources, readiness, liveness, startup, security,
        service_account, volumes, host, path, depends_on, labels, port_forwards,
        chart, image_keys, init_containers, sidecars, annotations, pod_annotations,
        termination_grace, container_name, autoscale, disruption, node_selector,
        tolerations, affinity, spread, image_pull_policy, image_pull_secrets,
        revision_history_limit, k8s_labels, host_aliases, service_type, node_ports,
        internal, service_annotations, service_labels, session_affinity, pre_stop,
        post_start,
    }
}

view! {
    /// An `image` declaration's record.
    Image = "ImageSchema" {
        context, dockerfile, repository, build_args, target, live_update, ignore,
        platform, entrypoint,
    }
}

view! {
    /// An `infra` declaration's record.
    Infra = "InfraSchema" {
        name, chart, repo, version, namespace, values, depends_on, health, host,
        ports, labels, services,
    }
}

view! {
    /// A `config` declaration's record.
    Config = "ConfigSchema" { name, files, labels }
}

view! {
    /// The `project { }` record.
    Project = "ProjectSchema" { name, namespace, labels }
}

view! {
    /// An `env` declaration's record (derived defaults filled).
    Env = "EnvSchema" {
        kind, cluster, registry, domain, images, release_suffix, storage_class,
        routing, gateway, ingress_class, include, insecure_registries, sidecars,
        tilt, helmfile, flux,
    }
}

view! {
    /// An env's `cluster`.
    Cluster = "Cluster" { context, namespace }
}

view! {
    /// An env's `tilt` settings.
    TiltSettings = "TiltSettings" { strategy, upsert_timeout, suspend_flux, allow_contexts }
}

view! {
    /// An env's `helmfile` settings.
    HelmfileSettings = "HelmfileSettings" { wait, atomic, timeout, environments }
}

view! {
    /// An env's `flux` settings.
    FluxSettings = "FluxSettings" { git, oci, interval, prune, wait, timeout }
}

view! {
    /// `flux.git`.
    FluxGit = "FluxGit" { url, branch, path, secret }
}

view! {
    /// `flux.oci`.
    FluxOci = "FluxOci" { url, tag, secret }
}

view! {
    /// An env's `gateway`.
    Gateway = "Gateway" { name, namespace, section }
}

view! {
    /// A `security` record (a service's or a container's).
    Security = "Security" {
        profile, run_as_non_root, run_as, run_as_group, fs_group,
        read_only_root_filesystem, allow_privilege_escalation, privileged,
        drop_capabilities, add_capabilities, seccomp,
    }
}

view! {
    /// A `resources` record.
    Resources = "Resources" { cpu, memory, ephemeral_storage }
}

view! {
    /// A service's `autoscale`.
    Autoscale = "Autoscale" { replicas, cpu, memory }
}

view! {
    /// A service's `disruption`.
    Disruption = "Disruption" { min_available, max_unavailable }
}

view! {
    /// One of a service's `tolerations`.
    Toleration = "Toleration" { key, operator, value, effect, seconds }
}

view! {
    /// A service's `affinity`.
    Affinity = "Affinity" { nodes, prefer_nodes, apart }
}

view! {
    /// A service's `chart` (an external chart it is deployed with).
    ChartRef = "ChartRef" { name, repo, version, values }
}

view! {
    /// A service's `image_keys`.
    ImageKeys = "ImageKeys" { repository, digest, tag }
}

view! {
    /// One of an infra's further `services`.
    InfraService = "InfraService" { host, ports }
}

view! {
    /// A `container(…)` of `init_containers` or `sidecars`.
    Container = "fn container" {
        name, image, command, args, env_vars, security, ports, mounts, resources,
        readiness, liveness, startup, image_pull_policy,
    }
}

view! {
    /// `http(path, port, …)`: a probe or a hook.
    HttpProbe = "fn http" {
        path, port, headers, delay, period, timeout, failure_threshold, success_threshold,
    }
}

view! {
    /// `grpc(port, …)`.
    GrpcProbe = "fn grpc" {
        port, service, delay, period, timeout, failure_threshold, success_threshold,
    }
}

view! {
    /// `tcp(port, …)`.
    TcpProbe = "fn tcp" { port, delay, period, timeout, failure_threshold, success_threshold }
}

view! {
    /// `exec([…], …)`: a probe or a hook.
    ExecProbe = "fn exec" {
        command, delay, period, timeout, failure_threshold, success_threshold,
    }
}

view! {
    /// `sleep(d)`: a hook.
    SleepHook = "fn sleep" { duration }
}

view! {
    /// `secret(name, key)`.
    SecretRef = "fn secret" { name, key }
}

view! {
    /// `config(config_map, key)`.
    ConfigRef = "fn config" { config_map, key }
}

view! {
    /// `field(path)`.
    FieldRef = "fn field" { path }
}

view! {
    /// `volume(size, mount, access)`.
    PersistentVolume = "fn volume" { size, mount, access }
}

view! {
    /// `scratch(mount, memory)`.
    ScratchVolume = "fn scratch" { mount, memory }
}

view! {
    /// `secret_files(secret, mount)`.
    SecretVolume = "fn secret_files" { secret, mount }
}

view! {
    /// `config_files(config_map, mount, keys)`.
    ConfigVolume = "fn config_files" { config_map, mount, keys }
}

view! {
    /// `file(path)`: a `config` entry read from the project.
    FileText = "fn file" { path }
}

view! {
    /// `udp(number)`.
    UdpPort = "fn udp" { number }
}

view! {
    /// `forward(local, port)`.
    PortForward = "fn forward" { local, port }
}

view! {
    /// `sync(local, remote)`.
    SyncStep = "fn sync" { local, remote }
}

view! {
    /// `run(command, trigger)`.
    RunStep = "fn run" { command, trigger }
}

view! {
    /// `external(ref)`: an image built elsewhere.
    External = "fn external" { r#ref as "ref" }
}

/// Every view's shape (the test against `prelude.ship` walks this).
pub const SHAPES: &[Shape] = &[
    Service::SHAPE,
    Image::SHAPE,
    Infra::SHAPE,
    Config::SHAPE,
    Project::SHAPE,
    Env::SHAPE,
    Cluster::SHAPE,
    TiltSettings::SHAPE,
    HelmfileSettings::SHAPE,
    FluxSettings::SHAPE,
    FluxGit::SHAPE,
    FluxOci::SHAPE,
    Gateway::SHAPE,
    Security::SHAPE,
    Resources::SHAPE,
    Autoscale::SHAPE,
    Disruption::SHAPE,
    Toleration::SHAPE,
    Affinity::SHAPE,
    ChartRef::SHAPE,
    ImageKeys::SHAPE,
    InfraService::SHAPE,
    Container::SHAPE,
    HttpProbe::SHAPE,
    GrpcProbe::SHAPE,
    TcpProbe::SHAPE,
    ExecProbe::SHAPE,
    SleepHook::SHAPE,
    SecretRef::SHAPE,
    ConfigRef::SHAPE,
    FieldRef::SHAPE,
    PersistentVolume::SHAPE,
    ScratchVolume::SHAPE,
    SecretVolume::SHAPE,
    ConfigVolume::SHAPE,
    FileText::SHAPE,
    UdpPort::SHAPE,
    PortForward::SHAPE,
    SyncStep::SHAPE,
    RunStep::SHAPE,
    External::SHAPE,
];

/// The name of the stdlib function a value is the result of.
fn call_name(v: &Value) -> Option<&str> {
    match &v.kind {
        V::Call { func, .. } => Some(func),
        _ => None,
    }
}

/// A `Probe`: one of the stdlib's probe constructors.
#[derive(Debug, Clone, Copy)]
pub enum Probe<'a> {
    /// `http(path, port)`.
    Http(HttpProbe<'a>),
    /// `grpc(port)`.
    Grpc(GrpcProbe<'a>),
    /// `tcp(port)`.
    Tcp(TcpProbe<'a>),
    /// `exec([…])`.
    Exec(ExecProbe<'a>),
}

/// A probe's timings, whichever constructor made it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Timings<'a> {
    /// `delay`.
    pub delay: Option<&'a Value>,
    /// `period`.
    pub period: Option<&'a Value>,
    /// `timeout`.
    pub timeout: Option<&'a Value>,
    /// `failure_threshold`.
    pub failure_threshold: Option<&'a Value>,
    /// `success_threshold`.
    pub success_threshold: Option<&'a Value>,
}

macro_rules! timings {
    ($p:expr) => {
        Timings {
            delay: $p.delay(),
            period: $p.period(),
            timeout: $p.timeout(),
            failure_threshold: $p.failure_threshold(),
            success_threshold: $p.success_threshold(),
        }
    };
}

impl<'a> Probe<'a> {
    /// The probe a value is; `None` for anything a probe constructor did
    /// not make (a constructor this version does not know yields no probe).
    pub fn of(v: &'a Value) -> Option<Probe<'a>> {
        Some(match call_name(v)? {
            "http" => Probe::Http(HttpProbe(v)),
            "grpc" => Probe::Grpc(GrpcProbe(v)),
            "tcp" => Probe::Tcp(TcpProbe(v)),
            "exec" => Probe::Exec(ExecProbe(v)),
            _ => return None,
        })
    }

    /// Its timings.
    pub fn timings(self) -> Timings<'a> {
        match self {
            Probe::Http(p) => timings!(p),
            Probe::Grpc(p) => timings!(p),
            Probe::Tcp(p) => timings!(p),
            Probe::Exec(p) => timings!(p),
        }
    }

    /// The port it targets (a label or a number), if it targets one.
    pub fn port(self) -> Option<&'a Value> {
        match self {
            Probe::Http(p) => p.port(),
            Probe::Grpc(p) => p.port(),
            Probe::Tcp(p) => p.port(),
            Probe::Exec(_) => None,
        }
    }
}

/// A lifecycle hook (`pre_stop`, `post_start`): a probe constructor or `sleep`.
#[derive(Debug, Clone, Copy)]
pub enum Hook<'a> {
    /// `exec([…])`.
    Exec(ExecProbe<'a>),
    /// `http(path, port)`.
    Http(HttpProbe<'a>),
    /// `sleep(d)`.
    Sleep(SleepHook<'a>),
    /// `grpc(…)` or `tcp(…)`: Kubernetes has no such handler (the checker
    /// refuses them; a hook of this kind lowers to nothing).
    Unsupported,
}

impl<'a> Hook<'a> {
    /// The hook a value is.
    pub fn of(v: &'a Value) -> Option<Hook<'a>> {
        if call_name(v) == Some("sleep") {
            return Some(Hook::Sleep(SleepHook(v)));
        }
        Some(match Probe::of(v)? {
            Probe::Exec(e) => Hook::Exec(e),
            Probe::Http(h) => Hook::Http(h),
            Probe::Grpc(_) | Probe::Tcp(_) => Hook::Unsupported,
        })
    }
}

/// A `Volume`: one of the stdlib's volume constructors.
#[derive(Debug, Clone, Copy)]
pub enum Volume<'a> {
    /// `volume(size, mount)`: a PersistentVolumeClaim.
    Persistent(PersistentVolume<'a>),
    /// `scratch(mount)`: an emptyDir.
    Scratch(ScratchVolume<'a>),
    /// `secret_files(secret, mount)`.
    Secret(SecretVolume<'a>),
    /// `config_files(config_map, mount)`.
    Config(ConfigVolume<'a>),
}

impl<'a> Volume<'a> {
    /// The volume a value is.
    pub fn of(v: &'a Value) -> Option<Volume<'a>> {
        Some(match call_name(v)? {
            "volume" => Volume::Persistent(PersistentVolume(v)),
            "scratch" => Volume::Scratch(ScratchVolume(v)),
            "secret_files" => Volume::Secret(SecretVolume(v)),
            "config_files" => Volume::Config(ConfigVolume(v)),
            _ => return None,
        })
    }

    /// Where it is mounted.
    pub fn mount(self) -> Option<&'a Value> {
        match self {
            Volume::Persistent(v) => v.mount(),
            Volume::Scratch(v) => v.mount(),
            Volume::Secret(v) => v.mount(),
            Volume::Config(v) => v.mount(),
        }
    }
}

/// An env var's value.
#[derive(Debug, Clone, Copy)]
pub enum EnvValue<'a> {
    /// A string (interpolation done).
    Str(&'a str),
    /// An integer (emitted as a string).
    Int(i64),
    /// `secret(name, key)`.
    Secret(SecretRef<'a>),
    /// `config(config_map, key)`.
    Config(ConfigRef<'a>),
    /// `field(path)`.
    Field(FieldRef<'a>),
    /// Anything else (a value that failed to check).
    Other,
}

impl<'a> EnvValue<'a> {
    /// The env var value a value is.
    pub fn of(v: &'a Value) -> EnvValue<'a> {
        match &v.kind {
            V::Str(s) => EnvValue::Str(s),
            V::Int(n) => EnvValue::Int(*n),
            V::Call { func, .. } => match &**func {
                "secret" => EnvValue::Secret(SecretRef(v)),
                "config" => EnvValue::Config(ConfigRef(v)),
                "field" => EnvValue::Field(FieldRef(v)),
                _ => EnvValue::Other,
            },
            _ => EnvValue::Other,
        }
    }
}

/// A live-update step (Tilt).
#[derive(Debug, Clone, Copy)]
pub enum LiveUpdateStep<'a> {
    /// `sync(local, remote)`.
    Sync(SyncStep<'a>),
    /// `run(command, trigger)`.
    Run(RunStep<'a>),
    /// `restart()`.
    Restart,
}

impl<'a> LiveUpdateStep<'a> {
    /// The step a value is; `None` for anything else.
    pub fn of(v: &'a Value) -> Option<LiveUpdateStep<'a>> {
        Some(match call_name(v)? {
            "sync" => LiveUpdateStep::Sync(SyncStep(v)),
            "run" => LiveUpdateStep::Run(RunStep(v)),
            "restart" => LiveUpdateStep::Restart,
            _ => return None,
        })
    }
}

/// A port value: a number (TCP) or `udp(n)`.
pub fn port_number(v: &Value) -> (i64, &'static str) {
    match &v.kind {
        V::Int(n) => (*n, "TCP"),
        V::Call { func, .. } if &**func == "udp" => (
            UdpPort(v).number().and_then(Value::as_int).unwrap_or(0),
            "UDP",
        ),
        _ => (0, "TCP"),
    }
}

/// What a service (or container) runs: an image built from an `image`
/// declaration, or one built elsewhere.
#[derive(Debug, Clone, Copy)]
pub enum ImageUse<'a> {
    /// `image = www`: the declaration's name.
    Built(&'a str),
    /// `external("ref")`: the reference as written.
    External(&'a str, &'a Value),
}

impl<'a> ImageUse<'a> {
    /// The image an `image` field's value names.
    pub fn of(v: &'a Value) -> Option<ImageUse<'a>> {
        match &v.kind {
            V::Decl(r) if r.kind == DeclKind::Image => Some(ImageUse::Built(&r.name)),
            V::Call { func, .. } if &**func == "external" => {
                let r = External(v).r#ref()?;
                Some(ImageUse::External(r.as_str().unwrap_or(""), r))
            }
            _ => None,
        }
    }
}

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
    pub fn port_entries(self) -> impl Iterator<Item = (&'a String, &'a Value)> {
        self.ports().into_iter().flat_map(Value::entries)
    }

    /// The port value of a label.
    pub fn port(self, label: &str) -> Option<&'a Value> {
        self.ports().and_then(|p| p.get(label))
    }

    /// Init containers, then sidecars (see [`super::extra_containers`]).
    pub fn extra_containers(self) -> impl Iterator<Item = (super::ContainerRole, Container<'a>)> {
        super::extra_containers(self.0).map(|(role, c)| (role, Container(c)))
    }

    /// The labels of the ports its sidecars serve (the main container
    /// serves the rest).
    pub fn sidecar_port_labels(self) -> Vec<&'a str> {
        self.extra_containers()
            .filter(|(role, _)| *role == super::ContainerRole::Sidecar)
            .flat_map(|(_, c)| c.port_labels())
            .collect()
    }

    /// Its volumes, by name, in name order.
    pub fn volume_entries(self) -> impl Iterator<Item = (&'a String, &'a Value)> {
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
            DeclKind::Image | DeclKind::Env => None,
        }
    }

    /// `labels`: the group labels of a service, infra or config.
    pub fn groups(&self) -> Vec<&str> {
        let v = match self.id.kind {
            DeclKind::Service => self.service().labels(),
            DeclKind::Infra => self.infra().labels(),
            DeclKind::Config => self.config().labels(),
            DeclKind::Image | DeclKind::Env => None,
        };
        v.map(Value::strings).unwrap_or_default()
    }

    /// `namespace`: the namespace an infra names for itself.
    pub fn own_namespace(&self) -> Option<&str> {
        match self.id.kind {
            DeclKind::Infra => self.infra().namespace().and_then(Value::as_str),
            DeclKind::Service | DeclKind::Config | DeclKind::Image | DeclKind::Env => None,
        }
    }
}

/// The internal call a binary file's content becomes once read (the
/// `file()` of a `config` entry whose bytes are not UTF-8 text): base64 in
/// its one argument. Not a stdlib function: only the checker makes it.
const BINARY: &str = "binary";

/// A binary file's content as a value (see [`ConfigEntry::Binary`]).
pub fn binary(base64: String, span: crate::source::Span) -> Value {
    let mut args = super::Fields::new();
    args.insert("data".into(), Value::new(V::Str(base64), span));
    Value::new(
        V::Call {
            func: BINARY.into(),
            ret: "FileText".into(),
            args: Box::new(args),
        },
        span,
    )
}

/// One entry of a `config`'s `files`.
#[derive(Debug, Clone, Copy)]
pub enum ConfigEntry<'a> {
    /// Text (a string, or a text file read).
    Text(&'a str),
    /// A binary file read: base64.
    Binary(&'a str),
    /// `file("…")` not read yet.
    File(FileText<'a>),
    /// A record or list, written as JSON or YAML by the key's extension.
    Structured(&'a Value),
    /// A value that failed to check.
    Other,
}

impl<'a> ConfigEntry<'a> {
    /// The entry a value is.
    pub fn of(v: &'a Value) -> ConfigEntry<'a> {
        match &v.kind {
            V::Str(s) => ConfigEntry::Text(s),
            V::Call { func, args, .. } if &**func == BINARY => {
                ConfigEntry::Binary(args.get("data").and_then(Value::as_str).unwrap_or(""))
            }
            V::Call { func, .. } if &**func == "file" => ConfigEntry::File(FileText(v)),
            V::Record(_) | V::List(_) => ConfigEntry::Structured(v),
            _ => ConfigEntry::Other,
        }
    }
}

impl<'a> Config<'a> {
    /// Its `files` entries, by key.
    pub fn entries(self) -> impl Iterator<Item = (&'a String, ConfigEntry<'a>)> {
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
        self.images
            .get(image)
            .and_then(|i| i.image().repository().and_then(Value::as_str))
            .map_or_else(|| crate::names::k8s_name(image), str::to_string)
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

/// How a record or list entry of `files` is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// As JSON.
    Json,
    /// As YAML.
    Yaml,
}

/// The format a key's extension asks for a record or list.
pub fn structured_format(key: &str) -> Option<Format> {
    let lower = key.to_ascii_lowercase();
    if lower.ends_with(".json") {
        Some(Format::Json)
    } else if lower.ends_with(".yaml") || lower.ends_with(".yml") {
        Some(Format::Yaml)
    } else {
        None
    }
}
