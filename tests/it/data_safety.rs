//! Data safety: nothing a user owns is ever lost. One or more regression tests per fault of the
//! issue "Nothing a user owns is ever lost" (faults 1–11 and the also-seen items a–e), written
//! against the contract of the fixes: exit codes, file contents, key words in messages.
//! `/save` is checked through the app's API in [`app_save`].

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use fenci::store::{Correction, CorrectionStore, Settings, Versions};
use fenci::tagger::ModelFiles;

use crate::cli::fenci;
use crate::util::tempdir;

const BIN: &str = env!("CARGO_BIN_EXE_fenci");

/// A child's outcome under a time limit: `status` is `None` when it was killed for running past
/// the limit (a hang).
struct Ran {
    status: Option<ExitStatus>,
    stderr: String,
    elapsed: Duration,
}

impl Ran {
    fn code(&self) -> Option<i32> {
        self.status.and_then(|s| s.code())
    }
}

/// A `fenci` command with `FENCI_HOME=home`, an empty Hugging Face cache and piped output.
fn fenci_cmd(home: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args)
        .env("FENCI_HOME", home)
        .env("HF_HUB_CACHE", home.join(".hf-cache-for-tests"))
        .env("HF_HUB_OFFLINE", "1")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

/// `fenci ARGS` run through `sh -c 'PRELUDE; exec BIN ARGS'` (for `ulimit`, `trap`).
fn fenci_sh(home: &Path, prelude: &str, args: &[&str]) -> Command {
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg(format!("{prelude}; exec \"$0\" \"$@\""))
        .arg(BIN)
        .args(args)
        .env("FENCI_HOME", home)
        .env("HF_HUB_CACHE", home.join(".hf-cache-for-tests"))
        .env("HF_HUB_OFFLINE", "1")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

/// A virtual-memory cap for children that today read a file without end (/dev/zero, a 3 GiB
/// vocabulary): they fail there instead of filling the machine's memory. In KiB, below 3 GiB.
const VM_GUARD: &str = "ulimit -v 3000000";

/// Runs `cmd` (stdin: `input`) and kills it after `limit`.
fn run_limited(mut cmd: Command, input: &[u8], limit: Duration) -> Ran {
    if !input.is_empty() {
        cmd.stdin(Stdio::piped());
    }
    let started = Instant::now();
    let mut child = cmd.spawn().expect("run fenci");
    let writer = child.stdin.take().map(|mut i| {
        let data = input.to_vec();
        std::thread::spawn(move || {
            let _ = i.write_all(&data);
        })
    });
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let o = std::thread::spawn(move || {
        let _ = std::io::copy(&mut out, &mut std::io::sink());
    });
    let e = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait") {
            break Some(st);
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let elapsed = started.elapsed();
    if let Some(w) = writer {
        let _ = w.join();
    }
    let _ = o.join();
    Ran {
        status,
        stderr: String::from_utf8_lossy(&e.join().unwrap()).into_owned(),
        elapsed,
    }
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_string).collect()
}

/// Every file under `dir` with its bytes (symlinks and odd files are not followed).
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                stack.push(p);
            } else if ft.is_file() {
                out.insert(p.clone(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// A data directory with a trained-looking version v1 (the built-in model), `active` = v1 and
/// one correction.
fn home_with_version() -> tempfile::TempDir {
    let home = tempdir();
    let versions = Versions::new(home.path());
    ModelFiles::embedded()
        .unwrap()
        .save_dir(&versions.path("v1"), false)
        .unwrap();
    versions.set_active("v1").unwrap();
    CorrectionStore::new(home.path())
        .append(words("我 爱 北京"), words("我 爱 北京"), "v1")
        .unwrap();
    assert_eq!(versions.active(), "v1");
    home
}

/// The built-in model written to `dir` in the HF layout.
fn model_dir(dir: &Path) {
    ModelFiles::embedded()
        .unwrap()
        .save_dir(dir, false)
        .unwrap();
}

fn no_panic(err: &str) {
    assert!(!err.contains("panicked"), "fenci panicked: {err}");
}

// ---------------------------------------------------------------------------------------------
// Fault 1: `fenci export` replaced any directory holding a config.json, and the data directory.
// ---------------------------------------------------------------------------------------------

/// Fault 1: exporting into a directory that holds files fenci did not write (a `config.json`,
/// a README, a `.git`) is refused with exit 2 and changes nothing there.
#[test]
fn export_refuses_a_directory_with_files_fenci_did_not_write() {
    let home = tempdir();
    let t = tempdir();
    let dir = t.path().join("project");
    std::fs::create_dir_all(dir.join(".git")).unwrap();
    std::fs::write(dir.join("config.json"), "{}").unwrap();
    std::fs::write(dir.join("README.md"), "# my project\n\nmy notes\n").unwrap();
    std::fs::write(dir.join(".git").join("HEAD"), "ref: refs/heads/main\n").unwrap();
    let before = snapshot(&dir);
    let o = fenci(
        &["export", dir.to_str().unwrap(), "--model", "default"],
        b"",
        home.path(),
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "exit code; stderr: {err}");
    assert!(dir.join(".git").is_dir(), ".git was removed");
    assert_eq!(snapshot(&dir), before, "the directory's files changed");
    let lower = err.to_lowercase();
    assert!(
        lower.contains("did not write") || lower.contains("not written"),
        "stderr should say the directory holds files fenci did not write: {err}"
    );
    no_panic(&err);
}

/// Fault 1: exporting into the data directory (a version under `models/`, a new directory in
/// it, or the data directory itself) is refused with exit 2, naming the "data directory", and
/// the versions, `active` and the corrections stay byte for byte.
#[test]
fn export_refuses_the_data_directory() {
    let home = home_with_version();
    let h = home.path();
    // What the user owns there: the versions, the pointer, the corrections.
    let owned = |h: &Path| {
        let mut m = snapshot(&h.join("models"));
        for f in ["active", "corrections.jsonl"] {
            m.insert(h.join(f), std::fs::read(h.join(f)).unwrap());
        }
        m
    };
    let before = owned(h);
    let new_inside = h.join("exported");
    for target in [
        h.join("models").join("v1"),
        h.to_path_buf(),
        new_inside.clone(),
    ] {
        let o = fenci(
            &["export", target.to_str().unwrap(), "--model", "default"],
            b"",
            h,
        );
        let err = stderr(&o);
        assert_eq!(
            o.status.code(),
            Some(2),
            "export to {}: exit code; stderr: {err}",
            target.display()
        );
        assert!(
            err.contains("data directory"),
            "export to {}: stderr should name the data directory: {err}",
            target.display()
        );
        no_panic(&err);
        assert_eq!(
            owned(h),
            before,
            "export to {} changed the data directory",
            target.display()
        );
        assert!(!new_inside.exists(), "{} was created", new_inside.display());
    }
    assert_eq!(Versions::new(h).active(), "v1");
}

/// Fault 1: exporting into a new directory and then again into the same one both succeed and
/// leave the marker `fenci-export.json` and the model's `config.json`.
#[test]
fn export_twice_into_the_same_directory_works_and_leaves_a_marker() {
    let home = tempdir();
    let t = tempdir();
    let dir = t.path().join("out");
    for round in 1..=2 {
        let o = fenci(
            &["export", dir.to_str().unwrap(), "--model", "default"],
            b"",
            home.path(),
        );
        assert_eq!(
            o.status.code(),
            Some(0),
            "export round {round}: {}",
            stderr(&o)
        );
        assert!(
            dir.join("fenci-export.json").is_file(),
            "round {round}: no fenci-export.json"
        );
        assert!(
            dir.join("config.json").is_file(),
            "round {round}: no config.json"
        );
    }
    ModelFiles::load_dir(&dir).expect("the export loads");
}

// ---------------------------------------------------------------------------------------------
// Fault 2: dictionary writes were read-modify-write without a lock: concurrent adds got lost.
// ---------------------------------------------------------------------------------------------

fn dict_list(home: &Path) -> Vec<String> {
    let o = fenci(&["dict", "list"], b"", home);
    assert!(o.status.success(), "dict list: {}", stderr(&o));
    stdout(&o).lines().map(str::to_string).collect()
}

/// Fault 2: two threads each running 40 `fenci dict add` at the same time: all 80 words stay.
#[test]
fn concurrent_dict_adds_keep_every_word() {
    let home = tempdir();
    let threads: Vec<_> = (0..2)
        .map(|t| {
            let h = home.path().to_path_buf();
            std::thread::spawn(move || {
                for i in 0..40 {
                    let w = format!("词{t}号{i}");
                    let o = fenci(&["dict", "add", &w], b"", &h);
                    assert!(o.status.success(), "dict add {w}: {}", stderr(&o));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let listed = dict_list(home.path());
    let missing: Vec<String> = (0..2)
        .flat_map(|t| (0..40).map(move |i| format!("词{t}号{i}")))
        .filter(|w| !listed.contains(w))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of 80 words lost: {missing:?}",
        missing.len()
    );
}

/// Fault 2: removing 20 words in one thread while another adds 20 new ones: none of the removed
/// words come back and every new one stays.
#[test]
fn concurrent_dict_adds_and_removes_keep_both() {
    let home = tempdir();
    let old: Vec<String> = (0..20).map(|i| format!("旧词{i}")).collect();
    let new: Vec<String> = (0..20).map(|i| format!("新词{i}")).collect();
    for w in &old {
        let o = fenci(&["dict", "add", w], b"", home.path());
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let spawn = |action: &'static str, list: Vec<String>| {
        let h = home.path().to_path_buf();
        std::thread::spawn(move || {
            for w in &list {
                let o = fenci(&["dict", action, w], b"", &h);
                assert!(o.status.success(), "dict {action} {w}: {}", stderr(&o));
            }
        })
    };
    let a = spawn("rm", old.clone());
    let b = spawn("add", new.clone());
    a.join().unwrap();
    b.join().unwrap();
    let listed = dict_list(home.path());
    let back: Vec<&String> = old.iter().filter(|w| listed.contains(w)).collect();
    let lost: Vec<&String> = new.iter().filter(|w| !listed.contains(w)).collect();
    assert!(back.is_empty(), "removed words came back: {back:?}");
    assert!(lost.is_empty(), "added words were lost: {lost:?}");
}

// ---------------------------------------------------------------------------------------------
// Fault 3: saving the dictionary dropped the user's comment lines; `#word` was accepted and then
// read back as a comment.
// ---------------------------------------------------------------------------------------------

/// Fault 3: a comment line in dict.txt survives `fenci dict add`.
#[test]
fn dict_add_keeps_comment_lines() {
    let home = tempdir();
    let path = home.path().join("dict.txt");
    std::fs::write(&path, "# my words\n词语\n").unwrap();
    let o = fenci(&["dict", "add", "新词"], b"", home.path());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.lines().any(|l| l == "# my words"),
        "the comment line is gone: {text:?}"
    );
    let listed = dict_list(home.path());
    assert!(listed.contains(&"词语".to_string()), "{listed:?}");
    assert!(listed.contains(&"新词".to_string()), "{listed:?}");
}

/// Fault 3: a word starting with `#` (which would read back as a comment) is refused with exit
/// 2 and dict.txt stays as it was.
#[test]
fn dict_add_refuses_a_word_starting_with_hash() {
    let home = tempdir();
    let path = home.path().join("dict.txt");
    std::fs::write(&path, "# my words\n词语\n").unwrap();
    let before = std::fs::read(&path).unwrap();
    let o = fenci(&["dict", "add", "#号码"], b"", home.path());
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "exit code; stderr: {err}");
    assert!(err.contains('#'), "stderr should explain the '#': {err}");
    no_panic(&err);
    assert_eq!(std::fs::read(&path).unwrap(), before, "dict.txt changed");
}

// ---------------------------------------------------------------------------------------------
// Fault 4: a failed append (file size limit, full disk) left a torn line in corrections.jsonl.
// ---------------------------------------------------------------------------------------------

/// Appends valid records until the file ends 20–100 bytes below a multiple of `block`: room for
/// part of a record (`fenci correct "我 爱 北京"` writes about 140 bytes), never a whole one.
fn fill_below_boundary(store: &CorrectionStore, block: u64) -> u64 {
    for i in 0..3000usize {
        store
            .append(vec!["补".into(), "x".repeat(1 + i % 37)], vec![], "default")
            .unwrap();
        let size = std::fs::metadata(store.path()).unwrap().len();
        let gap = (block - size % block) % block;
        if i >= 3 && (20..=100).contains(&gap) {
            return size;
        }
    }
    panic!("could not place the file just below a {block}-byte boundary");
}

/// Fault 4: `fenci correct` that runs into the file size limit (`ulimit -f`, SIGXFSZ ignored)
/// mid-record fails without a panic and leaves corrections.jsonl byte for byte as it was.
#[test]
fn a_failed_append_leaves_no_torn_line() {
    let home = tempdir();
    let store = CorrectionStore::new(home.path());
    let size = fill_below_boundary(&store, 512);
    let before = std::fs::read(store.path()).unwrap();
    // dash's `ulimit -f` counts 512-byte blocks.
    let blocks = size.div_ceil(512);
    let prelude = format!("trap '' XFSZ; ulimit -f {blocks}");
    let r = run_limited(
        fenci_sh(home.path(), &prelude, &["correct", "我 爱 北京"]),
        b"",
        Duration::from_secs(30),
    );
    assert!(r.status.is_some(), "fenci correct hung");
    assert_ne!(
        r.code(),
        Some(0),
        "the append cannot fit; stderr: {}",
        r.stderr
    );
    no_panic(&r.stderr);
    assert_unchanged(store.path(), &before);
}

/// `path` holds exactly `before`; else the message shows the bytes that differ.
fn assert_unchanged(path: &Path, before: &[u8]) {
    let after = std::fs::read(path).unwrap();
    let same = after.iter().zip(before).take_while(|(a, b)| a == b).count();
    assert!(
        after == before,
        "{} changed: {} bytes before, {} after; from byte {same} it holds {:?} (was {:?})",
        path.display(),
        before.len(),
        after.len(),
        String::from_utf8_lossy(&after[same..]),
        String::from_utf8_lossy(&before[same..]),
    );
}

/// Unmounts a tmpfs when dropped.
struct Tmpfs(PathBuf);

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Fault 4, on a full device: on a 1 MiB tmpfs filled to the last byte, `fenci correct` fails
/// without a panic and leaves corrections.jsonl byte for byte as it was. Skipped (with a message)
/// where a tmpfs cannot be mounted (not root, no privileges).
#[test]
fn a_failed_append_on_a_full_device_leaves_no_torn_line() {
    let t = tempdir();
    let mnt = t.path().join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    let mounted = is_root
        && Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
            .arg(&mnt)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("skipped: cannot mount a tmpfs here (needs root)");
        return;
    }
    let _guard = Tmpfs(mnt.clone());
    let home = mnt.join("home");
    std::fs::create_dir(&home).unwrap();
    let store = CorrectionStore::new(&home);
    // tmpfs allocates pages: the last page of the file has 20–100 bytes left.
    fill_below_boundary(&store, 4096);
    let before = std::fs::read(store.path()).unwrap();
    // Fill the rest of the device.
    let mut filler = std::fs::File::create(mnt.join("filler")).unwrap();
    let chunk = vec![0u8; 4096];
    let mut full = false;
    for _ in 0..1024 {
        if filler.write_all(&chunk).is_err() {
            full = true;
            break;
        }
    }
    for _ in 0..4096 {
        if full || filler.write_all(&[0u8]).is_err() {
            break;
        }
    }
    drop(filler);
    let r = run_limited(
        fenci_cmd(&home, &["correct", "我 爱 北京"]),
        b"",
        Duration::from_secs(30),
    );
    assert!(r.status.is_some(), "fenci correct hung");
    assert_ne!(
        r.code(),
        Some(0),
        "the device is full; stderr: {}",
        r.stderr
    );
    no_panic(&r.stderr);
    assert_unchanged(store.path(), &before);
}

// ---------------------------------------------------------------------------------------------
// Fault 5: invalid UTF-8 in `fenci segment` dropped the lines before it and offered no way on.
// ---------------------------------------------------------------------------------------------

/// `我爱北京`, `第二行` + the bytes FF FE + `坏了`, `第三行正常`: line 2 is not UTF-8.
fn bad_input() -> Vec<u8> {
    let mut v = "我爱北京\n第二行".as_bytes().to_vec();
    v.extend_from_slice(b"\xff\xfe");
    v.extend_from_slice("坏了\n第三行正常\n".as_bytes());
    v
}

/// Fault 5: by default a bad line stops `fenci segment` with exit 2 naming the line, after the
/// lines before it were written.
#[test]
fn segment_stops_at_invalid_utf8_after_writing_the_lines_before() {
    let home = tempdir();
    let o = fenci(
        &["segment", "--model", "default"],
        &bad_input(),
        home.path(),
    );
    let out = stdout(&o);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "exit code; stderr: {err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "stdout: {out:?}");
    assert_eq!(lines[0].replace(' ', ""), "我爱北京");
    assert!(err.contains("line 2"), "stderr should name line 2: {err}");
    no_panic(&err);
}

/// Fault 5: `--invalid skip` writes an empty line for the bad one, warns naming it, exits 0.
#[test]
fn segment_invalid_skip_keeps_line_numbers() {
    let home = tempdir();
    let o = fenci(
        &["segment", "--model", "default", "--invalid", "skip"],
        &bad_input(),
        home.path(),
    );
    let out = stdout(&o);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "exit code; stderr: {err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "stdout: {out:?}");
    assert_eq!(lines[0].replace(' ', ""), "我爱北京");
    assert_eq!(lines[1], "");
    assert_eq!(lines[2].replace(' ', ""), "第三行正常");
    assert!(err.contains("line 2"), "a warning naming line 2: {err}");
}

/// Fault 5: `--invalid replace` segments the bad line with U+FFFD in place of the bad bytes.
#[test]
fn segment_invalid_replace_uses_the_replacement_character() {
    let home = tempdir();
    let o = fenci(
        &["segment", "--model", "default", "--invalid", "replace"],
        &bad_input(),
        home.path(),
    );
    let out = stdout(&o);
    assert_eq!(
        o.status.code(),
        Some(0),
        "exit code; stderr: {}",
        stderr(&o)
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "stdout: {out:?}");
    assert!(lines[1].contains('\u{FFFD}'), "line 2: {:?}", lines[1]);
    assert_eq!(lines[2].replace(' ', ""), "第三行正常");
}

/// Fault 5: 5,000 good lines before a bad one all come out (exactly 5,000 lines), exit 2.
#[test]
fn segment_writes_every_good_line_before_a_bad_one() {
    let home = tempdir();
    let mut input = Vec::new();
    for i in 0..5000 {
        input.extend_from_slice(["我爱北京\n", "今天天气很好\n", "学习中文\n"][i % 3].as_bytes());
    }
    input.extend_from_slice(b"\xff\xfe\n");
    input.extend_from_slice("后面\n".as_bytes());
    let o = fenci(&["segment", "--model", "default"], &input, home.path());
    assert_eq!(
        o.status.code(),
        Some(2),
        "exit code; stderr: {}",
        stderr(&o)
    );
    assert_eq!(stdout(&o).lines().count(), 5000);
}

// ---------------------------------------------------------------------------------------------
// Fault 6: printing to a closed pipe or a full device panicked.
// ---------------------------------------------------------------------------------------------

/// Runs fenci with stdout a pipe whose read end is closed at once; waits at most 30 s.
fn with_closed_pipe(home: &Path, args: &[&str]) -> (Option<ExitStatus>, String) {
    let mut child = fenci_cmd(home, args).spawn().expect("run fenci");
    drop(child.stdout.take());
    let mut err = child.stderr.take().unwrap();
    let e = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let started = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break Some(st);
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    (
        status,
        String::from_utf8_lossy(&e.join().unwrap()).into_owned(),
    )
}

/// 300 corrections of 50 two-character words: `fenci corrections` prints about 100 KB, more than
/// a pipe holds.
fn many_corrections(home: &Path) {
    let pool: Vec<char> = "我你他她们是的了在有人这中大来上国个到说和地也子时道出而要于就下得可"
        .chars()
        .collect();
    let mut text = String::new();
    for id in 1..=300u64 {
        let ws: Vec<String> = (0..50)
            .map(|k| {
                let a = pool[(id as usize + k) % pool.len()];
                let b = pool[(id as usize * 7 + k * 3) % pool.len()];
                format!("{a}{b}")
            })
            .collect();
        let c = Correction {
            id,
            time: 1_700_000_000,
            sentence: ws.concat(),
            words: ws,
            model_output: vec![],
            model_version: "default".into(),
        };
        text.push_str(&serde_json::to_string(&c).unwrap());
        text.push('\n');
    }
    std::fs::write(CorrectionStore::new(home).path(), text).unwrap();
    assert_eq!(
        CorrectionStore::new(home).load().unwrap().records.len(),
        300
    );
}

/// Fault 6: `fenci corrections` into a closed pipe exits 0 without a panic.
#[test]
fn corrections_into_a_closed_pipe_does_not_panic() {
    let home = tempdir();
    many_corrections(home.path());
    let (status, err) = with_closed_pipe(home.path(), &["corrections"]);
    no_panic(&err);
    assert_eq!(status.and_then(|s| s.code()), Some(0), "stderr: {err}");
}

/// Fault 6: `fenci dict list` into a closed pipe exits 0 without a panic.
#[test]
fn dict_list_into_a_closed_pipe_does_not_panic() {
    let home = tempdir();
    // 1,000 words of 30 characters: about 90 KB of output, more than a pipe holds.
    let mut text = String::new();
    for i in 0..1000 {
        text.push_str(&format!("{}{i:05}\n", "词".repeat(25)));
    }
    std::fs::write(home.path().join("dict.txt"), text).unwrap();
    let (status, err) = with_closed_pipe(home.path(), &["dict", "list"]);
    no_panic(&err);
    assert_eq!(status.and_then(|s| s.code()), Some(0), "stderr: {err}");
}

/// Fault 6: `fenci models` into a closed pipe exits 0 without a panic.
#[test]
fn models_into_a_closed_pipe_does_not_panic() {
    let home = home_with_version();
    let (status, err) = with_closed_pipe(home.path(), &["models"]);
    no_panic(&err);
    assert_eq!(status.and_then(|s| s.code()), Some(0), "stderr: {err}");
}

/// Fault 6: `fenci corrections` with stdout on /dev/full exits 2 naming the write error, without
/// a panic.
#[test]
fn corrections_onto_a_full_device_reports_the_write_error() {
    let home = tempdir();
    CorrectionStore::new(home.path())
        .append(words("我 爱 北京"), vec![], "default")
        .unwrap();
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let mut cmd = fenci_cmd(home.path(), &["corrections"]);
    cmd.stdout(Stdio::from(full));
    let mut child = cmd.spawn().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status = child.wait().unwrap();
    no_panic(&err);
    assert_eq!(status.code(), Some(2), "stderr: {err}");
    assert!(
        err.contains("No space left"),
        "stderr should name the write error: {err}"
    );
}

// ---------------------------------------------------------------------------------------------
// Fault 7: model files were read without a check: /dev/zero, a FIFO, a 3 GiB vocabulary.
// ---------------------------------------------------------------------------------------------

/// Fault 7: a `config.json` that is a symlink to /dev/zero is refused (exit 2, within 5 s,
/// naming config.json as not a regular file) instead of read without end.
#[test]
fn a_config_symlinked_to_dev_zero_is_refused() {
    let t = tempdir();
    let dir = t.path().join("model");
    model_dir(&dir);
    std::fs::remove_file(dir.join("config.json")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.join("config.json")).unwrap();
    let r = run_limited(
        fenci_sh(
            t.path(),
            VM_GUARD,
            &["segment", "--model", dir.to_str().unwrap()],
        ),
        "我爱北京\n".as_bytes(),
        Duration::from_secs(5),
    );
    assert!(r.status.is_some(), "fenci hung for {:?}", r.elapsed);
    assert_eq!(r.code(), Some(2), "stderr: {}", r.stderr);
    assert!(r.stderr.contains("config.json"), "stderr: {}", r.stderr);
    assert!(
        r.stderr.contains("not a regular file"),
        "stderr: {}",
        r.stderr
    );
    no_panic(&r.stderr);
}

/// Fault 7: a FIFO as `config.json` is refused with exit 2 within 5 s instead of blocking.
#[test]
fn a_config_fifo_is_refused_without_blocking() {
    let t = tempdir();
    let dir = t.path().join("model");
    model_dir(&dir);
    std::fs::remove_file(dir.join("config.json")).unwrap();
    let ok = Command::new("mkfifo")
        .arg(dir.join("config.json"))
        .status()
        .expect("mkfifo");
    assert!(ok.success());
    let r = run_limited(
        fenci_sh(
            t.path(),
            VM_GUARD,
            &["segment", "--model", dir.to_str().unwrap()],
        ),
        "我爱北京\n".as_bytes(),
        Duration::from_secs(5),
    );
    assert!(
        r.status.is_some(),
        "fenci blocked on the FIFO for {:?}",
        r.elapsed
    );
    assert_eq!(r.code(), Some(2), "stderr: {}", r.stderr);
    assert!(r.stderr.contains("config.json"), "stderr: {}", r.stderr);
    no_panic(&r.stderr);
}

/// Fault 7: a 3 GiB (sparse) `vocab.txt` beside a valid config and weights is refused by its
/// size (exit 2 within 5 s, naming vocab.txt and the size) instead of read into memory.
#[test]
fn a_huge_vocab_is_refused_by_its_size() {
    let t = tempdir();
    let dir = t.path().join("model");
    model_dir(&dir);
    assert!(dir.join("vocab.txt").is_file());
    std::fs::OpenOptions::new()
        .write(true)
        .open(dir.join("vocab.txt"))
        .unwrap()
        .set_len(3 << 30)
        .unwrap();
    let r = run_limited(
        fenci_sh(
            t.path(),
            VM_GUARD,
            &["segment", "--model", dir.to_str().unwrap()],
        ),
        "我爱北京\n".as_bytes(),
        Duration::from_secs(5),
    );
    assert!(r.status.is_some(), "fenci ran past 5 s");
    assert_eq!(r.code(), Some(2), "stderr: {}", r.stderr);
    assert!(r.stderr.contains("vocab.txt"), "stderr: {}", r.stderr);
    let lower = r.stderr.to_lowercase();
    assert!(
        lower.contains("too large") || lower.contains("too big") || lower.contains("larger than"),
        "stderr should say the file is too large: {}",
        r.stderr
    );
    no_panic(&r.stderr);
}

// ---------------------------------------------------------------------------------------------
// Fault 8: `/save` said "saved" before anything was written, overwrote any file, and could
// write into the data directory.
// ---------------------------------------------------------------------------------------------

/// The App's visible text: every turn's answer and the status-bar notice.
fn visible(app: &fenci::tui::app::App) -> String {
    use fenci::tui::app::TurnBody;
    let mut s = String::new();
    for t in &app.turns {
        match &t.body {
            TurnBody::Info(lines) => {
                for l in lines {
                    s.push_str(l);
                    s.push('\n');
                }
            }
            TurnBody::Error(e) => {
                s.push_str(e);
                s.push('\n');
            }
            _ => {}
        }
    }
    if let Some(n) = &app.notice {
        s.push_str(n);
        s.push('\n');
    }
    s
}

fn app_enter(app: &mut fenci::tui::app::App, line: &str) -> Vec<fenci::tui::app::Action> {
    use fenci::tui::app::Event;
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let key = |c| Event::Key(KeyEvent::new(c, KeyModifiers::NONE));
    let mut acts = Vec::new();
    for c in line.chars() {
        acts.extend(app.update(key(KeyCode::Char(c))));
    }
    acts.extend(app.update(key(KeyCode::Enter)));
    acts
}

/// Fault 8: `/save x.md` asks the runner to write the file and says nothing about "saved" until
/// the runner reports the write.
#[test]
fn save_does_not_claim_success_before_the_write() {
    use fenci::tui::app::{Action, App};
    let mut app = App::new(Settings::default(), vec![]);
    let acts = app_enter(&mut app, "/save x.md");
    assert!(
        acts.iter().any(|a| matches!(a, Action::WriteFile { .. })),
        "{acts:?}"
    );
    let text = visible(&app);
    assert!(
        !text.to_lowercase().contains("saved"),
        "the App says saved before any write happened: {text}"
    );
}

/// Fault 8, through the app's API (`save_transcript`, `SaveError`, `WorkerMsg::Saved` and
/// `SaveExists`, `Action::WriteFile { overwrite }`).
mod app_save {
    use std::path::{Path, PathBuf};

    use fenci::store::Settings;
    use fenci::tui::app::{Action, App, Event, WorkerMsg};
    use fenci::tui::worker::{save_transcript, SaveError};

    use super::{app_enter, visible};
    use crate::util::tempdir;

    /// Fault 8: an existing file is not overwritten without `overwrite`; with it, it is.
    #[test]
    fn save_transcript_refuses_an_existing_file_unless_told() {
        let t = tempdir();
        let data = t.path().join("data");
        std::fs::create_dir(&data).unwrap();
        let f = t.path().join("notes.md");
        std::fs::write(&f, "my notes").unwrap();
        let r = save_transcript(
            f.to_str().unwrap(),
            "transcript",
            Some(data.as_path()),
            false,
        );
        assert!(matches!(r, Err(SaveError::Exists(_))), "{r:?}");
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "my notes");
        let p = save_transcript(
            f.to_str().unwrap(),
            "transcript",
            Some(data.as_path()),
            true,
        )
        .unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "transcript");
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "transcript");
    }

    /// Fault 8: a path in the data directory, also through `..`, is refused and nothing is
    /// written.
    #[test]
    fn save_transcript_refuses_the_data_directory() {
        let t = tempdir();
        let data = t.path().join("data");
        std::fs::create_dir_all(data.join("sub")).unwrap();
        let corrections = data.join("corrections.jsonl");
        std::fs::write(&corrections, "{\"id\":1}\n").unwrap();
        let before = super::snapshot(&data);
        let tricky = format!("{}/sub/../corrections.jsonl", data.display());
        let new_file = data.join("transcript.md");
        for (path, overwrite) in [
            (corrections.display().to_string(), true),
            (corrections.display().to_string(), false),
            (tricky, true),
            (new_file.display().to_string(), false),
        ] {
            let r = save_transcript(&path, "transcript", Some(data.as_path()), overwrite);
            assert!(
                matches!(r, Err(SaveError::InDataDir(_))),
                "{path} (overwrite {overwrite}): {r:?}"
            );
            assert_eq!(
                super::snapshot(&data),
                before,
                "{path}: the data directory changed"
            );
        }
        assert!(!new_file.exists());
    }

    /// Fault 8: a missing parent directory is an error and is not created.
    #[test]
    fn save_transcript_does_not_create_directories() {
        let t = tempdir();
        let missing = t.path().join("missing");
        let path = missing.join("deeper").join("x.md");
        let r = save_transcript(path.to_str().unwrap(), "transcript", None, false);
        assert!(matches!(r, Err(SaveError::NoParent(_))), "{r:?}");
        assert!(!missing.exists(), "a directory was created");
    }

    /// Fault 8: `~/` expands to $HOME (checked where HOME is a writable directory; the file
    /// written is removed).
    #[test]
    fn save_transcript_expands_the_home_directory() {
        let Some(home) = std::env::var_os("HOME").map(PathBuf::from) else {
            eprintln!("skipped: HOME is not set");
            return;
        };
        if !home.is_dir() {
            eprintln!("skipped: HOME is not a directory");
            return;
        }
        let name = format!(
            "fenci-save-test-{}-{}.md",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        );
        let expected = home.join(&name);
        assert!(!expected.exists());
        let r = save_transcript(&format!("~/{name}"), "transcript", None, false);
        if let Ok(p) = &r {
            let _ = std::fs::remove_file(p);
        }
        let _ = std::fs::remove_file(&expected);
        let p = match r {
            Ok(p) => p,
            Err(SaveError::Io { .. }) => {
                eprintln!("skipped: HOME is not writable");
                return;
            }
            Err(e) => panic!("~/{name}: {e:?}"),
        };
        assert!(!p.starts_with("~"), "{}", p.display());
        assert!(p.ends_with(Path::new(&name)), "{}", p.display());
        assert_eq!(p, expected);
    }

    /// Fault 8: the App asks for the write (not overwriting), reports "saved" only once the
    /// runner says so, asks before overwriting, and `/save!` overwrites.
    #[test]
    fn the_app_reports_saved_only_after_the_write_and_confirms_overwrites() {
        let mut app = App::new(Settings::default(), vec![]);
        let acts = app_enter(&mut app, "/save x.md");
        let path = acts
            .iter()
            .find_map(|a| match a {
                Action::WriteFile {
                    path,
                    overwrite: false,
                    ..
                } => Some(path.clone()),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no WriteFile without overwrite: {acts:?}"));
        assert!(path.ends_with("x.md"), "{}", path.display());
        assert!(
            !visible(&app).to_lowercase().contains("saved"),
            "{}",
            visible(&app)
        );

        app.update(Event::Worker(WorkerMsg::Saved(path.clone())));
        let text = visible(&app);
        assert!(text.contains("saved the transcript to"), "{text}");

        let mut app = App::new(Settings::default(), vec![]);
        app_enter(&mut app, "/save x.md");
        app.update(Event::Worker(WorkerMsg::SaveExists(path.clone())));
        let text = visible(&app);
        assert!(text.contains("exists"), "{text}");
        assert!(!text.contains("saved the transcript"), "{text}");
        let acts = app_enter(&mut app, "/save! x.md");
        assert!(
            acts.iter().any(|a| matches!(
                a,
                Action::WriteFile {
                    overwrite: true,
                    ..
                }
            )),
            "{acts:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Fault 9: one bad value in settings.toml reset every setting; NaN and out-of-range values were
// taken; unknown keys were dropped on save.
// ---------------------------------------------------------------------------------------------

/// Fault 9: a bad `temperature` is reported and replaced by its default while the other
/// settings are kept.
#[test]
fn settings_keep_the_good_values_beside_a_bad_one() {
    let d = tempdir();
    std::fs::write(
        d.path().join("settings.toml"),
        "temperature = \"hot\"\ntop_p = 0.5\nseed = 7\nexplain = \"brief\"\nlm = \"x/y\"\n",
    )
    .unwrap();
    let (s, msg) = Settings::load(d.path());
    assert_eq!(s.top_p, 0.5);
    assert_eq!(s.seed, 7);
    assert_eq!(s.explain, fenci::store::Explain::Brief);
    assert_eq!(s.lm, "x/y");
    assert_eq!(s.temperature, 0.8);
    let msg = msg.expect("a message about temperature");
    assert!(msg.contains("temperature"), "{msg}");
    assert!(msg.contains("\"hot\""), "{msg}");
}

/// Fault 9: `temperature = nan` is not accepted.
#[test]
fn settings_refuse_a_nan_temperature() {
    let d = tempdir();
    std::fs::write(
        d.path().join("settings.toml"),
        "temperature = nan\nseed = 7\n",
    )
    .unwrap();
    let (s, msg) = Settings::load(d.path());
    assert_eq!(s.temperature, 0.8, "NaN was taken");
    let msg = msg.expect("a message about temperature");
    assert!(msg.contains("temperature"), "{msg}");
}

/// Fault 9: `top_p = 1.5` is not accepted.
#[test]
fn settings_refuse_an_out_of_range_top_p() {
    let d = tempdir();
    std::fs::write(d.path().join("settings.toml"), "top_p = 1.5\n").unwrap();
    let (s, msg) = Settings::load(d.path());
    assert_eq!(s.top_p, Settings::default().top_p, "1.5 was taken");
    assert!(msg.is_some(), "a refused value is reported");
}

/// Fault 9: keys fenci does not know (from a newer version) survive a load and save.
#[test]
fn settings_keep_unknown_keys_on_save() {
    let d = tempdir();
    let path = d.path().join("settings.toml");
    std::fs::write(&path, "seed = 9\nfuture_key = 3\n").unwrap();
    let (s, _) = Settings::load(d.path());
    assert_eq!(s.seed, 9);
    s.save(d.path()).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.lines().any(|l| l.trim() == "future_key = 3"), "{text}");
    assert_eq!(Settings::load(d.path()).0.seed, 9);
}

// ---------------------------------------------------------------------------------------------
// Fault 10: `fenci correct` refused to save a correction when the active version was damaged.
// ---------------------------------------------------------------------------------------------

/// Fault 10: with a damaged active version, `fenci correct` still saves the correction (exit 0)
/// with a warning that the model could not be loaded.
#[test]
fn correct_saves_even_when_the_active_model_is_damaged() {
    let home = tempdir();
    let versions = Versions::new(home.path());
    let v1 = versions.path("v1");
    model_dir(&v1);
    versions.set_active("v1").unwrap();
    let st = v1.join("model.safetensors");
    let len = std::fs::metadata(&st).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&st)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    assert_eq!(versions.active(), "v1");
    let o = fenci(&["correct", "我 爱 北京"], b"", home.path());
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "stderr: {err}");
    let lower = err.to_lowercase();
    assert!(
        lower.contains("warning") && lower.contains("model"),
        "a warning that the model could not be loaded: {err}"
    );
    no_panic(&err);
    let o = fenci(&["corrections"], b"", home.path());
    assert!(
        stdout(&o).contains("我 爱 北京"),
        "the correction is not listed: {}",
        stdout(&o)
    );
}

// ---------------------------------------------------------------------------------------------
// Fault 11: two `fenci train` runs at once each wrote a version.
// ---------------------------------------------------------------------------------------------

/// Fault 11: while `$FENCI_HOME/train.lock` is locked (a running `fenci train` holds it), another
/// `fenci train` exits 2 within 10 s saying one is "already running".
#[test]
fn train_refuses_while_another_training_runs() {
    let home = tempdir();
    CorrectionStore::new(home.path())
        .append(words("我 爱 北京"), vec![], "default")
        .unwrap();
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(home.path().join("train.lock"))
        .unwrap();
    lock.try_lock().expect("lock train.lock");
    let r = run_limited(
        fenci_cmd(home.path(), &["train"]),
        b"",
        Duration::from_secs(10),
    );
    lock.unlock().unwrap();
    drop(lock);
    assert!(
        r.status.is_some(),
        "fenci train ran past 10 s while another training held the lock"
    );
    assert_eq!(r.code(), Some(2), "stderr: {}", r.stderr);
    assert!(r.stderr.contains("already running"), "stderr: {}", r.stderr);
    assert_eq!(Versions::new(home.path()).active(), "default");
    assert!(Versions::new(home.path()).list().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Also seen.
// ---------------------------------------------------------------------------------------------

/// Also seen (a): an `active` pointer naming a path outside the data directory is ignored.
#[test]
fn active_pointer_outside_the_data_directory_is_ignored() {
    let t = tempdir();
    let home = t.path().join("home");
    let versions = Versions::new(&home);
    model_dir(&versions.path("v1"));
    // Model-looking directories outside `home/models`, reachable by each pointer.
    let outside = t.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("config.json"), "{}").unwrap();
    std::fs::create_dir_all(home.join("x")).unwrap();
    std::fs::write(home.join("x").join("config.json"), "{}").unwrap();
    for pointer in [
        "../../outside".to_string(),
        outside.display().to_string(),
        "v1/../../x".to_string(),
        "../x".to_string(),
    ] {
        std::fs::write(home.join("active"), format!("{pointer}\n")).unwrap();
        assert!(
            versions.path(&pointer).join("config.json").is_file(),
            "fixture: {pointer} should reach a config.json"
        );
        assert_eq!(versions.active(), "default", "active = {pointer}");
    }
}

/// Also seen (b): a config.json with a negative `layer_norm_eps` is refused, naming the field.
#[test]
fn a_negative_layer_norm_eps_is_refused() {
    let t = tempdir();
    let dir = t.path().join("model");
    model_dir(&dir);
    let cfg = dir.join("config.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&cfg).unwrap()).unwrap();
    v["layer_norm_eps"] = serde_json::json!(-1);
    std::fs::write(&cfg, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    let o = fenci(
        &["segment", "--model", dir.to_str().unwrap()],
        "我爱北京\n".as_bytes(),
        t.path(),
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "stderr: {err}");
    assert!(err.contains("layer_norm_eps"), "stderr: {err}");
}

/// Also seen (c): `fenci models` does not list a leftover temporary directory of an
/// interrupted write.
#[test]
fn models_does_not_list_leftover_temp_directories() {
    let home = home_with_version();
    let tmp = home.path().join("models").join(".v2.dir.99999.tmp");
    model_dir(&tmp);
    let o = fenci_cmd(home.path(), &["models"]).output().unwrap();
    let out = stdout(&o);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(out.contains("v1"), "the real version is listed: {out}");
    assert!(
        !out.contains(".v2.dir"),
        "a temp directory is listed: {out}"
    );
    assert!(
        !Versions::new(home.path())
            .dirs()
            .iter()
            .any(|(n, _)| n.starts_with('.')),
        "Versions::dirs lists a temp directory"
    );
}

/// Also seen (d): a correction longer than 2,000 characters is refused, naming the limit.
#[test]
fn correct_refuses_an_overlong_correction() {
    let home = tempdir();
    let long = format!("{} {}", "我".repeat(1000), "你".repeat(1001));
    let o = fenci(&["correct", &long], b"", home.path());
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "stderr: {err}");
    assert!(
        err.contains("2000") || err.contains("2,000") || err.contains("2 000"),
        "stderr should name the limit: {err}"
    );
    no_panic(&err);
    assert!(CorrectionStore::new(home.path())
        .load()
        .unwrap()
        .records
        .is_empty());
}

/// `train --out`, `train-lm --out` and `eval --output` never destroy what is not theirs: a
/// directory holding other files, a plain file, the gold file being scored. Each is refused
/// before any work, and flags out of range are refused by the parser (no panic, no model).
#[test]
fn training_and_eval_outputs_never_replace_user_files() {
    let home = tempdir();
    let dir = tempdir();
    let p = |n: &str| dir.path().join(n);
    let s = |q: &Path| q.to_str().unwrap().to_string();
    std::fs::create_dir(p("proj")).unwrap();
    std::fs::write(p("proj/README"), "keep").unwrap();
    std::fs::write(p("proj/tr.txt"), "我 爱 北京\n你 好\n").unwrap();
    let tr = s(&p("proj/tr.txt"));
    let small = [
        "--layers", "1", "--hidden", "16", "--heads", "2", "--epochs", "1",
    ];
    let train = |out: &Path, extra: &[&str]| {
        let mut args = vec!["train", "--data", &tr, "--out"];
        let out = s(out);
        args.push(&out);
        args.extend_from_slice(&small);
        args.extend_from_slice(extra);
        fenci(&args, b"", home.path())
    };
    let o = train(&p("proj"), &[]);
    assert!(!o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("not a model's (README, tr.txt)"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read_to_string(p("proj/README")).unwrap(), "keep");
    std::fs::write(p("afile"), "mine").unwrap();
    let o = train(&p("afile"), &[]);
    assert!(stderr(&o).contains("is a file"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(p("afile")).unwrap(), "mine");
    for bad in [
        ["--unk-prob", "2"],
        ["--cut-prob", "-1"],
        ["--dropout", "1.5"],
        ["--lr", "NaN"],
        ["--epochs", "0"],
        ["--anchor-decay", "NaN"],
        ["--batch-tokens", "0"],
    ] {
        let o = train(&p("new"), &bad);
        assert_eq!(o.status.code(), Some(2), "{bad:?}: {}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
        assert!(!p("new").exists(), "{bad:?}");
    }
    std::fs::create_dir_all(home.path().join("models/v1")).unwrap();
    let o = train(&home.path().join("models/v1"), &[]);
    assert!(stderr(&o).contains("data directory"), "{}", stderr(&o));
    // A directory of the user's that holds only a README (a name a model may have) is no model.
    std::fs::create_dir(p("notes")).unwrap();
    std::fs::write(p("notes/README.md"), "mine").unwrap();
    let o = train(&p("notes"), &[]);
    assert!(stderr(&o).contains("no model"), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(p("notes/README.md")).unwrap(),
        "mine"
    );
    let o = train(&p("new"), &["--freeze", "5"]);
    assert!(stderr(&o).contains("--freeze 5"), "{}", stderr(&o));
    let o = fenci(&["train", "--out", &s(&p("zz"))], b"", home.path());
    assert!(!o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("corrections"), "{}", stderr(&o));

    std::fs::create_dir(p("lm")).unwrap();
    std::fs::write(p("lm/notes.txt"), "mine").unwrap();
    let o = fenci(
        &["train-lm", "--gold", &tr, "--out", &s(&p("lm"))],
        b"",
        home.path(),
    );
    assert!(
        stderr(&o).contains("not a model's (notes.txt)"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read_to_string(p("lm/notes.txt")).unwrap(), "mine");

    let o = fenci(&["eval", "--gold", &tr, "--output", &tr], b"", home.path());
    assert!(!o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("is the input file"), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(p("proj/tr.txt")).unwrap(),
        "我 爱 北京\n你 好\n"
    );
}

/// Also seen (e): `fenci correct` and `fenci corrections` warn about a damaged line in
/// corrections.jsonl (and the new correction is still saved).
#[test]
fn correct_and_corrections_warn_about_a_damaged_line() {
    let home = tempdir();
    let store = CorrectionStore::new(home.path());
    store
        .append(words("我 爱 北京"), vec![], "default")
        .unwrap();
    let mut bytes = std::fs::read(store.path()).unwrap();
    bytes.extend_from_slice(b"this is not json\n");
    std::fs::write(store.path(), &bytes).unwrap();
    store
        .append(words("天安门 广场"), vec![], "default")
        .unwrap();
    let o = fenci(&["correct", "学习 中文"], b"", home.path());
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "stderr: {err}");
    assert!(
        err.contains("warning") && (err.contains("line 2") || err.contains("corrections.jsonl")),
        "correct should warn about the damaged line: {err}"
    );
    let o = fenci(&["corrections"], b"", home.path());
    let err = stderr(&o);
    assert!(o.status.success(), "stderr: {err}");
    assert!(
        err.contains("warning") && err.contains("line 2"),
        "corrections should warn about line 2: {err}"
    );
    assert!(stdout(&o).contains("学习 中文"), "{}", stdout(&o));
}

/// Review findings on the fixes themselves.
mod review {
    use super::*;

    /// `--invalid skip` keeps one output line per input line when the bad line is the last one
    /// and has no newline.
    #[test]
    fn skip_keeps_a_bad_last_line_without_newline() {
        let home = tempdir();
        let o = fenci(
            &["segment", "--model", "default", "--invalid", "skip"],
            b"\xe6\x88\x91\n\xff",
            home.path(),
        );
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert_eq!(stdout(&o), "我\n\n");
    }

    /// A dict.txt that is not UTF-8 is not rewritten (its bytes would be lost); CRLF lines keep
    /// their CR.
    #[test]
    fn dict_edits_never_damage_the_file() {
        let home = tempdir();
        let path = home.path().join("dict.txt");
        let gbk = b"# \xce\xd2\xb5\xc4\xb4\xca\n\xb4\xca\xd3\xef\n".to_vec();
        std::fs::write(&path, &gbk).unwrap();
        let o = fenci(&["dict", "add", "新词"], b"", home.path());
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains("UTF-8"), "{}", stderr(&o));
        assert_eq!(std::fs::read(&path).unwrap(), gbk);

        std::fs::write(&path, "# mine\r\n词语\r\n").unwrap();
        let o = fenci(&["dict", "add", "新词"], b"", home.path());
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "# mine\r\n词语\r\n新词\n"
        );
        assert_eq!(super::dict_list(home.path()), ["词语", "新词"]);
    }

    /// A settings.toml that cannot be parsed at all is left alone by loading (a command that
    /// only reads settings moves nothing) and kept aside by the next save of the defaults; a
    /// second bad file does not overwrite the first one kept.
    #[test]
    fn unparsable_settings_are_kept_aside() {
        let home = tempdir();
        let text = "seed = 7\nthis is not toml\n";
        let path = home.path().join("settings.toml");
        std::fs::write(&path, text).unwrap();
        let (s, msg) = Settings::load(home.path());
        assert_eq!(s, Settings::default());
        assert!(msg.unwrap().contains("using defaults"));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
        let o = fenci(&["examples", "你好", "-n", "1"], b"", home.path());
        assert!(stderr(&o).contains("using defaults"), "{}", stderr(&o));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);

        s.save(home.path()).unwrap();
        let bad = home.path().join("settings.toml.bad");
        assert_eq!(std::fs::read_to_string(&bad).unwrap(), text);
        assert_eq!(Settings::load(home.path()), (Settings::default(), None));
        std::fs::write(&path, "second = [").unwrap();
        s.save(home.path()).unwrap();
        assert_eq!(std::fs::read_to_string(&bad).unwrap(), text);
        assert_eq!(
            std::fs::read_to_string(home.path().join("settings.toml.bad.1")).unwrap(),
            "second = ["
        );
    }

    /// An export made before fenci-export.json existed (exactly a model's files) can be
    /// replaced; `export .` writes into the current directory; a relative path into the data
    /// directory is refused even when it does not exist yet.
    #[test]
    fn export_accepts_older_exports_and_resolves_paths() {
        let home = tempdir();
        let out = tempdir();
        let old = out.path().join("old");
        // What fenci wrote then: a model without the POS head (and its pos_lexicon.txt).
        ModelFiles::embedded()
            .unwrap()
            .without_pos()
            .save_dir(&old, false)
            .unwrap();
        std::fs::write(old.join("README.md"), "card").unwrap();
        let o = fenci(
            &["export", old.to_str().unwrap(), "--model", "default"],
            b"",
            home.path(),
        );
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(old.join("fenci-export.json").is_file());

        let here = out.path().join("here");
        std::fs::create_dir(&here).unwrap();
        let o = Command::new(env!("CARGO_BIN_EXE_fenci"))
            .args(["export", ".", "--model", "default"])
            .current_dir(&here)
            .env("FENCI_HOME", home.path())
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(here.join("config.json").is_file());

        std::fs::create_dir_all(home.path().join("models")).unwrap();
        let o = Command::new(env!("CARGO_BIN_EXE_fenci"))
            .args(["export", "new/m", "--model", "default"])
            .current_dir(home.path())
            .env("FENCI_HOME", home.path())
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains("data directory"), "{}", stderr(&o));
        assert!(!home.path().join("new").exists());
    }
}

/// From a second pass over the user-data commands (stop 27): a correction id a version was
/// trained on is never handed out again (it would show as trained), a byte-order mark at the
/// start of dict.txt or corrections.jsonl does not swallow the first entry, a correction with
/// control characters is refused, and `fenci train` on corrections refuses flags it would
/// ignore.
#[test]
fn correction_ids_boms_and_flags_from_the_second_pass() {
    let home = tempdir();
    let v1 = home.path().join("models/v1");
    std::fs::create_dir_all(&v1).unwrap();
    std::fs::write(v1.join("config.json"), "{}").unwrap();
    std::fs::write(
        v1.join("fenci.json"),
        r#"{"name":"v1","parent":"default","corrections":[1,2],"created":0,"summary":""}"#,
    )
    .unwrap();
    let o = fenci(&["correct", "下雨天 留 客"], b"", home.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("correction #3 saved"), "{}", stdout(&o));
    let o = fenci(&["corrections"], b"", home.path());
    assert!(!stdout(&o).contains("trained"), "{}", stdout(&o));

    std::fs::write(home.path().join("dict.txt"), "\u{feff}机性价\r\n").unwrap();
    let o = fenci(&["segment"], "我爱机性价很高\n".as_bytes(), home.path());
    assert!(stdout(&o).contains("机性价"), "{}", stdout(&o));
    assert!(!stdout(&o).contains("机性 价"), "{}", stdout(&o));
    let o = fenci(&["dict", "rm", "机性价"], b"", home.path());
    assert!(o.status.success(), "{}", stderr(&o));
    // A dict.txt that is not UTF-8 (GBK) is said, not silently half-used.
    std::fs::write(home.path().join("dict.txt"), b"\xbb\xfa\xd0\xd4\xbc\xdb\n").unwrap();
    let o = fenci(&["segment"], "我爱北京\n".as_bytes(), home.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("line 1 is not UTF-8"), "{}", stderr(&o));
    std::fs::remove_file(home.path().join("dict.txt")).unwrap();

    let store = CorrectionStore::new(home.path());
    let mut bytes = b"\xef\xbb\xbf".to_vec();
    bytes.extend_from_slice(&std::fs::read(store.path()).unwrap());
    std::fs::write(store.path(), bytes).unwrap();
    let loaded = store.load().unwrap();
    assert_eq!(loaded.records.len(), 1);
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);

    let o = fenci(&["correct", "我\u{1b}[31m 爱"], b"", home.path());
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("control or invisible"),
        "{}",
        stderr(&o)
    );
    assert_eq!(store.load().unwrap().records.len(), 1);
    let o = fenci(
        &["train", "--epochs", "3", "--dev", "x.txt"],
        b"",
        home.path(),
    );
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("--dev is for training from --data"),
        "{}",
        stderr(&o)
    );

    // --model takes a version by name; `models` lists v2 before v10; undo waits for training.
    let o = fenci(
        &["segment", "--model", "v1"],
        "我\n".as_bytes(),
        home.path(),
    );
    assert!(
        stderr(&o).contains("cannot load version v1"),
        "{}",
        stderr(&o)
    );
    for v in ["v2", "v10"] {
        let d = home.path().join("models").join(v);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("config.json"), "{}").unwrap();
    }
    let o = fenci(&["models"], b"", home.path());
    let out = stdout(&o);
    let (a, b) = (out.find("v2").unwrap(), out.find("v10").unwrap());
    assert!(a < b, "{out}");
    let _lock = fenci::fsio::try_lock(&home.path().join("train.lock"))
        .unwrap()
        .unwrap();
    let o = fenci(&["undo"], b"", home.path());
    assert!(
        stderr(&o).contains("training is already running"),
        "{}",
        stderr(&o)
    );
}
