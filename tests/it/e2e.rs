//! End to end: the real binary in a real terminal (tmux): type a sentence, see its words with
//! pinyin and gloss, ask for /help, /quit exits 0.
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn tmux(args: &[&str]) -> String {
    let o = Command::new("tmux").args(args).output().expect("tmux");
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn wait_for(session: &str, needle: &str, secs: u64) -> String {
    let start = Instant::now();
    loop {
        let screen = tmux(&["capture-pane", "-p", "-t", session]);
        if screen.contains(needle) {
            return screen;
        }
        if start.elapsed() > Duration::from_secs(secs) {
            panic!("`{needle}` did not appear within {secs} s; screen:\n{screen}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn tui_segments_explains_helps_and_quits() {
    if Command::new("tmux").arg("-V").output().is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "tmux is required in CI (.ci/run installs it)"
        );
        eprintln!("skipping: tmux is not installed (apt-get install tmux)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let status = dir.path().join("status");
    let session = format!("fenci-e2e-{}", std::process::id());
    let cmd = format!(
        "FENCI_HOME='{}' '{}'; echo \"exit=$?\" > '{}'",
        dir.path().display(),
        env!("CARGO_BIN_EXE_fenci"),
        status.display()
    );
    tmux(&[
        "-u",
        "new-session",
        "-d",
        "-s",
        &session,
        "-x",
        "100",
        "-y",
        "30",
        &cmd,
    ]);
    let _cleanup = Kill(session.clone());
    wait_for(&session, "type a sentence", 20);
    tmux(&["send-keys", "-t", &session, "-l", "我爱北京天安门"]);
    tmux(&["send-keys", "-t", &session, "Enter"]);
    let screen = wait_for(&session, "Běijīng", 20);
    assert!(
        screen.contains("北京") && screen.contains("天安门"),
        "{screen}"
    );
    assert!(screen.contains("Beijing"), "gloss missing:\n{screen}");
    assert!(
        screen.contains('%'),
        "boundary confidence missing:\n{screen}"
    );
    tmux(&["send-keys", "-t", &session, "-l", "/help"]);
    tmux(&["send-keys", "-t", &session, "Enter"]);
    wait_for(&session, "leave fenci", 10);
    // Example sentences from the built-in LM, streamed on their own thread, then explained.
    tmux(&["send-keys", "-t", &session, "-l", "/clear"]);
    tmux(&["send-keys", "-t", &session, "Enter"]);
    tmux(&["send-keys", "-t", &session, "-l", "/examples 学习 2"]);
    tmux(&["send-keys", "-t", &session, "Enter"]);
    let screen = wait_for(&session, "xuéxí", 30);
    assert!(screen.contains("学习"), "{screen}");
    // The LM that wrote them is reported by /lm (the summary line has scrolled away).
    tmux(&["send-keys", "-t", &session, "-l", "/lm"]);
    tmux(&["send-keys", "-t", &session, "Enter"]);
    wait_for(&session, "language model: default · qwen2", 20);
    tmux(&["send-keys", "-t", &session, "-l", "/quit"]);
    tmux(&["send-keys", "-t", &session, "Enter"]);
    let start = Instant::now();
    while !status_written(&status) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "fenci did not exit after /quit"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(std::fs::read_to_string(&status).unwrap().trim(), "exit=0");
    // history persisted in the data directory
    let history = std::fs::read_to_string(dir.path().join("history.txt")).unwrap();
    assert!(history.contains("我爱北京天安门") && history.contains("/help"));
}

fn status_written(p: &Path) -> bool {
    std::fs::read_to_string(p).is_ok_and(|s| s.contains("exit="))
}

struct Kill(String);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.0])
            .output();
    }
}
