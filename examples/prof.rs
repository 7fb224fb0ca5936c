use std::time::Instant;
fn main() {
    let n: usize = std::env::args().nth(1).unwrap().parse().unwrap();
    let mut host = shipc::load::MemoryHost::new();
    host.add("ship/main.ship", shipc::synth::project(n));
    let t = Instant::now();
    let mut d = shipc::Diagnostics::new();
    let loaded = shipc::load::load(&host, std::path::Path::new("ship"), &mut d).unwrap();
    let t1 = t.elapsed();
    let checked = shipc::check::check(&loaded, None, &mut d);
    let t2 = t.elapsed();
    for e in &checked.envs { shipc::graph::build(e).unwrap(); }
    let t3 = t.elapsed();
    println!("load {:?} check {:?} graph {:?}", t1, t2 - t1, t3 - t2);
}
