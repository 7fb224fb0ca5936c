use std::time::Instant;
fn main() {
    let n: usize = std::env::args().nth(1).unwrap().parse().unwrap();
    let mut host = shipc::load::MemoryHost::new();
    for (name, text) in shipc::synth::project_files(n) {
        host.add(format!("ship/{name}"), text);
    }
    let t = Instant::now();
    let mut d = shipc::Diagnostics::new();
    let mut loaded = shipc::load::load(&host, std::path::Path::new("ship"), &mut d).unwrap();
    let t1 = t.elapsed();
    let checked = shipc::check::check(&mut loaded, None, &mut d);
    let t2 = t.elapsed();
    std::thread::scope(|s| {
        for e in &checked.envs {
            s.spawn(move || shipc::graph::build(e).unwrap());
        }
    });
    let t3 = t.elapsed();
    println!("load {:?} check {:?} graph {:?}", t1, t2 - t1, t3 - t2);
}
