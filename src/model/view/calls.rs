//! Views over the results of stdlib functions (a call's arguments by
//! parameter name), and the enums of the unions the stdlib closes.

use super::{Shape, Value};
use crate::model::DeclKind;
use crate::model::V;

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
    /// `merge_patch(target, patch)`.
    MergePatch = "fn merge_patch" { target, patch }
}

view! {
    /// `json_patch(target, ops)`.
    JsonPatch = "fn json_patch" { target, ops }
}

/// One of `patches`.
#[derive(Debug, Clone, Copy)]
pub enum Patch<'a> {
    /// A strategic merge patch.
    Merge(MergePatch<'a>),
    /// An RFC 6902 JSON patch.
    Json(JsonPatch<'a>),
}

impl<'a> Patch<'a> {
    /// The patch a value is.
    pub fn of(v: &'a Value) -> Option<Patch<'a>> {
        Some(match call_name(v)? {
            "merge_patch" => Patch::Merge(MergePatch(v)),
            "json_patch" => Patch::Json(JsonPatch(v)),
            _ => return None,
        })
    }

    /// `target`.
    pub fn target(self) -> Option<&'a Value> {
        match self {
            Patch::Merge(p) => p.target(),
            Patch::Json(p) => p.target(),
        }
    }
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

/// The name of the stdlib function a value is the result of.
fn call_name(v: &Value) -> Option<&str> {
    match &v.kind {
        V::Call(c) => Some(&c.func),
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
    /// `grpc(…)` or `tcp(…)` (the function's name): Kubernetes has no such
    /// handler (the checker refuses them; a hook of this kind lowers to
    /// nothing).
    Unsupported(&'a str),
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
            Probe::Grpc(_) => Hook::Unsupported("grpc"),
            Probe::Tcp(_) => Hook::Unsupported("tcp"),
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
            V::Call(c) => match &*c.func {
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
        V::Call(c) if &*c.func == "udp" => (
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
            V::Call(c) if &*c.func == "external" => {
                let r = External(v).r#ref()?;
                Some(ImageUse::External(r.as_str().unwrap_or(""), r))
            }
            _ => None,
        }
    }
}

/// its one argument. Not a stdlib function: only the checker makes it.
const BINARY: &str = "binary";

/// A binary file's content as a value (see [`ConfigEntry::Binary`]).
pub fn binary(base64: String, span: crate::source::Span) -> Value {
    let mut args = crate::model::Fields::new();
    args.insert("data", Value::new(V::Str(base64), span));
    Value::new(
        V::Call(Box::new(crate::model::Call {
            func: BINARY.into(),
            ret: "FileText".into(),
            args,
        })),
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
            V::Call(c) if &*c.func == BINARY => {
                ConfigEntry::Binary(c.args.get("data").and_then(Value::as_str).unwrap_or(""))
            }
            V::Call(c) if &*c.func == "file" => ConfigEntry::File(FileText(v)),
            V::Record(_) | V::List(_) => ConfigEntry::Structured(v),
            _ => ConfigEntry::Other,
        }
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
