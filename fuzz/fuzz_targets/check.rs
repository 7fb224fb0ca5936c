//! `cargo +nightly fuzz run check -- -dict=fuzz/check.dict`: any bytes as a
//! one-file module (the dictionary steers it to unbracketed nesting and long
//! lines), through
//! load, parse, check in every env and graph. Must never panic, hang or
//! overflow the stack (the bounded proptest in tests/robustness.rs runs the
//! same entry point in `cargo test`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut host = shipc::load::MemoryHost::new();
    host.add("ship/fuzz.ship", data.to_vec());
    let mut diags = shipc::Diagnostics::new();
    let _ = shipc::analyze(&host, std::path::Path::new("ship"), None, &mut diags);
});
