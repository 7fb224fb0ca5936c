//! Command-line arguments (clap).

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// shipc — compile Ship platform descriptions into Tilt, Helmfile and Flux.
#[derive(Debug, Parser)]
#[command(name = "shipc", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every verb takes.
#[derive(Debug, Args)]
pub struct Global {
    /// Output format: human|json for diagnostics (`check` and `compile` also sarif|github); `graph` also takes text|dot|mermaid
    #[arg(long, global = true, value_name = "FORMAT")]
    pub format: Option<String>,
    /// When to use colours
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse and type-check a project in every env; write nothing
    #[command(
        after_help = "Examples:\n  shipc check                      # ./ship, every env\n  shipc check --env prod examples/shop/ship"
    )]
    Check(CheckArgs),
    /// Compile envs into files under DIR/<env>/ (Tiltfile, Helmfile or Flux tree)
    #[command(
        after_help = "Examples:\n  shipc compile --env local -o out\n  shipc compile --all --digest api=sha256:4f1c…"
    )]
    Compile(CompileArgs),
    /// Show what differs between two envs (images, replicas, resources, env vars, hosts)
    #[command(
        after_help = "Examples:\n  shipc diff --env staging --env prod\n  shipc diff --env staging --env prod --exit-code"
    )]
    Diff(DiffArgs),
    /// Print an env's dependency graph (text, dot, mermaid or json)
    #[command(
        after_help = "Examples:\n  shipc graph --env staging\n  shipc --format mermaid graph --env prod > graph.mmd"
    )]
    Graph(GraphArgs),
    /// Resolve an env's image tags (and OCI charts) to digests in their registries; write ship.lock
    #[command(
        after_help = "Examples:\n  shipc lock --env staging --tag $GIT_SHA\n  shipc lock --env prod --check          # CI: exit 1 when ship.lock is stale"
    )]
    Lock(LockArgs),
    /// Check that every digest an env pins in ship.lock still exists in its registry (P004)
    #[command(after_help = "Examples:\n  shipc verify --env prod")]
    Verify(VerifyArgs),
    /// Copy pinned digests from one env to another in ship.lock (also: rollback)
    #[command(
        after_help = "Examples:\n  shipc promote --from staging --to prod\n  shipc promote --from staging --to prod --only api --dry-run"
    )]
    Promote(PromoteArgs),
    /// Explain a diagnostic code, e.g. `shipc explain E2001`
    #[command(after_help = "Examples:\n  shipc explain E2001\n  shipc explain --list")]
    Explain(ExplainArgs),
    /// Start a project: a ship/ folder with an image, a service and three envs
    #[command(after_help = "Examples:\n  shipc init shop\n  shipc init .")]
    Init(InitArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish)
    #[command(
        after_help = "Examples:\n  shipc completions bash > ~/.local/share/bash-completion/completions/shipc\n  shipc completions zsh > ~/.zfunc/_shipc"
    )]
    Completions(CompletionsArgs),
    /// Print the manual page (roff)
    #[command(after_help = "Examples:\n  shipc man > shipc.1 && man ./shipc.1")]
    Man,
    /// Format .ship files in the one canonical layout (like gofmt)
    #[command(
        after_help = "Examples:\n  shipc fmt                          # every .ship file under ./ship\n  shipc fmt --check                  # CI: list unformatted files, exit 1\n  shipc fmt --stdin < main.ship      # editors"
    )]
    Fmt(FmtArgs),
    /// Start the language server (LSP over stdio) for editors
    #[command(
        after_help = "Editors start it themselves; see editors/README.md.\nExamples:\n  shipc lsp"
    )]
    Lsp(LspArgs),
    /// Show what `apply` would change: in the cluster (helmfile envs) or the Git branch (flux envs); exit 0: nothing, 2: changes, 1: error
    #[command(
        after_help = "Examples:\n  shipc plan --env staging           # exit 2 when there are changes\n  shipc --format json plan --env prod"
    )]
    Plan(PlanArgs),
    /// Deploy an env: helmfile envs by server-side apply in graph waves (a revision recorded in the cluster), flux envs by a Git commit that Flux reconciles
    #[command(
        after_help = "Examples:\n  shipc apply --env staging --prune --atomic\n  shipc apply --env prod --yes --timeout 10m     # CI, a flux env: commit, push, wait for Flux"
    )]
    Apply(ApplyArgs),
    /// Show an env's workloads, pods, images and infra in the cluster
    #[command(
        after_help = "Examples:\n  shipc status --env prod\n  shipc status --env staging --watch"
    )]
    Status(StatusArgs),
    /// List an env's releases: the revisions `apply` recorded in the cluster, or a flux env's release commits
    #[command(after_help = "Examples:\n  shipc history --env prod")]
    History(HistoryArgs),
    /// Deploy an earlier release again (default: the one before the current one), as a new revision or commit
    #[command(
        after_help = "Examples:\n  shipc rollback --env prod              # the revision before the deployed one\n  shipc rollback --env prod --to 3 --yes"
    )]
    Rollback(RollbackArgs),
    /// Flux envs: stop Flux from applying the env (spec.suspend on its Kustomizations and HelmReleases)
    #[command(after_help = "Examples:\n  shipc suspend --env prod --context prod-eu")]
    Suspend(FluxArgs),
    /// Flux envs: let Flux apply the env again
    #[command(after_help = "Examples:\n  shipc resume --env prod")]
    Resume(FluxArgs),
    /// Flux envs: ask Flux to reconcile the env's source and Kustomizations now, and wait
    #[command(after_help = "Examples:\n  shipc reconcile --env prod --timeout 2m")]
    Reconcile(FluxArgs),
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The folder to create the project in (default: the current one)
    pub dir: Option<PathBuf>,
    /// The project name (default: the folder's name)
    #[arg(long)]
    pub name: Option<String>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct FmtArgs {
    /// `.ship` files or folders (every `.ship` file below; default: ./ship if it exists, else .)
    pub paths: Vec<PathBuf>,
    /// Change nothing; list the files that are not formatted and exit 1 (for CI)
    #[arg(long)]
    pub check: bool,
    /// Format standard input to standard output (for editors)
    #[arg(long, conflicts_with_all = ["check", "paths"])]
    pub stdin: bool,
}

#[derive(Debug, Args)]
pub struct LspArgs {
    /// Talk over standard input and output (the default and only transport;
    /// accepted because clients such as vscode-languageclient pass it)
    #[arg(long)]
    pub stdio: bool,
}

/// Which env, which cluster (every cluster verb).
#[derive(Debug, Args)]
pub struct ClusterArgs {
    /// A `.ship` file or a folder of them (default: ./ship if it exists, else .)
    pub path: Option<PathBuf>,
    /// The env
    #[arg(long)]
    pub env: String,
    /// The kubeconfig context (default: the current one). An env that names
    /// `cluster.context` refuses any other
    #[arg(long)]
    pub context: Option<String>,
    /// Seconds one API request may take
    #[arg(long, default_value_t = 30, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub request_timeout: u64,
    /// API requests in flight at once
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
    /// Override one ship.lock digest for this run: NAME=sha256:… (repeatable)
    #[arg(long = "digest", value_name = "NAME=DIGEST")]
    pub digests: Vec<String>,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Plan as `apply --adopt` would apply (take over other owners' objects and fields)
    #[arg(long)]
    pub adopt: bool,
    /// Show stale PVCs as deleted (as `apply --prune --prune-volumes` would)
    #[arg(long)]
    pub prune_volumes: bool,
}

/// What `apply` and `rollback` share.
#[derive(Debug, Args)]
pub struct RolloutArgs {
    /// Wait for each wave to become ready before the next (`--wait=false` to not wait);
    /// flux envs: wait until Flux has applied the pushed commit
    #[arg(long, default_value_t = true, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub wait: bool,
    /// Do not wait (the same as `--wait=false`)
    #[arg(long, conflicts_with = "wait")]
    pub no_wait: bool,
    /// On any failure, restore the previous revision and delete what this one created
    #[arg(long)]
    pub atomic: bool,
    /// Time limit of the whole apply: 300s, 5m, 1h30m
    #[arg(long, default_value = "5m", value_name = "DURATION")]
    pub timeout: String,
    /// Do not ask for confirmation (needed without a terminal)
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Revision records to keep in the cluster
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub history_max: u64,
    /// Flux envs: the commit author, `Name <email>` (default: git's own configuration)
    #[arg(long, value_name = "NAME <EMAIL>")]
    pub author: Option<String>,
}

impl RolloutArgs {
    /// Whether to wait (`--wait`, unless `--no-wait`).
    pub fn waits(&self) -> bool {
        self.wait && !self.no_wait
    }
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    #[command(flatten)]
    pub rollout: RolloutArgs,
    /// Delete objects this env owns that are no longer rendered (never Namespaces; PVCs only with --prune-volumes)
    #[arg(long)]
    pub prune: bool,
    /// With --prune, delete stale PersistentVolumeClaims too (their data is lost)
    #[arg(long)]
    pub prune_volumes: bool,
    /// Take over objects another owner holds (Helm, Flux, Argo CD, another env) and fields other managers set
    #[arg(long)]
    pub adopt: bool,
    /// Skip checking that every pinned digest exists in its registry (P004)
    #[arg(long)]
    pub skip_verify: bool,
    /// Install or upgrade the env's infra charts first with `helm upgrade --install --atomic --wait`
    #[arg(long)]
    pub with_infra: bool,
    /// Flux envs: replace the env's folder in the repository even when it holds files shipc did not write
    #[arg(long)]
    pub force: bool,
    /// Flux envs: server-side apply the env's Flux source and Kustomizations to the cluster first
    #[arg(long)]
    pub bootstrap: bool,
    /// For the registry check: speak plain HTTP to this registry (HOST:PORT; repeatable)
    #[arg(long = "insecure-registry", value_name = "HOST:PORT")]
    pub insecure: Vec<String>,
    /// For the registry check: trust the CAs in this PEM file too (repeatable)
    #[arg(long = "ca-file", value_name = "PATH")]
    pub ca_files: Vec<PathBuf>,
}

impl ApplyArgs {
    /// The registry settings of the P004 check (defaults but for the
    /// insecure registries and CA files given).
    pub fn registry(&self) -> RegistryArgs {
        RegistryArgs {
            insecure: self.insecure.clone(),
            ca_files: self.ca_files.clone(),
            concurrency: 8,
            timeout: 30.0,
            retries: 2,
        }
    }
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Redraw every 2 seconds until interrupted
    #[arg(long)]
    pub watch: bool,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    #[command(flatten)]
    pub rollout: RolloutArgs,
    /// The revision to re-apply (default: the last good one before the deployed one);
    /// flux envs: a release number or a commit
    #[arg(long, value_name = "N|COMMIT")]
    pub to: Option<String>,
    /// Flux envs: replace the env's folder even when it holds files shipc did not write
    #[arg(long)]
    pub force: bool,
}

/// `suspend`, `resume`, `reconcile`.
#[derive(Debug, Args)]
pub struct FluxArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// `reconcile`: do not wait for Flux to finish
    #[arg(long)]
    pub no_wait: bool,
    /// `reconcile`: how long to wait
    #[arg(long, default_value = "5m", value_name = "DURATION")]
    pub timeout: String,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// A `.ship` file or a folder of them (default: ./ship if it exists, else .)
    pub path: Option<PathBuf>,
    /// Check only this env
    #[arg(long)]
    pub env: Option<String>,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    /// A `.ship` file or a folder of them (default: ./ship if it exists, else .)
    pub path: Option<PathBuf>,
    /// The env whose graph to print
    #[arg(long)]
    pub env: String,
    /// Print who may talk to whom instead (the allow-list `network_policy = "graph"` enforces)
    #[arg(long)]
    pub traffic: bool,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The code, e.g. E2001 (or its name, e.g. unknown-field)
    pub code: Option<String>,
    /// List every code with its name
    #[arg(long, conflicts_with = "code")]
    pub list: bool,
}

#[derive(Debug, Args)]
pub struct CompileArgs {
    /// A `.ship` file or a folder of them (default: ./ship if it exists, else .)
    pub path: Option<PathBuf>,
    /// Compile this env
    #[arg(long, conflicts_with = "all")]
    pub env: Option<String>,
    /// Compile every env
    #[arg(long)]
    pub all: bool,
    /// Output folder; each env is written to DIR/<env>/
    #[arg(short = 'o', long = "out", default_value = "out")]
    pub out: PathBuf,
    /// Override one ship.lock digest for this run: NAME=sha256:… (repeatable;
    /// also SHIP_DIGEST_<NAME> in the environment, NAME upper-cased with `.`
    /// and `-` as `_`)
    #[arg(long = "digest", value_name = "NAME=DIGEST")]
    pub digests: Vec<String>,
    /// Replace DIR/<env>/ even when it holds files shipc did not write
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// A `.ship` file or a folder of them (default: ./ship if it exists, else .)
    pub path: Option<PathBuf>,
    /// The two envs to compare: `--env staging --env prod`
    #[arg(long = "env", value_name = "ENV", required = true)]
    pub envs: Vec<String>,
    /// Exit 1 when the envs differ (for CI), 0 when they do not
    #[arg(long)]
    pub exit_code: bool,
}

/// How to reach registries (`lock`, `verify`).
#[derive(Debug, Args)]
pub struct RegistryArgs {
    /// Speak plain HTTP to this registry (HOST:PORT; repeatable). Also the
    /// env's `insecure_registries`. Every other registry is TLS-verified
    #[arg(long = "insecure-registry", value_name = "HOST:PORT")]
    pub insecure: Vec<String>,
    /// Trust the CAs in this PEM file too (repeatable; also SSL_CERT_FILE and
    /// `<docker config>/certs.d/<host:port>/*.crt`)
    #[arg(long = "ca-file", value_name = "PATH")]
    pub ca_files: Vec<PathBuf>,
    /// Registry requests in flight at once
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
    /// Seconds one request may take before it is retried, then fails (R006)
    #[arg(long, default_value_t = 30.0, value_name = "SECONDS")]
    pub timeout: f64,
    /// Extra attempts after a timeout or a 5xx answer
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(0..=10))]
    pub retries: u32,
}

#[derive(Debug, Args)]
pub struct LockArgs {
    /// A `.ship` file or a folder of them (default: ./ship if it exists, else .)
    pub path: Option<PathBuf>,
    /// The env to lock
    #[arg(long)]
    pub env: String,
    /// The tag of every built image (typically the git SHA CI pushed)
    #[arg(long)]
    pub tag: Option<String>,
    /// Resolve one image from REF: a tag, REPO:TAG or REPO@sha256:… (repeatable)
    #[arg(long = "image", value_name = "NAME=REF")]
    pub images: Vec<String>,
    /// Change nothing; exit 1 when ship.lock is not what a lock would write (CI)
    #[arg(long)]
    pub check: bool,
    /// Skip the image contract check: HEAD requests only (Docker Hub counts
    /// manifest GETs as pulls against its rate limit)
    #[arg(long)]
    pub no_contract: bool,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// A `.ship` file or a folder of them (default: ./ship if it exists, else .)
    pub path: Option<PathBuf>,
    /// The env whose pins to verify
    #[arg(long)]
    pub env: String,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

#[derive(Debug, Args)]
pub struct PromoteArgs {
    /// A `.ship` file or a folder of them (default: ./ship if it exists, else .)
    pub path: Option<PathBuf>,
    /// Only this image or chart (a ship.lock key; repeatable); default: every one the target env deploys
    #[arg(long = "only", value_name = "NAME")]
    pub names: Vec<String>,
    /// The env whose pins to copy
    #[arg(long)]
    pub from: String,
    /// The env that receives them
    #[arg(long)]
    pub to: String,
    /// Change nothing; print what would change
    #[arg(long)]
    pub dry_run: bool,
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
