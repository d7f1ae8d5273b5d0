//! Models from the Hugging Face hub, against a mock hub on 127.0.0.1 that speaks the protocol
//! hf-hub 0.4.3 uses: `GET /api/models/{repo}/revision/{rev}` (repo info: commit and files),
//! `GET /{repo}/resolve/{rev}/{file}` with `ETag`/`X-Repo-Commit` (small files served directly,
//! weights redirected to a "CDN" path with `X-Linked-Etag`, like LFS files on the real hub), and
//! Range requests (`bytes=0-0` for the size, `bytes=N-` to download or resume).
//! No test touches the internet.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use candle_core::{Device, Tensor};
use fenci::hub::{self, DownloadEvent, HubError, HubOptions, ModelSpec, NoProgress};
use fenci::segment::Segmenter;
use fenci::tagger::{LabelScheme, ModelFiles};
use sha2::{Digest, Sha256};

use crate::util::{tempdir, tiny_model, toy_corpus};

// ---------------------------------------------------------------------------------------------
// The mock hub.

#[derive(Clone, Default)]
struct MockRepo {
    sha: String,
    files: BTreeMap<String, Vec<u8>>,
    /// `cardData.license` in the repo info.
    license: Option<String>,
    /// Requests must carry `Authorization: Bearer <token>`.
    token: Option<String>,
    /// Answer every request for this repo with this status.
    status: Option<u16>,
}

#[derive(Default)]
struct State {
    repos: HashMap<String, MockRepo>,
    /// One-shot: close the connection after this many body bytes of this file.
    drop_after: Option<(String, usize)>,
    /// Send half of this file's body, then nothing until cleared (then close).
    stall_file: Option<String>,
    /// Accept repo-info requests and never answer until cleared.
    stall_api: bool,
    /// Send this file in 1 KiB chunks with this pause between them.
    slow: Option<(String, Duration)>,
    /// "METHOD PATH RANGE" of every request.
    log: Vec<String>,
}

struct MockHub {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

fn sha256_hex(b: &[u8]) -> String {
    Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

impl MockHub {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp) = (state.clone(), stop.clone());
        let accept = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if sp.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (st, sp) = (st.clone(), sp.clone());
                std::thread::spawn(move || {
                    let _ = handle(conn, addr, &st, &sp);
                });
            }
        });
        Self {
            addr,
            state,
            stop,
            accept: Some(accept),
        }
    }

    fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.state.lock().unwrap())
    }

    /// Serves `files` as repo `id`; returns its commit hash.
    fn add(&self, id: &str, files: Vec<(&str, Vec<u8>)>, license: Option<&str>) -> String {
        let files: BTreeMap<String, Vec<u8>> =
            files.into_iter().map(|(n, b)| (n.to_string(), b)).collect();
        let mut h = Sha256::new();
        h.update(id.as_bytes());
        for (n, b) in &files {
            h.update(n.as_bytes());
            h.update(b);
        }
        let sha: String = h.finalize().iter().map(|x| format!("{x:02x}")).collect();
        let sha = sha[..40].to_string();
        let repo = MockRepo {
            sha: sha.clone(),
            files,
            license: license.map(str::to_string),
            ..Default::default()
        };
        self.with(|s| s.repos.insert(id.to_string(), repo));
        sha
    }

    fn set(&self, id: &str, f: impl FnOnce(&mut MockRepo)) {
        self.with(|s| f(s.repos.get_mut(id).expect("repo")));
    }

    fn log(&self) -> Vec<String> {
        self.with(|s| s.log.clone())
    }

    fn clear_log(&self) {
        self.with(|s| s.log.clear());
    }

    fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

impl Drop for MockHub {
    fn drop(&mut self) {
        self.stop();
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        206 => "Partial Content",
        302 => "Found",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        416 => "Range Not Satisfiable",
        500 => "Internal Server Error",
        _ => "Other",
    }
}

fn head(conn: &mut TcpStream, status: u16, len: usize, headers: &[(&str, String)]) {
    let mut h = format!(
        "HTTP/1.1 {status} {}\r\nConnection: close\r\nContent-Length: {len}\r\n",
        reason(status)
    );
    for (k, v) in headers {
        h.push_str(&format!("{k}: {v}\r\n"));
    }
    h.push_str("\r\n");
    let _ = conn.write_all(h.as_bytes());
}

fn respond(conn: &mut TcpStream, status: u16, headers: &[(&str, String)], body: &[u8]) {
    head(conn, status, body.len(), headers);
    let _ = conn.write_all(body);
    let _ = conn.flush();
}

fn error(conn: &mut TcpStream, status: u16, code: &str, msg: &str) {
    let body = serde_json::json!({ "error": msg }).to_string();
    respond(
        conn,
        status,
        &[
            ("Content-Type", "application/json".into()),
            ("X-Error-Code", code.into()),
            ("X-Error-Message", msg.into()),
        ],
        body.as_bytes(),
    );
}

fn handle(
    mut conn: TcpStream,
    addr: SocketAddr,
    st: &Mutex<State>,
    stop: &AtomicBool,
) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("").to_string();
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 {
            break;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let range = headers.get("range").cloned();
    let path = target.split('?').next().unwrap_or("").to_string();
    st.lock().unwrap().log.push(format!(
        "{method} {path} {}",
        range.clone().unwrap_or_default()
    ));
    if method != "GET" {
        error(&mut conn, 404, "NotFound", "only GET");
        return Ok(());
    }
    let (kind, id, rev, file) = if let Some(rest) = path.strip_prefix("/api/models/") {
        let s: Vec<&str> = rest.splitn(4, '/').collect();
        if s.len() < 4 || s[2] != "revision" {
            error(&mut conn, 404, "NotFound", "bad api path");
            return Ok(());
        }
        (
            "api",
            format!("{}/{}", s[0], s[1]),
            s[3].to_string(),
            String::new(),
        )
    } else if let Some(rest) = path.strip_prefix("/cdn/") {
        let s: Vec<&str> = rest.splitn(3, '/').collect();
        if s.len() < 3 {
            error(&mut conn, 404, "NotFound", "bad cdn path");
            return Ok(());
        }
        (
            "cdn",
            format!("{}/{}", s[0], s[1]),
            String::new(),
            s[2].to_string(),
        )
    } else {
        let s: Vec<&str> = path.trim_start_matches('/').splitn(5, '/').collect();
        if s.len() < 5 || s[2] != "resolve" {
            error(&mut conn, 404, "NotFound", "bad path");
            return Ok(());
        }
        (
            "resolve",
            format!("{}/{}", s[0], s[1]),
            s[3].to_string(),
            s[4].to_string(),
        )
    };
    let Some(repo) = st.lock().unwrap().repos.get(&id).cloned() else {
        error(&mut conn, 404, "RepoNotFound", "Repository not found");
        return Ok(());
    };
    if let Some(status) = repo.status {
        error(
            &mut conn,
            status,
            "Forced",
            "the mock hub is failing on purpose",
        );
        return Ok(());
    }
    if let Some(tok) = &repo.token {
        if headers.get("authorization") != Some(&format!("Bearer {tok}")) {
            error(
                &mut conn,
                401,
                "GatedRepo",
                &format!("Access to model {id} is restricted"),
            );
            return Ok(());
        }
    }
    if kind != "cdn" && rev != "main" && rev != repo.sha {
        error(&mut conn, 404, "RevisionNotFound", "Invalid rev id");
        return Ok(());
    }
    match kind {
        "api" => {
            if st.lock().unwrap().stall_api {
                while st.lock().unwrap().stall_api && !stop.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(20));
                }
                let _ = conn.shutdown(std::net::Shutdown::Both);
                return Ok(());
            }
            let mut info = serde_json::json!({
                "id": id,
                "modelId": id,
                "sha": repo.sha,
                "private": false,
                "tags": ["bert", "token-classification"],
                "siblings": repo.files.keys().map(|f| serde_json::json!({"rfilename": f})).collect::<Vec<_>>(),
            });
            if let Some(l) = &repo.license {
                info["cardData"] = serde_json::json!({ "license": l });
            }
            respond(
                &mut conn,
                200,
                &[("Content-Type", "application/json".into())],
                info.to_string().as_bytes(),
            );
        }
        _ => {
            let Some(data) = repo.files.get(&file) else {
                error(&mut conn, 404, "EntryNotFound", "Entry not found");
                return Ok(());
            };
            let sha256 = sha256_hex(data);
            let lfs = file.ends_with(".safetensors") || file.ends_with(".bin");
            if kind == "resolve" && lfs {
                respond(
                    &mut conn,
                    302,
                    &[
                        ("Location", format!("http://{addr}/cdn/{id}/{file}")),
                        ("X-Repo-Commit", repo.sha.clone()),
                        ("X-Linked-Etag", format!("\"{sha256}\"")),
                        ("X-Linked-Size", data.len().to_string()),
                        ("ETag", format!("\"{}\"", &sha256[..40])),
                    ],
                    b"",
                );
                return Ok(());
            }
            let mut extra = vec![("ETag", format!("\"{sha256}\""))];
            if kind == "resolve" {
                extra.push(("X-Repo-Commit", repo.sha.clone()));
            }
            serve(&mut conn, st, stop, &file, data, range.as_deref(), &extra);
        }
    }
    Ok(())
}

/// Serves `data` honouring a `bytes=a-` / `bytes=a-b` Range, with the test's faults.
fn serve(
    conn: &mut TcpStream,
    st: &Mutex<State>,
    stop: &AtomicBool,
    file: &str,
    data: &[u8],
    range: Option<&str>,
    extra: &[(&str, String)],
) {
    let total = data.len();
    let (a, b) = match range.and_then(|r| r.strip_prefix("bytes=")) {
        Some(r) => {
            let (a, b) = r.split_once('-').unwrap_or((r, ""));
            let a: usize = a.parse().unwrap_or(0);
            let b: usize = b.parse().unwrap_or(total.saturating_sub(1));
            (a, b.min(total.saturating_sub(1)))
        }
        None => (0, total.saturating_sub(1)),
    };
    if range.is_some() && a >= total {
        let mut h = extra.to_vec();
        h.push(("Content-Range", format!("bytes */{total}")));
        respond(conn, 416, &h, b"");
        return;
    }
    let body = if total == 0 {
        &data[0..0]
    } else {
        &data[a..=b]
    };
    let mut h = extra.to_vec();
    h.push(("Accept-Ranges", "bytes".into()));
    let status = if range.is_some() {
        h.push(("Content-Range", format!("bytes {a}-{b}/{total}")));
        206
    } else {
        200
    };
    head(conn, status, body.len(), &h);
    // Faults apply to downloads, not to the `bytes=0-0` size probe.
    let probe = range == Some("bytes=0-0");
    let (drop_after, stall, slow) = {
        let mut s = st.lock().unwrap();
        let drop_after = match &s.drop_after {
            Some((f, n)) if f == file && !probe => {
                let n = *n;
                s.drop_after = None;
                Some(n)
            }
            _ => None,
        };
        let stall = !probe && s.stall_file.as_deref() == Some(file);
        let slow = match &s.slow {
            Some((f, d)) if f == file && !probe => Some(*d),
            _ => None,
        };
        (drop_after, stall, slow)
    };
    if let Some(n) = drop_after {
        let _ = conn.write_all(&body[..n.min(body.len())]);
        let _ = conn.flush();
        let _ = conn.shutdown(std::net::Shutdown::Both);
        return;
    }
    if stall {
        let _ = conn.write_all(&body[..body.len() / 2]);
        let _ = conn.flush();
        while st.lock().unwrap().stall_file.as_deref() == Some(file) && !stop.load(Ordering::SeqCst)
        {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = conn.shutdown(std::net::Shutdown::Both);
        return;
    }
    if let Some(d) = slow {
        for chunk in body.chunks(1024) {
            if conn.write_all(chunk).is_err() || stop.load(Ordering::SeqCst) {
                return;
            }
            let _ = conn.flush();
            std::thread::sleep(d);
        }
        return;
    }
    let _ = conn.write_all(body);
    let _ = conn.flush();
}

// ---------------------------------------------------------------------------------------------
// Fixtures.

/// The files of a model as the hub would hold them (plus a model card).
fn repo_files(m: &ModelFiles, card_license: Option<&str>) -> Vec<(&'static str, Vec<u8>)> {
    let d = tempdir();
    m.save_dir(d.path(), false).unwrap();
    let mut v = Vec::new();
    for name in ["config.json", "vocab.txt", "model.safetensors"] {
        v.push((name, std::fs::read(d.path().join(name)).unwrap()));
    }
    let card = match card_license {
        Some(l) => format!("---\nlanguage: zh\nlicense: {l}\n---\n# a test model\n"),
        None => "# a test model without front matter\n".into(),
    };
    v.push(("README.md", card.into_bytes()));
    v
}

fn bmes_model() -> ModelFiles {
    tiny_model(&LabelScheme::bmes(), 1, 16, 64, 7)
}

fn opts(hub: &MockHub, cache: &Path) -> HubOptions {
    HubOptions {
        endpoint: hub.endpoint(),
        stall: Duration::from_secs(10),
        ..HubOptions::new(cache.to_path_buf())
    }
}

fn sentences() -> Vec<String> {
    let mut v: Vec<String> = toy_corpus(30).iter().map(|w| w.concat()).collect();
    v.extend(
        [
            "我爱北京天安门",
            "今天天气很好，我们去公园散步吧！",
            "abc 123 你好",
            "学生喜欢学习数学",
        ]
        .map(String::from),
    );
    v
}

fn words(m: &ModelFiles) -> Vec<Vec<String>> {
    let seg = Segmenter::new(m).unwrap();
    seg.segment_batch(&sentences())
        .unwrap()
        .iter()
        .map(|s| s.word_strs().iter().map(|w| w.to_string()).collect())
        .collect()
}

fn resolve(spec: &str, o: &HubOptions) -> Result<hub::ResolvedModel, HubError> {
    hub::resolve_with(spec, o, &mut NoProgress, &AtomicBool::new(false))
}

fn resolve_events(
    spec: &str,
    o: &HubOptions,
) -> (Result<hub::ResolvedModel, HubError>, Vec<DownloadEvent>) {
    let mut ev = Vec::new();
    let r = hub::resolve_with(
        spec,
        o,
        &mut |e: &DownloadEvent| ev.push(e.clone()),
        &AtomicBool::new(false),
    );
    (r, ev)
}

fn snapshot(cache: &Path, repo: &str, sha: &str) -> PathBuf {
    hub::repo_folder(cache, repo).join("snapshots").join(sha)
}

/// No file in the repo's cache may be taken for complete unless it is: every snapshot entry
/// resolves to a blob equal to the served file.
fn assert_cache_sound(cache: &Path, repo: &str, sha: &str, served: &[(&str, Vec<u8>)]) {
    let snap = snapshot(cache, repo, sha);
    if let Ok(rd) = std::fs::read_dir(&snap) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            let want = &served.iter().find(|(n, _)| *n == name).expect("served").1;
            let got = std::fs::read(e.path()).expect("snapshot entry resolves");
            assert!(
                &got == want,
                "{name}: cached file differs from the served one"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Library tests.

#[test]
fn download_then_segment_then_cache_then_offline() {
    let hub = MockHub::start();
    let model = bmes_model();
    let files = repo_files(&model, Some("mit"));
    let sha = hub.add("owner/bmes", files.clone(), Some("apache-2.0"));
    let cache = tempdir();
    let o = opts(&hub, cache.path());

    let (r, ev) = resolve_events("owner/bmes", &o);
    let r = r.unwrap();
    assert_eq!(words(&r.files), words(&model));
    assert_eq!(r.license.as_deref(), Some("apache-2.0"), "cardData wins");
    assert!(r.origin.contains("owner/bmes"), "{}", r.origin);
    assert_eq!(r.files.source, "owner/bmes");
    assert_eq!(
        r.licence_note().unwrap(),
        format!("model {}: licence apache-2.0", r.origin)
    );
    // Events: connect, then each file started, progressed to its full size, finished.
    assert!(matches!(ev[0], DownloadEvent::Connecting { .. }), "{ev:?}");
    for (name, bytes) in &files {
        let total = bytes.len() as u64;
        assert!(
            ev.contains(&DownloadEvent::Start {
                file: name.to_string(),
                total
            }),
            "{name}: {ev:?}"
        );
        assert!(ev.contains(&DownloadEvent::Progress {
            file: name.to_string(),
            done: total,
            total
        }));
        assert!(ev.contains(&DownloadEvent::Finish {
            file: name.to_string()
        }));
    }
    // config.json is fetched (and checked) before the weights.
    let pos = |f: &str| {
        ev.iter()
            .position(|e| matches!(e, DownloadEvent::Start { file, .. } if file == f))
            .unwrap()
    };
    assert!(pos("config.json") < pos("model.safetensors"));

    // The standard cache layout: refs/main → commit, snapshot entries are links into blobs/.
    let folder = hub::repo_folder(cache.path(), "owner/bmes");
    assert_eq!(
        std::fs::read_to_string(folder.join("refs/main")).unwrap(),
        sha
    );
    let entry = folder
        .join("snapshots")
        .join(&sha)
        .join("model.safetensors");
    #[cfg(unix)]
    assert!(std::fs::symlink_metadata(&entry)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        std::fs::canonicalize(&entry).unwrap(),
        std::fs::canonicalize(folder.join("blobs").join(sha256_hex(&files[2].1))).unwrap()
    );
    assert_cache_sound(cache.path(), "owner/bmes", &sha, &files);

    // Again, online: one info request, nothing downloaded.
    hub.clear_log();
    let (r2, ev2) = resolve_events("owner/bmes", &o);
    assert_eq!(words(&r2.unwrap().files), words(&model));
    assert!(
        ev2.iter()
            .all(|e| !matches!(e, DownloadEvent::Start { .. })),
        "{ev2:?}"
    );
    assert_eq!(hub.log().len(), 1, "{:?}", hub.log());
    // By commit hash, cached: no network at all.
    hub.clear_log();
    let r3 = resolve(&format!("owner/bmes@{sha}"), &o).unwrap();
    assert_eq!(words(&r3.files), words(&model));
    assert!(hub.log().is_empty(), "{:?}", hub.log());

    // The hub goes away: the cached copy is used, and said so.
    let mut hub = hub;
    hub.stop();
    let (r4, ev4) = resolve_events("owner/bmes", &o);
    let r4 = r4.unwrap();
    assert_eq!(words(&r4.files), words(&model));
    assert!(r4.origin.contains("cached"), "{}", r4.origin);
    assert!(
        ev4.iter().any(
            |e| matches!(e, DownloadEvent::UsingCache { reason } if reason.contains("cannot reach"))
        ),
        "{ev4:?}"
    );
    // The licence survives offline through the model card.
    assert_eq!(r4.license.as_deref(), Some("mit"));

    // HF_HUB_OFFLINE: the cache only.
    let off = HubOptions {
        offline: true,
        ..o.clone()
    };
    assert_eq!(
        words(&resolve("owner/bmes", &off).unwrap().files),
        words(&model)
    );
    let e = resolve("owner/other", &off).unwrap_err();
    assert!(matches!(e, HubError::NotCached { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.contains("owner/other") && msg.contains("HF_HUB_OFFLINE") && msg.contains("local"),
        "{msg}"
    );

    let listed = hub::cached_models(cache.path());
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].repo, "owner/bmes");
    assert_eq!(listed[0].complete, vec![sha.clone()]);
    assert_eq!(listed[0].refs, vec![("main".to_string(), sha)]);
}

#[test]
fn http_errors_are_clear() {
    let hub = MockHub::start();
    let model = bmes_model();
    hub.add("owner/bmes", repo_files(&model, None), None);
    hub.add("owner/gated", repo_files(&model, None), None);
    hub.set("owner/gated", |r| r.token = Some("hf_secret".into()));
    hub.add("owner/broken", repo_files(&model, None), None);
    hub.set("owner/broken", |r| r.status = Some(500));
    let cache = tempdir();
    let o = opts(&hub, cache.path());

    let check = |spec: &str, o: &HubOptions, want: &[&str]| -> HubError {
        let t = Instant::now();
        let e = resolve(spec, o).unwrap_err();
        assert!(t.elapsed() < Duration::from_secs(5), "{spec}: slow failure");
        let msg = e.to_string();
        eprintln!("{spec}: {msg}");
        for w in want {
            assert!(msg.contains(w), "{spec}: `{w}` not in: {msg}");
        }
        e
    };
    let e = check(
        "owner/missing",
        &o,
        &["owner/missing", "404", "HF_ENDPOINT", "local"],
    );
    assert!(matches!(e, HubError::NotFound { .. }), "{e:?}");
    let e = check(
        "owner/bmes@nope",
        &o,
        &["owner/bmes@nope", "404", "revision"],
    );
    assert!(matches!(e, HubError::NotFound { .. }), "{e:?}");
    let e = check(
        "owner/gated",
        &o,
        &["owner/gated", "401", "HF_TOKEN", "gated"],
    );
    assert!(matches!(e, HubError::Unauthorized { .. }), "{e:?}");
    let wrong = HubOptions {
        token: Some("hf_wrong".into()),
        ..o.clone()
    };
    check("owner/gated", &wrong, &["not accepted"]);
    let right = HubOptions {
        token: Some("hf_secret".into()),
        ..o.clone()
    };
    assert_eq!(
        words(&resolve("owner/gated", &right).unwrap().files),
        words(&model)
    );
    let e = check(
        "owner/broken",
        &o,
        &["owner/broken", "500", "HF_ENDPOINT", "HF_HUB_OFFLINE"],
    );
    assert!(matches!(e, HubError::Server { .. }), "{e:?}");

    // Cached, then the hub fails with 500: the cached copy is used.
    resolve("owner/bmes", &o).unwrap();
    hub.set("owner/bmes", |r| r.status = Some(500));
    let (r, ev) = resolve_events("owner/bmes", &o);
    assert_eq!(words(&r.unwrap().files), words(&model));
    assert!(ev
        .iter()
        .any(|e| matches!(e, DownloadEvent::UsingCache { .. })));

    // Nothing listening: connection refused, fast.
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let refused = HubOptions {
        endpoint: format!("http://127.0.0.1:{port}"),
        ..HubOptions::new(tempdir().path().to_path_buf())
    };
    let e = check(
        "owner/bmes",
        &refused,
        &[
            "owner/bmes",
            "cannot reach",
            "HF_ENDPOINT",
            "HF_HUB_OFFLINE",
        ],
    );
    assert!(matches!(e, HubError::Connect { .. }), "{e:?}");
    // An endpoint that is not a URL at all.
    let bad = HubOptions {
        endpoint: "not a url".into(),
        ..refused.clone()
    };
    assert!(matches!(
        resolve("owner/bmes", &bad).unwrap_err(),
        HubError::Connect { .. }
    ));
}

#[test]
fn dropped_connection_leaves_no_corrupt_file_and_a_retry_resumes() {
    let hub = MockHub::start();
    let model = bmes_model();
    let files = repo_files(&model, None);
    let sha = hub.add("owner/bmes", files.clone(), None);
    let cache = tempdir();
    let o = opts(&hub, cache.path());
    let weights = files[2].1.len();
    assert!(
        weights > 8000,
        "the weights file is big enough to cut: {weights}"
    );
    hub.with(|s| s.drop_after = Some(("model.safetensors".into(), 5000)));
    let e = resolve("owner/bmes", &o).unwrap_err();
    assert!(matches!(e, HubError::Dropped { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.contains("owner/bmes") && msg.contains("model.safetensors") && msg.contains("again"),
        "{msg}"
    );
    // Nothing partial is visible as a file of the snapshot.
    assert!(!snapshot(cache.path(), "owner/bmes", &sha)
        .join("model.safetensors")
        .exists());
    assert_cache_sound(cache.path(), "owner/bmes", &sha, &files);
    assert!(hub::cached_snapshot(cache.path(), "owner/bmes", "main").is_none());
    let off = HubOptions {
        offline: true,
        ..o.clone()
    };
    assert!(matches!(
        resolve("owner/bmes", &off).unwrap_err(),
        HubError::NotCached { .. }
    ));
    // A retry resumes where the data stopped and ends with the exact file.
    hub.clear_log();
    let r = resolve("owner/bmes", &o).unwrap();
    assert_eq!(words(&r.files), words(&model));
    assert_cache_sound(cache.path(), "owner/bmes", &sha, &files);
    assert!(
        hub.log()
            .iter()
            .any(|l| l.contains("/cdn/owner/bmes/model.safetensors bytes=5000-")),
        "{:?}",
        hub.log()
    );
}

#[test]
fn stalled_server_fails_within_the_deadline() {
    let hub = MockHub::start();
    let model = bmes_model();
    let files = repo_files(&model, None);
    let sha = hub.add("owner/bmes", files.clone(), None);
    let cache = tempdir();
    let o = HubOptions {
        stall: Duration::from_secs(2),
        ..opts(&hub, cache.path())
    };

    // Accepts, reads the request, never answers.
    hub.with(|s| s.stall_api = true);
    let t = Instant::now();
    let e = resolve("owner/bmes", &o).unwrap_err();
    let took = t.elapsed();
    assert!(matches!(e, HubError::Stalled { .. }), "{e:?}");
    assert!(
        took >= Duration::from_millis(1900) && took < Duration::from_secs(5),
        "{took:?}"
    );
    let msg = e.to_string();
    assert!(
        msg.contains("owner/bmes") && msg.contains("2 s") && msg.contains("HF_ENDPOINT"),
        "{msg}"
    );
    hub.with(|s| s.stall_api = false);

    // Half the weights, then silence.
    hub.with(|s| s.stall_file = Some("model.safetensors".into()));
    let t = Instant::now();
    let e = resolve("owner/bmes", &o).unwrap_err();
    let took = t.elapsed();
    assert!(matches!(e, HubError::Stalled { .. }), "{e:?}");
    assert!(took < Duration::from_secs(6), "{took:?}");
    assert!(
        e.to_string()
            .contains("while downloading model.safetensors"),
        "{e}"
    );
    assert!(!snapshot(cache.path(), "owner/bmes", &sha)
        .join("model.safetensors")
        .exists());
    assert_cache_sound(cache.path(), "owner/bmes", &sha, &files);

    // The server recovers: a retry completes with the exact file.
    hub.with(|s| s.stall_file = None);
    let r = resolve("owner/bmes", &o).unwrap();
    assert_eq!(words(&r.files), words(&model));
    assert_cache_sound(cache.path(), "owner/bmes", &sha, &files);
}

#[test]
fn cancel_mid_download_leaves_nothing_mistaken_for_complete() {
    let hub = MockHub::start();
    let model = bmes_model();
    let files = repo_files(&model, None);
    let sha = hub.add("owner/bmes", files.clone(), None);
    let cache = tempdir();
    let o = opts(&hub, cache.path());
    hub.with(|s| s.slow = Some(("model.safetensors".into(), Duration::from_millis(30))));
    let cancel = AtomicBool::new(false);
    let mut seen = Vec::new();
    let t = Instant::now();
    let e = hub::resolve_with(
        "owner/bmes",
        &o,
        &mut |e: &DownloadEvent| {
            if let DownloadEvent::Progress { file, done, .. } = e {
                if file == "model.safetensors" && *done > 0 {
                    cancel.store(true, Ordering::SeqCst);
                }
            }
            seen.push(e.clone());
        },
        &cancel,
    )
    .unwrap_err();
    assert!(matches!(e, HubError::Cancelled { .. }), "{e:?}");
    assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
    assert!(e.to_string().contains("owner/bmes"));
    assert!(!snapshot(cache.path(), "owner/bmes", &sha)
        .join("model.safetensors")
        .exists());
    assert_cache_sound(cache.path(), "owner/bmes", &sha, &files);
    assert!(hub::cached_snapshot(cache.path(), "owner/bmes", "main").is_none());
    // No blob outside `.part` files has the wrong content.
    let blobs = hub::repo_folder(cache.path(), "owner/bmes").join("blobs");
    for b in std::fs::read_dir(&blobs).unwrap().flatten() {
        let name = b.file_name().to_string_lossy().to_string();
        if name.ends_with(".part") || name.ends_with(".lock") {
            continue;
        }
        assert_eq!(
            sha256_hex(&std::fs::read(b.path()).unwrap()),
            name,
            "a complete blob is exactly its content"
        );
    }
    // Then without the slow server: resumes and completes.
    hub.with(|s| s.slow = None);
    hub.clear_log();
    let r = resolve("owner/bmes", &o).unwrap();
    assert_eq!(words(&r.files), words(&model));
    assert_cache_sound(cache.path(), "owner/bmes", &sha, &files);
    assert!(
        hub.log().iter().any(|l| {
            l.contains("/cdn/owner/bmes/model.safetensors bytes=")
                && !l.ends_with("bytes=0-0")
                && !l.ends_with("bytes=0-")
        }),
        "resumed from the partial file: {:?}",
        hub.log()
    );
}

#[test]
fn unsupported_models_are_refused_before_the_weights_download() {
    let hub = MockHub::start();
    let model = bmes_model();
    let mut files = repo_files(&model, None);
    let mut cfg: serde_json::Value = serde_json::from_slice(&files[0].1).unwrap();
    cfg["architectures"] = serde_json::json!(["GPT2LMHeadModel"]);
    cfg["model_type"] = "gpt2".into();
    files[0].1 = cfg.to_string().into_bytes();
    hub.add("owner/gpt", files.clone(), None);
    let mut cfg: serde_json::Value =
        serde_json::from_slice(&repo_files(&model, None)[0].1).unwrap();
    cfg["id2label"] = serde_json::json!({"0": "B-PER", "1": "I-PER", "2": "O"});
    cfg["label2id"] = serde_json::json!({"B-PER": 0, "I-PER": 1, "O": 2});
    files[0].1 = cfg.to_string().into_bytes();
    hub.add("owner/ner", files, None);
    // No weights at all.
    let mut files = repo_files(&model, None);
    files.retain(|(n, _)| *n != "model.safetensors");
    hub.add("owner/noweights", files, None);
    let cache = tempdir();
    let o = opts(&hub, cache.path());

    let e = resolve("owner/gpt", &o).unwrap_err();
    assert!(matches!(e, HubError::Model { .. }), "{e:?}");
    let msg = format!("{e}");
    assert!(
        msg.contains("owner/gpt") && msg.contains("gpt2") && msg.contains("fenci runs"),
        "{msg}"
    );
    let e = resolve("owner/ner", &o).unwrap_err();
    let msg = format!("{e}");
    assert!(
        msg.contains("owner/ner") && msg.contains("BMES") && msg.contains("B/I"),
        "{msg}"
    );
    assert!(
        hub.log().iter().all(|l| !l.contains("model.safetensors")),
        "weights were not fetched: {:?}",
        hub.log()
    );
    let e = resolve("owner/noweights", &o).unwrap_err();
    assert!(matches!(e, HubError::MissingFile { .. }), "{e:?}");
    assert!(e
        .to_string()
        .contains("model.safetensors or pytorch_model.bin"));
}

#[test]
fn a_model_with_dictionary_features_downloads_its_word_list() {
    let hub = MockHub::start();
    let mut model = bmes_model();
    model
        .add_word_features(fenci::text::WordSet::parse("北京\n天安门\n学习\n"))
        .unwrap();
    let d = tempdir();
    model.save_dir(d.path(), false).unwrap();
    let files: Vec<(&str, Vec<u8>)> = [
        "config.json",
        "vocab.txt",
        "lexicon.txt",
        "model.safetensors",
    ]
    .into_iter()
    .map(|n| (n, std::fs::read(d.path().join(n)).unwrap()))
    .collect();
    hub.add("owner/features", files.clone(), Some("mit"));
    let mut without = files;
    without.retain(|(n, _)| *n != "lexicon.txt");
    hub.add("owner/nolist", without, Some("mit"));
    let cache = tempdir();
    let o = opts(&hub, cache.path());

    let r = resolve("owner/features", &o).unwrap();
    assert_eq!(r.files.features.as_ref().unwrap().words().len(), 3);
    assert_eq!(words(&r.files), words(&model));
    // A cached copy that lost its list is not taken as complete: offline it is "not cached",
    // online the list is fetched again.
    let snap = r.dir.clone().unwrap();
    std::fs::remove_file(snap.join("lexicon.txt")).unwrap();
    let offline = HubOptions {
        offline: true,
        ..o.clone()
    };
    let e = resolve("owner/features", &offline).unwrap_err();
    assert!(matches!(e, HubError::NotCached { .. }), "{e:?}");
    let again = resolve("owner/features", &o).unwrap();
    assert_eq!(words(&again.files), words(&model));
    // A repo that lacks the list is refused before its weights download, naming the file.
    hub.clear_log();
    let e = resolve("owner/nolist", &o).unwrap_err();
    assert!(matches!(e, HubError::MissingFile { .. }), "{e:?}");
    assert!(e.to_string().contains("lexicon.txt"), "{e}");
    assert!(
        hub.log().iter().all(|l| !l.contains("model.safetensors")),
        "{:?}",
        hub.log()
    );
}

// ---------------------------------------------------------------------------------------------
// pytorch_model.bin and B/I.

/// Writes tensors as PyTorch's `torch.save` does: a zip with `archive/data.pkl` (a protocol-2
/// pickle of an OrderedDict of `torch._utils._rebuild_tensor_v2` calls whose storages are
/// persistent ids `('storage', torch.FloatStorage, key, 'cpu', numel)`) and `archive/data/<key>`
/// (the raw little-endian storage).
fn pytorch_bin(tensors: &[(String, Tensor)]) -> Vec<u8> {
    fn uni(p: &mut Vec<u8>, s: &str) {
        p.push(b'X');
        p.extend((s.len() as u32).to_le_bytes());
        p.extend(s.as_bytes());
    }
    fn int(p: &mut Vec<u8>, n: usize) {
        if n < 256 {
            p.extend([b'K', n as u8]);
        } else if n < 65536 {
            p.push(b'M');
            p.extend((n as u16).to_le_bytes());
        } else {
            p.push(b'J');
            p.extend((n as i32).to_le_bytes());
        }
    }
    fn global(p: &mut Vec<u8>, module: &str, name: &str) {
        p.push(b'c');
        p.extend(format!("{module}\n{name}\n").as_bytes());
    }
    fn tuple(p: &mut Vec<u8>, v: &[usize]) {
        p.push(b'(');
        for &x in v {
            int(p, x);
        }
        p.push(b't');
    }
    let mut p = vec![0x80, 2];
    global(&mut p, "collections", "OrderedDict");
    p.extend([b')', b'R', b'(']);
    let mut storages = Vec::new();
    for (i, (name, t)) in tensors.iter().enumerate() {
        let dims = t.dims().to_vec();
        let mut strides = vec![1usize; dims.len()];
        for d in (0..dims.len().saturating_sub(1)).rev() {
            strides[d] = strides[d + 1] * dims[d + 1];
        }
        let data: Vec<f32> = t.flatten_all().unwrap().to_vec1().unwrap();
        uni(&mut p, name);
        global(&mut p, "torch._utils", "_rebuild_tensor_v2");
        p.push(b'(');
        p.push(b'(');
        uni(&mut p, "storage");
        global(&mut p, "torch", "FloatStorage");
        uni(&mut p, &i.to_string());
        uni(&mut p, "cpu");
        int(&mut p, data.len());
        p.push(b't');
        p.push(b'Q');
        int(&mut p, 0);
        tuple(&mut p, &dims);
        tuple(&mut p, &strides);
        p.push(0x89);
        global(&mut p, "collections", "OrderedDict");
        p.extend([b')', b'R']);
        p.push(b't');
        p.push(b'R');
        storages.push((
            i,
            data.iter()
                .flat_map(|x| x.to_le_bytes())
                .collect::<Vec<u8>>(),
        ));
    }
    p.push(b'u');
    p.push(b'.');
    let mut zw = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opt =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zw.start_file("archive/data.pkl", opt).unwrap();
    zw.write_all(&p).unwrap();
    for (i, bytes) in storages {
        zw.start_file(format!("archive/data/{i}"), opt).unwrap();
        zw.write_all(&bytes).unwrap();
    }
    zw.start_file("archive/version", opt).unwrap();
    zw.write_all(b"3\n").unwrap();
    zw.finish().unwrap().into_inner()
}

/// A BMES model whose S row equals its B row and E row its M row, and the B/I model with the
/// same encoder and rows [B, M]: BMES scores then depend only on where words start (each
/// position's log-probability is the B/I one minus ln 2), so both must choose the same words.
fn equivalent_bmes_and_bi() -> (ModelFiles, ModelFiles) {
    let mut bmes = tiny_model(&LabelScheme::bmes(), 1, 16, 64, 11);
    let w = bmes.tensors["classifier.weight"].clone();
    let b = bmes.tensors["classifier.bias"].clone();
    // Large logits: decisive choices, far from float ties.
    let rows = |t: &Tensor, idx: &[u32]| {
        let i = Tensor::new(idx, &Device::Cpu).unwrap();
        (t.index_select(&i, 0).unwrap() * 100.0).unwrap()
    };
    // bmes() ids: 0 B, 1 M, 2 E, 3 S.
    bmes.tensors
        .insert("classifier.weight".into(), rows(&w, &[0, 1, 1, 0]));
    bmes.tensors
        .insert("classifier.bias".into(), rows(&b, &[0, 1, 1, 0]));
    let mut bi = tiny_model(&LabelScheme::bi(), 1, 16, 64, 11);
    for (k, v) in &bmes.tensors {
        if !k.starts_with("classifier") {
            bi.tensors.insert(k.clone(), v.clone());
        }
    }
    bi.tensors
        .insert("classifier.weight".into(), rows(&w, &[0, 1]));
    bi.tensors
        .insert("classifier.bias".into(), rows(&b, &[0, 1]));
    (bmes, bi)
}

#[test]
fn pytorch_bin_only_bi_model_downloads_and_matches_bmes_decisions() {
    let (bmes, bi) = equivalent_bmes_and_bi();
    let w_bmes = words(&bmes);
    assert_eq!(words(&bi), w_bmes, "B/I and BMES choose the same words");
    assert!(
        w_bmes.iter().flatten().any(|w| w.chars().count() > 1)
            && w_bmes.iter().flatten().any(|w| w.chars().count() == 1),
        "the decisions are not trivial: {w_bmes:?}"
    );

    // Served as config.json + vocab.txt + pytorch_model.bin only.
    let mut files = repo_files(&bi, None);
    files.retain(|(n, _)| *n != "model.safetensors" && *n != "README.md");
    files.push(("pytorch_model.bin", pytorch_bin(&bi.sorted_tensors())));
    let hub = MockHub::start();
    hub.add("ckiplab-like/bi-bin", files, Some("gpl-3.0"));
    let cache = tempdir();
    let r = resolve("ckiplab-like/bi-bin", &opts(&hub, cache.path())).unwrap();
    assert!(r.files.config.labels("config.json").unwrap().is_bi());
    assert_eq!(r.license.as_deref(), Some("gpl-3.0"));
    // Exactly the tensors that were written.
    for (name, t) in bi.sorted_tensors() {
        let got: Vec<f32> = r.files.tensors[&name]
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        let want: Vec<f32> = t.flatten_all().unwrap().to_vec1().unwrap();
        assert_eq!(got, want, "{name}");
    }
    assert_eq!(words(&r.files), w_bmes);
}

#[test]
fn specs_choose_directory_hub_or_default() {
    let d = tempdir();
    let p = d.path().to_str().unwrap();
    assert_eq!(
        ModelSpec::parse(p).unwrap(),
        ModelSpec::Dir(d.path().into())
    );
    assert_eq!(ModelSpec::parse("default").unwrap(), ModelSpec::Default);
    assert!(matches!(
        ModelSpec::parse("owner/name@v2").unwrap(),
        ModelSpec::Hub { ref repo, ref revision } if repo == "owner/name" && revision == "v2"
    ));
    let e = ModelSpec::parse("no-such-thing").unwrap_err().to_string();
    assert!(
        e.contains("no-such-thing") && e.contains("owner/name"),
        "{e}"
    );
    // Local directories and the built-in model resolve without any hub.
    crate::util::write_model(&bmes_model(), d.path());
    let o = HubOptions {
        endpoint: "http://127.0.0.1:9".into(),
        ..HubOptions::new(tempdir().path().to_path_buf())
    };
    assert_eq!(words(&resolve(p, &o).unwrap().files), words(&bmes_model()));
    let r = resolve("default", &o).unwrap();
    assert_eq!(r.files.source, "default");
    assert!(r.licence_note().is_none());
}

// ---------------------------------------------------------------------------------------------
// The binary.

fn fenci_env(args: &[&str], stdin: &[u8], env: &[(&str, &Path)], extra: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fenci"));
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for v in [
        "HF_TOKEN",
        "HF_HUB_CACHE",
        "HF_HUB_OFFLINE",
        "HF_ENDPOINT",
        "HF_TOKEN_PATH",
        "FENCI_HUB_STALL_SECS",
        "http_proxy",
        "https_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "all_proxy",
    ] {
        cmd.env_remove(v);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("run fenci");
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let w = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    w.join().unwrap();
    out
}

#[test]
fn cli_segments_lists_and_exports_hub_models() {
    let mut hub = MockHub::start();
    let model = bmes_model();
    hub.add("owner/bmes", repo_files(&model, Some("apache-2.0")), None);
    let hf_home = tempdir();
    let home = tempdir();
    let endpoint = hub.endpoint();
    let env = [("HF_HOME", hf_home.path()), ("FENCI_HOME", home.path())];
    let online = [("HF_ENDPOINT", endpoint.as_str())];
    let text = "我爱北京天安门\n学生喜欢学习数学\n";
    let want: Vec<String> = Segmenter::new(&model)
        .unwrap()
        .segment_batch(&text.lines().collect::<Vec<_>>())
        .unwrap()
        .iter()
        .map(|s| s.word_strs().join(" "))
        .collect();

    let o = fenci_env(
        &["segment", "--model", "owner/bmes"],
        text.as_bytes(),
        &env,
        &online,
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert_eq!(
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .collect::<Vec<_>>(),
        want
    );
    assert!(err.contains("licence apache-2.0"), "{err}");
    assert_eq!(err.matches("licence").count(), 1, "{err}");
    assert!(
        hf_home
            .path()
            .join("hub/models--owner--bmes/refs/main")
            .is_file(),
        "HF_HOME/hub is the cache"
    );

    let o = fenci_env(&["models"], b"", &env, &online);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success());
    assert!(
        out.contains("owner/bmes") && out.contains("labels BMES"),
        "{out}"
    );

    // The hub is gone; HF_HUB_OFFLINE=1 works from the cache, for segment and eval.
    hub.stop();
    let off = [("HF_HUB_OFFLINE", "1"), ("HF_ENDPOINT", endpoint.as_str())];
    let o = fenci_env(
        &["segment", "--model", "owner/bmes"],
        text.as_bytes(),
        &env,
        &off,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .collect::<Vec<_>>(),
        want
    );
    let gold = tempdir();
    let gold_file = gold.path().join("gold.txt");
    std::fs::write(&gold_file, "我 爱 北京 天安门\n").unwrap();
    let o = fenci_env(
        &[
            "eval",
            "--model",
            "owner/bmes",
            "--gold",
            gold_file.to_str().unwrap(),
        ],
        b"",
        &env,
        &off,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("F1="));

    let o = fenci_env(
        &["segment", "--model", "owner/uncached"],
        b"x\n",
        &env,
        &off,
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("owner/uncached") && err.contains("HF_HUB_OFFLINE"),
        "{err}"
    );

    // Export round trip, with the licence carried in a model card.
    let out_dir = gold.path().join("exported");
    let o = fenci_env(
        &["export", out_dir.to_str().unwrap(), "--model", "owner/bmes"],
        b"",
        &env,
        &off,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let back = ModelFiles::load_dir(&out_dir).unwrap();
    assert_eq!(words(&back), words(&model));
    assert_eq!(
        hub::license_from_card(&std::fs::read_to_string(out_dir.join("README.md")).unwrap())
            .as_deref(),
        Some("apache-2.0")
    );
    // Without --model: the active model (the built-in one in a fresh data directory).
    let out2 = gold.path().join("exported-default");
    let o = fenci_env(&["export", out2.to_str().unwrap()], b"", &env, &off);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        words(&ModelFiles::load_dir(&out2).unwrap()),
        words(&ModelFiles::embedded().unwrap())
    );
    // A directory that is not a model is never replaced.
    std::fs::write(gold.path().join("precious.txt"), "keep").unwrap();
    let o = fenci_env(&["export", gold.path().to_str().unwrap()], b"", &env, &off);
    assert!(!o.status.success());
    assert!(gold.path().join("precious.txt").is_file());

    // The hub is unreachable and nothing is cached: a clear, fast error.
    let t = Instant::now();
    let o = fenci_env(
        &["segment", "--model", "owner/other"],
        b"x\n",
        &env,
        &online,
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("owner/other") && err.contains("cannot reach"),
        "{err}"
    );
    assert!(t.elapsed() < Duration::from_secs(10));
}

/// Not a test: leaves a hub cache holding the built-in model as `fenci-test/default-copy` in
/// `$FENCI_KEEP_CACHE`, for timing a cached hub model against the embedded one:
/// `FENCI_KEEP_CACHE=/tmp/hfc cargo test --release --test it keep_cache -- --ignored`, then
/// `HF_HOME=/tmp/hfc HF_HUB_OFFLINE=1 fenci segment --model fenci-test/default-copy <<< 你好`.
#[test]
#[ignore]
fn keep_cache_for_timing() {
    let Some(dir) = std::env::var_os("FENCI_KEEP_CACHE") else {
        return;
    };
    let hub = MockHub::start();
    let m = ModelFiles::embedded().unwrap();
    hub.add("fenci-test/default-copy", repo_files(&m, Some("mit")), None);
    let o = opts(&hub, &PathBuf::from(dir).join("hub"));
    resolve("fenci-test/default-copy", &o).unwrap();
}

/// The same download through the TUI: `/model owner/name` goes to the worker, which downloads
/// with progress events that the App shows as a gauge, then switches to the model.
#[test]
fn tui_app_downloads_a_hub_model_with_progress() {
    use fenci::store::Settings;
    use fenci::tui::app::{Action, App, Event, WorkerMsg};
    use fenci::tui::{worker, Job};
    use ratatui::crossterm::event::{KeyCode, KeyEvent};
    let hub = MockHub::start();
    let model = bmes_model();
    hub.add("owner/tui", repo_files(&model, Some("mit")), Some("mit"));
    let cache = tempdir();
    let data = tempdir();
    let (tx, rx) = std::sync::mpsc::channel::<Event>();
    let (job_tx, job_rx) = std::sync::mpsc::channel::<Job>();
    let o = opts(&hub, cache.path());
    let dir = data.path().to_path_buf();
    let w = std::thread::spawn(move || {
        worker(
            None,
            Some(dir),
            o,
            job_rx,
            tx,
            std::sync::Arc::new(AtomicBool::new(false)),
        )
    });
    let mut app = App::new(Settings::default(), vec![]);
    let ev = rx.recv_timeout(Duration::from_secs(30)).unwrap();
    assert!(
        matches!(&ev, Event::Worker(WorkerMsg::ModelLoaded(i)) if i.name == "default"),
        "{ev:?}"
    );
    app.update(ev);
    for c in "/model owner/tui".chars() {
        app.update(Event::Key(KeyEvent::from(KeyCode::Char(c))));
    }
    let acts = app.update(Event::Key(KeyEvent::from(KeyCode::Enter)));
    assert!(
        acts.contains(&Action::Data(fenci::tui::app::DataAction::SwitchModel(
            "owner/tui".into()
        ))),
        "{acts:?}"
    );
    // the runner sends a hub id to the worker as a Load job
    job_tx.send(Job::Load("owner/tui".into())).unwrap();
    let mut saw_progress = false;
    let mut saw_gauge = false;
    loop {
        let ev = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("worker answers");
        let loaded = matches!(&ev, Event::Worker(WorkerMsg::ModelLoaded(_)));
        if let Event::Worker(WorkerMsg::Download { done, total, .. }) = &ev {
            saw_progress = true;
            assert!(done <= total);
        }
        app.update(ev);
        if app.download.is_some() {
            let mut t =
                ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 10)).unwrap();
            t.draw(|f| {
                fenci::tui::view::render(&app, f, &fenci::tui::view::Theme { color: false })
            })
            .unwrap();
            saw_gauge |= format!("{}", t.backend()).contains("⬇");
        }
        if loaded {
            break;
        }
    }
    assert!(saw_progress && saw_gauge);
    assert_eq!(app.model.as_ref().unwrap().name, "owner/tui");
    assert!(app.download.is_none());
    // the licence note reached the transcript
    assert!(app
        .turns
        .iter()
        .any(|t| format!("{:?}", t.body).contains("licence mit")));
    drop(job_tx);
    w.join().unwrap();
}

/// A download that would fill the disk is refused before any byte is written, and leaves no
/// partial file (a 4 MB tmpfs as the cache; fenci keeps a margin free). Skips where a tmpfs
/// cannot be mounted.
#[test]
fn a_download_that_would_fill_the_disk_is_refused() {
    use std::process::{Command, Stdio};
    let hub = MockHub::start();
    hub.add(
        "owner/full",
        repo_files(&bmes_model(), Some("mit")),
        Some("mit"),
    );
    let d = tempdir();
    let mnt = d.path().join("small");
    std::fs::create_dir(&mnt).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=4m", "tmpfs"])
        .arg(&mnt)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("skipping: cannot mount a tmpfs here (not root?)");
        return;
    }
    struct Unmount(std::path::PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(&self.0).status();
        }
    }
    let _guard = Unmount(mnt.clone());
    let e = resolve("owner/full", &opts(&hub, &mnt)).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, HubError::Cache { .. }), "{msg}");
    assert!(msg.contains("not enough free space"), "{msg}");
    let parts: Vec<_> = walk(&mnt)
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".part"))
        .collect();
    assert!(parts.is_empty(), "{parts:?}");
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Language models through the hub.

#[test]
fn a_tiny_qwen2_lm_loads_through_the_hub_and_generates() {
    use fenci::generate::{Generator, Sampling};
    let hub = MockHub::start();
    let cache = tempdir();
    let lm = crate::generate::tiny_lm(8);
    let d = tempdir();
    lm.save_dir(&d.path().join("lm")).unwrap();
    let mut files: Vec<(&str, Vec<u8>)> = ["config.json", "tokenizer.json", "model.safetensors"]
        .into_iter()
        .map(|n| (n, std::fs::read(d.path().join("lm").join(n)).unwrap()))
        .collect();
    // A third-party model: not marked as fenci's own char LM.
    let mut cfg: serde_json::Value = serde_json::from_slice(&files[0].1).unwrap();
    cfg.as_object_mut().unwrap().remove("fenci_char_lm");
    files[0].1 = cfg.to_string().into_bytes();
    files.push((
        "tokenizer_config.json",
        br#"{"chat_template": "{% for m in messages %}{{ m.content }}{% endfor %}"}"#.to_vec(),
    ));
    files.push((
        "README.md",
        b"---\nlicense: apache-2.0\n---\n# tiny qwen2\n".to_vec(),
    ));
    hub.add("owner/tiny-qwen2", files, Some("apache-2.0"));
    let o = opts(&hub, cache.path());
    let (got, origin) = hub::resolve_lm(
        "owner/tiny-qwen2",
        &o,
        &mut NoProgress,
        &AtomicBool::new(false),
    )
    .unwrap();
    assert!(origin.starts_with("owner/tiny-qwen2"), "{origin}");
    assert!(got.chat_template, "tokenizer_config.json was not fetched");
    let mut g = Generator::new(got).unwrap();
    assert!(g.is_instruct());
    let s = Sampling {
        temperature: 0.0,
        max_tokens: 8,
        ..Default::default()
    };
    let out = g
        .generate("我", &s, &AtomicBool::new(false), |_| {})
        .unwrap();
    // The same weights loaded directly give the same greedy text.
    let mut local = Generator::new(lm).unwrap();
    let want = local
        .generate("我", &s, &AtomicBool::new(false), |_| {})
        .unwrap();
    assert_eq!(out.text, want.text);
    assert!(out.stats.tokens > 0);
    // Cached now: offline works.
    let off = HubOptions {
        offline: true,
        ..o.clone()
    };
    hub::resolve_lm(
        "owner/tiny-qwen2",
        &off,
        &mut NoProgress,
        &AtomicBool::new(false),
    )
    .unwrap();

    // A segmenter repo asked for as an LM (and the other way round) is refused by its config,
    // before the weights are downloaded.
    hub.add("owner/bmes", repo_files(&bmes_model(), None), None);
    let e =
        hub::resolve_lm("owner/bmes", &o, &mut NoProgress, &AtomicBool::new(false)).unwrap_err();
    assert!(e.to_string().contains("not supported"), "{e}");
    let e = hub::resolve_with(
        "owner/tiny-qwen2",
        &o,
        &mut NoProgress,
        &AtomicBool::new(false),
    )
    .unwrap_err();
    assert!(
        matches!(e, HubError::Model { .. } | HubError::MissingFile { .. }),
        "{e}"
    );
}

#[test]
fn a_vocab_txt_model_downloads_its_tokenizer_config() {
    let hub = MockHub::start();
    let mut model = bmes_model();
    model.config.extra.remove(fenci::tagger::LOOKUP_KEY);
    let mut files = repo_files(&model, Some("mit"));
    let tc = r#"{"do_lower_case": false, "tokenizer_class": "BertTokenizer"}"#;
    files.push(("tokenizer_config.json", tc.as_bytes().to_vec()));
    hub.add("owner/cased", files, Some("mit"));
    let cache = tempdir();
    let r = resolve("owner/cased", &opts(&hub, cache.path())).unwrap();
    assert_eq!(r.files.tokenizer_config.as_deref(), Some(tc));
    let s = r.files.tokenizer_settings();
    assert!(!s.is_fenci() && !s.bert.lower_case, "{s:?}");
}
