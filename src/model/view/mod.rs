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

use super::Value;

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
        pub struct $name<'a>(pub(in crate::model::view) &'a Value);

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
                    static HINT: crate::model::Hint = crate::model::Hint::new();
                    self.0.get_hinted(key!($field $($key)?), &HINT)
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

mod calls;
mod derived;

pub use calls::*;
pub use derived::*;

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
        post_start, rules, allow_from, allow_to, patches,
    }
}

view! {
    /// An `image` declaration's record.
    Image = "ImageSchema" {
        context, dockerfile, repository, tag_prefix, build_args, target, live_update, ignore,
        platform, entrypoint, pre_build, custom_build, builder,
    }
}

view! {
    /// An image's `pre_build` or `custom_build`.
    BuildStep = "BuildStep" { command, deps }
}

view! {
    /// An `infra` declaration's record.
    Infra = "InfraSchema" {
        name, chart, repo, version, namespace, values, depends_on, health, host,
        ports, labels, services, allow_from, allow_to,
    }
}

view! {
    /// A `config` declaration's record.
    Config = "ConfigSchema" { name, files, labels }
}

view! {
    /// An `object` declaration's record.
    Object = "ObjectSchema" {
        api_version, kind, name, namespace, cluster, metadata, spec, fields, file, labels,
    }
}

view! {
    /// The `project { }` record.
    Project = "ProjectSchema" { name, namespace, labels, build_roots }
}

view! {
    /// An `env` declaration's record (derived defaults filled).
    Env = "EnvSchema" {
        kind, cluster, registry, domain, images, release_suffix, storage_class,
        routing, gateway, ingress_class, include, insecure_registries, sidecars,
        network_policy, patches, secrets, tilt, helmfile, flux,
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
    FluxSettings = "FluxSettings" { git, oci, interval, prune, wait, timeout, decryption }
}

view! {
    /// An env's `secrets`.
    SecretsSettings = "SecretsSettings" { external_secrets, dotenv }
}

view! {
    /// `secrets.external_secrets`.
    ExternalSecrets = "ExternalSecrets" { store, kind, key, property, refresh }
}

view! {
    /// `flux.decryption`.
    FluxDecryption = "FluxDecryption" { provider, secret, files }
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
    /// One of a service's RBAC `rules`.
    AccessRule = "AccessRule" { api_groups, resources, verbs, names, cluster }
}

view! {
    /// One of the `allow_from` / `allow_to` peers of a service or infra.
    NetworkPeer = "NetworkPeer" { namespace, pods, cidr, except, ports }
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

/// Every view's shape (the test against `prelude.ship` walks this).
pub const SHAPES: &[Shape] = &[
    Service::SHAPE,
    Image::SHAPE,
    BuildStep::SHAPE,
    Infra::SHAPE,
    Config::SHAPE,
    Object::SHAPE,
    Project::SHAPE,
    Env::SHAPE,
    Cluster::SHAPE,
    TiltSettings::SHAPE,
    HelmfileSettings::SHAPE,
    FluxSettings::SHAPE,
    SecretsSettings::SHAPE,
    ExternalSecrets::SHAPE,
    FluxDecryption::SHAPE,
    FluxGit::SHAPE,
    FluxOci::SHAPE,
    Gateway::SHAPE,
    Security::SHAPE,
    Resources::SHAPE,
    Autoscale::SHAPE,
    Disruption::SHAPE,
    Toleration::SHAPE,
    Affinity::SHAPE,
    AccessRule::SHAPE,
    NetworkPeer::SHAPE,
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
    MergePatch::SHAPE,
    JsonPatch::SHAPE,
];
