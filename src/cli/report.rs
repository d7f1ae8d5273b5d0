//! How the command line shows long runs: a progress bar on a terminal, a line per epoch
//! elsewhere, the summary at the end, and Ctrl-C that stops at the next step.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use std::io;

use anyhow::Result;

use crate::train;

use crate::train::Progress;

/// A flag that the first Ctrl-C sets (printing `message`); a second Ctrl-C exits with 130.
/// A training run's progress on stderr: a bar on a terminal, else a line every 100 steps; the
/// dev score after each epoch either way.
pub(super) struct TrainReport {
    bar: indicatif::ProgressBar,
    interactive: bool,
    started: Instant,
    unit: &'static str,
}

impl TrainReport {
    pub(super) fn new(unit: &'static str) -> Self {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{elapsed_precise} [{bar:30}] {pos}/{len} step  ETA {eta}  {msg}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        Self {
            bar,
            interactive: std::io::IsTerminal::is_terminal(&io::stderr()),
            started: Instant::now(),
            unit,
        }
    }

    pub(super) fn line(&self, text: String) {
        let text = format!("[{:>6.0}s] {text}", self.started.elapsed().as_secs_f64());
        if self.interactive {
            self.bar.println(text);
        } else {
            eprintln!("{text}");
        }
    }

    pub(super) fn show(&self, p: Progress) {
        let best = |b: bool| if b { " (best, saved)" } else { "" };
        match p {
            Progress::Step {
                epoch,
                step,
                total,
                loss,
                units_per_s,
            } => {
                let msg = format!(
                    "epoch {} loss {loss:.4} {units_per_s:.0} {}/s",
                    epoch + 1,
                    self.unit
                );
                self.bar.set_length(total as u64);
                self.bar.set_position(step as u64);
                if !self.interactive && step % 100 == 0 {
                    self.line(format!("step {step}/{total} {msg}"));
                }
                self.bar.set_message(msg);
            }
            Progress::Eval { epoch, f1, best: b } => self.line(format!(
                "epoch {}: dev F1 {:.2}{}",
                epoch + 1,
                f1 * 100.0,
                best(b)
            )),
            Progress::PosEval {
                epoch,
                accuracy,
                joint_f1,
                best: b,
            } => self.line(format!(
                "epoch {}: dev POS accuracy {:.2} (joint seg+POS F1 {:.2}){}",
                epoch + 1,
                accuracy * 100.0,
                joint_f1 * 100.0,
                best(b)
            )),
            Progress::Perplexity {
                epoch,
                ppl,
                best: b,
            } => self.line(format!(
                "epoch {}: dev perplexity {ppl:.2}{}",
                epoch + 1,
                best(b)
            )),
            Progress::Checkpoint { .. } => {}
        }
    }

    pub(super) fn finish(&self) {
        self.bar.finish_and_clear();
    }

    /// Seconds since the run started.
    pub(super) fn secs(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// Says how to continue a cancelled run; returns the exit code (130, as for Ctrl-C).
    pub(super) fn stopped(&self, steps: usize) -> i32 {
        eprintln!(
            "stopped at step {steps}; checkpoint saved — rerun the same command with --resume to continue"
        );
        130
    }
}

/// Runs a training job with progress on stderr; the first Ctrl-C stops it after the current step
/// (it writes a checkpoint). Returns the job's result and its report (time taken, `stopped`).
pub(super) fn run_reported<T>(
    unit: &'static str,
    job: impl FnOnce(&AtomicBool, &mut dyn FnMut(train::Progress)) -> train::Result<T>,
) -> Result<(T, TrainReport)> {
    let cancel =
        cancel_on_ctrl_c("stopping after this step (Ctrl-C again to abort without a checkpoint)…");
    let report = TrainReport::new(unit);
    let out = job(&cancel, &mut |p| report.show(p))?;
    report.finish();
    Ok((out, report))
}

pub(super) fn cancel_on_ctrl_c(message: &'static str) -> Arc<AtomicBool> {
    let cancel = Arc::new(AtomicBool::new(false));
    let c = cancel.clone();
    let _ = ctrlc::set_handler(move || {
        if c.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!("\n{message}");
    });
    cancel
}
