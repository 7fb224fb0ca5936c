//! `cargo bench --bench lock`: wall time of `shipc lock` (the release
//! binary, end to end: check, 200 registry queries with the contract check,
//! ship.lock written) against Debian's `docker-registry` on loopback.
//! Target (issue 4): 200 images under 2 s. Needs the registry
//! (`tests/tools/registry/start-registry.sh` installs it); without it
//! the bench says so and exits. The image count can be passed as an argument.
#![allow(clippy::disallowed_methods)]

#[path = "../tests/common/registry.rs"]
mod registry_fixture;

use std::process::Command;
use std::time::{Duration, Instant};

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(200);
    let Some(reg) = registry_fixture::Registry::start("bench", false) else {
        eprintln!("lock bench skipped: no docker-registry");
        return;
    };
    registry_fixture::push_many(&reg.host, "bench/svc", n);
    let dir = registry_fixture::temp_dir("bench-project");
    std::fs::create_dir_all(dir.join("ship")).unwrap();
    let mut src = format!(
        "env prod {{\n  kind = helmfile\n  registry = \"{h}/bench\"\n  insecure_registries = [\"{h}\"]\n}}\n",
        h = reg.host
    );
    for i in 0..n {
        src.push_str(&format!(
            "\nimage svc_{i} {{\n  repository = \"svc-{i}\"\n}}\n\nservice svc_{i} {{\n  image = svc_{i}\n  security = std.security.restricted\n}}\n"
        ));
    }
    std::fs::write(dir.join("ship/main.ship"), src).unwrap();
    let mut times: Vec<Duration> = Vec::new();
    for _ in 0..7 {
        let _ = std::fs::remove_file(dir.join("ship.lock"));
        let started = Instant::now();
        let o = Command::new(env!("CARGO_BIN_EXE_shipc"))
            .args(["lock", "--env", "prod", "--tag", "v1"])
            .current_dir(&dir)
            .env("DOCKER_CONFIG", dir.join("no-docker-config"))
            .output()
            .unwrap();
        times.push(started.elapsed());
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    times.sort();
    println!(
        "shipc lock, {n} images on loopback: min {:.0} ms, median {:.0} ms, max {:.0} ms (target: 2000 ms)",
        times[0].as_secs_f64() * 1e3,
        times[times.len() / 2].as_secs_f64() * 1e3,
        times[times.len() - 1].as_secs_f64() * 1e3,
    );
}
