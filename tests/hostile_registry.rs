#![allow(clippy::disallowed_methods)] // the tests run servers, read files and set variables
//! `shipc lock` against registries that misbehave on purpose: a tiny HTTP
//! server on a free loopback port, started and stopped by each test, that
//! announces a 3 GB manifest, streams an endless one, sends credentials'
//! token exchange to plain HTTP, or redirects to plain HTTP. Every read must
//! stay bounded, no credential may leave over plain HTTP, and each refusal
//! must say what happened.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the server answers: (method, path, headers) → raw response bytes
/// written to the socket (`None`: close without answering).
type Handler = dyn Fn(&str, &str, &str) -> Response + Send + Sync;

enum Response {
    Raw(Vec<u8>),
    /// Headers, then body chunks forever (until the client hangs up).
    Endless(String),
}

struct Server {
    port: u16,
    stop: Arc<AtomicBool>,
    /// Every request line and headers seen.
    seen: Arc<Mutex<Vec<String>>>,
    requests: Arc<AtomicUsize>,
}

impl Server {
    fn start(handler: Arc<Handler>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let requests = Arc::new(AtomicUsize::new(0));
        let (s2, seen2, req2) = (stop.clone(), seen.clone(), requests.clone());
        std::thread::spawn(move || {
            let deadline = std::time::Instant::now() + Duration::from_secs(60);
            while !s2.load(Ordering::Relaxed) && std::time::Instant::now() < deadline {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let (h, seen, req, stop) =
                            (handler.clone(), seen2.clone(), req2.clone(), s2.clone());
                        std::thread::spawn(move || serve(stream, &*h, &seen, &req, &stop));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Server {
            port,
            stop,
            seen,
            requests,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn serve(
    stream: TcpStream,
    handler: &Handler,
    seen: &Mutex<Vec<String>>,
    requests: &AtomicUsize,
    stop: &AtomicBool,
) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut out = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut headers = String::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                break;
            }
            headers.push_str(&h);
        }
        requests.fetch_add(1, Ordering::Relaxed);
        seen.lock()
            .unwrap()
            .push(format!("{}{headers}", line.trim_end()));
        let mut parts = line.split_whitespace();
        let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        match handler(method, path, &headers) {
            Response::Raw(bytes) => {
                if out.write_all(&bytes).is_err() {
                    return;
                }
            }
            Response::Endless(head) => {
                if out.write_all(head.as_bytes()).is_err() {
                    return;
                }
                let chunk = vec![b'x'; 64 * 1024];
                let framed = [
                    format!("{:x}\r\n", chunk.len()).into_bytes(),
                    chunk,
                    b"\r\n".to_vec(),
                ]
                .concat();
                let mut sent = 0usize;
                // Bounded: at most 256 MiB, or until the client hangs up.
                while sent < 256 << 20 && !stop.load(Ordering::Relaxed) {
                    if out.write_all(&framed).is_err() {
                        return;
                    }
                    sent += framed.len();
                }
                return;
            }
        }
    }
}

fn answer(status: &str, headers: &[(&str, String)], body: &str) -> Response {
    let mut r = format!("HTTP/1.1 {status}\r\n");
    for (k, v) in headers {
        r.push_str(&format!("{k}: {v}\r\n"));
    }
    if !headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-length"))
    {
        r.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    r.push_str("\r\n");
    r.push_str(body);
    Response::Raw(r.into_bytes())
}

fn project(name: &str, host: &str, extra_insecure: &[String]) -> PathBuf {
    let d = std::env::temp_dir().join(format!("shipc-hostile-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join("ship")).unwrap();
    let mut insecure = vec![format!("\"{host}\"")];
    insecure.extend(extra_insecure.iter().map(|h| format!("\"{h}\"")));
    std::fs::write(
        d.join("ship/main.ship"),
        format!(
            "service app {{ image = external(\"{host}/demo/app:v1\"), port http = 80 }}\nenv staging {{ kind = helmfile, insecure_registries = [{}] }}\n",
            insecure.join(", ")
        ),
    )
    .unwrap();
    d
}

/// `shipc lock` with a Docker config holding credentials for `host`; the
/// peak memory (KiB) of the process is returned too.
fn lock(dir: &PathBuf, host: &str) -> (i32, String, u64) {
    let docker = dir.join("docker");
    std::fs::create_dir_all(&docker).unwrap();
    let auth = "c2hpcHBlcjpzM2NyZXQtcHc="; // shipper:s3cret-pw
    std::fs::write(
        docker.join("config.json"),
        format!("{{\"auths\": {{\"{host}\": {{\"auth\": \"{auth}\"}}}}}}"),
    )
    .unwrap();
    // Under /usr/bin/time (peak memory) when the machine has it.
    let timed = std::path::Path::new("/usr/bin/time").exists();
    let mut cmd = if timed {
        let mut c = Command::new("/usr/bin/time");
        c.args(["-f", "maxrss=%M"]).arg(env!("CARGO_BIN_EXE_shipc"));
        c
    } else {
        Command::new(env!("CARGO_BIN_EXE_shipc"))
    };
    let o = cmd
        .args([
            "lock",
            "--env",
            "staging",
            "--timeout",
            "10",
            "--retries",
            "0",
        ])
        .current_dir(dir)
        .env("DOCKER_CONFIG", &docker)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    let rss = stderr
        .lines()
        .find_map(|l| l.strip_prefix("maxrss="))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    (o.status.code().unwrap_or(-1), stderr, rss)
}

#[test]
fn a_huge_or_endless_manifest_is_refused_with_bounded_memory() {
    for endless in [false, true] {
        let handler: Arc<Handler> = Arc::new(move |method: &str, path: &str, _h: &str| {
            if path == "/v2/" {
                return answer("200 OK", &[], "{}");
            }
            if method == "HEAD" {
                // No Docker-Content-Digest: the client must GET the manifest.
                return answer(
                    "200 OK",
                    &[
                        (
                            "Content-Type",
                            "application/vnd.oci.image.manifest.v1+json".into(),
                        ),
                        ("Content-Length", "3000000000".into()),
                    ],
                    "",
                );
            }
            if endless {
                Response::Endless("HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\nTransfer-Encoding: chunked\r\n\r\n".into())
            } else {
                Response::Endless("HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\nContent-Length: 3000000000\r\n\r\n".into())
            }
        });
        let server = Server::start(handler);
        let host = format!("127.0.0.1:{}", server.port);
        let dir = project(&format!("huge-{endless}"), &host, &[]);
        let (code, stderr, rss) = lock(&dir, &host);
        assert_eq!(code, 1, "{stderr}");
        assert!(stderr.contains("larger than 4 MiB"), "{stderr}");
        assert!(!dir.join("ship.lock").exists());
        if rss > 0 {
            assert!(rss < 200_000, "peak memory {rss} KiB");
        }
    }
}

#[test]
fn credentials_never_go_to_a_plain_http_token_service() {
    // The token service: counts what reaches it.
    let realm_hits = Arc::new(AtomicUsize::new(0));
    let hits = realm_hits.clone();
    let realm = Server::start(Arc::new(move |_m: &str, _p: &str, _h: &str| {
        hits.fetch_add(1, Ordering::Relaxed);
        answer("200 OK", &[], "{\"token\": \"t\"}")
    }));
    let realm_url = format!("http://127.0.0.1:{}/token", realm.port);
    let registry = Server::start(Arc::new(move |_m: &str, _p: &str, _h: &str| {
        answer(
            "401 Unauthorized",
            &[(
                "WWW-Authenticate",
                format!("Bearer realm=\"{realm_url}\",service=\"reg\""),
            )],
            "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"auth required\"}]}",
        )
    }));
    let host = format!("127.0.0.1:{}", registry.port);
    let dir = project("realm", &host, &[]);
    let (code, stderr, _) = lock(&dir, &host);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("is not HTTPS"), "{stderr}");
    assert!(stderr.contains("clear text"), "{stderr}");
    assert_eq!(
        realm_hits.load(Ordering::Relaxed),
        0,
        "credentials were sent"
    );
    assert!(!realm
        .seen
        .lock()
        .unwrap()
        .iter()
        .any(|r| r.contains("Authorization")));
    // Naming the token host insecure is the explicit opt-in.
    let realm_host = format!("127.0.0.1:{}", realm.port);
    let dir = project("realm-opt-in", &host, &[realm_host]);
    let (_, stderr, _) = lock(&dir, &host);
    assert!(!stderr.contains("is not HTTPS"), "{stderr}");
    assert!(realm_hits.load(Ordering::Relaxed) > 0);
}

#[test]
fn a_redirect_to_plain_http_is_refused_and_said_so() {
    let target = Server::start(Arc::new(|_m: &str, _p: &str, _h: &str| {
        answer("200 OK", &[], "{}")
    }));
    let to = format!("http://127.0.0.1:{}/elsewhere", target.port);
    let registry = Server::start(Arc::new(move |_m: &str, path: &str, _h: &str| {
        if path == "/v2/" {
            return answer("200 OK", &[], "{}");
        }
        answer("307 Temporary Redirect", &[("Location", to.clone())], "")
    }));
    let host = format!("127.0.0.1:{}", registry.port);
    let dir = project("redirect", &host, &[]);
    let (code, stderr, _) = lock(&dir, &host);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("refused a redirect"), "{stderr}");
    assert!(stderr.contains("not HTTPS"), "{stderr}");
    assert_eq!(target.requests.load(Ordering::Relaxed), 0);
}

#[test]
fn a_malformed_digest_from_a_registry_is_never_locked() {
    let registry = Server::start(Arc::new(|_m: &str, path: &str, _h: &str| {
        if path == "/v2/" {
            return answer("200 OK", &[], "{}");
        }
        answer(
            "200 OK",
            &[
                ("Docker-Content-Digest", "sha256:zzz".into()),
                (
                    "Content-Type",
                    "application/vnd.oci.image.manifest.v1+json".into(),
                ),
            ],
            "",
        )
    }));
    let host = format!("127.0.0.1:{}", registry.port);
    let dir = project("bad-digest", &host, &[]);
    let docker = dir.join("docker");
    std::fs::create_dir_all(&docker).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_shipc"))
        .args([
            "lock",
            "--env",
            "staging",
            "--no-contract",
            "--retries",
            "0",
        ])
        .current_dir(&dir)
        .env("DOCKER_CONFIG", &docker)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("R007") && stderr.contains("sha256:zzz"),
        "{stderr}"
    );
    assert!(!dir.join("ship.lock").exists());
}
