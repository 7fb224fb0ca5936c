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
    /// Output format: human|json for diagnostics; `graph` also takes text|dot|mermaid
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
    Check(CheckArgs),
    /// Compile envs into files under DIR/<env>/ (tilt envs for now)
    Compile(CompileArgs),
    /// Show what differs between two envs (images, replicas, resources, env vars, hosts)
    Diff(DiffArgs),
    /// Print an env's dependency graph (text, dot, mermaid or json)
    Graph(GraphArgs),
    /// Explain a diagnostic code, e.g. `shipc explain E2001`
    Explain(ExplainArgs),
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
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The code, e.g. E2001 (or its name, e.g. unknown-field)
    pub code: String,
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
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// A `.ship` file or a folder of them (default: ./ship if it exists, else .)
    pub path: Option<PathBuf>,
    /// The two envs to compare: `--env staging --env prod`
    #[arg(long = "env", value_name = "ENV", required = true)]
    pub envs: Vec<String>,
}
