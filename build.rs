//! Links the `shipc` binary as a position-dependent executable on Linux.
//!
//! A position-independent executable of this size carries some 33,500
//! relative relocations: the dynamic loader writes every one of them at
//! start, which copies 140 pages (570 KB of `.data.rel.ro`) that a
//! position-dependent binary maps from the file and touches only when it
//! reads them. That was a sixth of a trivial `check` (2.91 → 2.61 ms;
//! 570 → 445 page faults). The Go binaries Ship sits beside (kubectl,
//! helm, flux, tilt) are linked the same way; the stack, heap and shared
//! libraries are still placed at random. Only the binaries are linked so:
//! the library, its tests and proc-macro dependencies are not.

#![allow(clippy::disallowed_methods)] // cargo tells a build script the target through env vars

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && env == "gnu" {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
