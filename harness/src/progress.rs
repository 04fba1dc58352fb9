//! Progress on stderr: one line per level with its stage and elapsed time. On a
//! terminal the line updates in place (indicatif); elsewhere (CI logs) each stage
//! change is printed once, so logs stay readable.
//!
//! `--quiet` (run, compare, report, trend, calibrate) silences all of it — progress,
//! notes and warnings — process-wide through [`set_quiet`]: stderr then carries only
//! the error line of [`crate::exit::finish`]. One switch rather than a flag threaded
//! through every layer, since stderr is one per process anyway.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

static QUIET: AtomicBool = AtomicBool::new(false);

/// Silence (or not) every progress line, note and warning from now on (`--quiet`).
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether `--quiet` is in force.
pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// The progress line of one level.
pub struct LevelProgress {
    name: String,
    bar: Option<ProgressBar>,
    started: Instant,
    last: String,
}

impl LevelProgress {
    /// Start the line for `name` (e.g. `L2`).
    pub fn start(name: &str) -> Self {
        let bar = (!quiet() && std::io::stderr().is_terminal()).then(|| {
            let b = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            b.set_style(
                ProgressStyle::with_template(
                    "{spinner} {prefix:>3} [{elapsed_precise}] {wide_msg}",
                )
                .expect("static template"),
            );
            b.set_prefix(name.to_string());
            b.enable_steady_tick(Duration::from_millis(200));
            b
        });
        LevelProgress {
            name: name.to_string(),
            bar,
            started: Instant::now(),
            last: String::new(),
        }
    }

    /// The level is now doing `stage` (e.g. `upload`, `workload 3/13 mem.stream`).
    pub fn stage(&mut self, stage: &str) {
        if stage == self.last {
            return;
        }
        self.last = stage.to_string();
        match &self.bar {
            Some(b) => b.set_message(stage.to_string()),
            None if quiet() => {}
            None => eprintln!(
                "{:>3} [{:>6.1}s] {stage}",
                self.name,
                self.started.elapsed().as_secs_f64()
            ),
        }
    }

    /// Close the line with a final word.
    pub fn done(self, outcome: &str) {
        let secs = self.started.elapsed().as_secs_f64();
        match &self.bar {
            Some(b) => b.finish_with_message(format!("{outcome} ({secs:.1} s)")),
            None if quiet() => {}
            None => eprintln!("{:>3} [{secs:>6.1}s] {outcome}", self.name),
        }
    }
}

/// A one-off message that does not belong to a level (silent under `--quiet`).
pub fn note(msg: &str) {
    if !quiet() {
        eprintln!("{msg}");
    }
}

/// `nestbench: warning: MSG` on stderr (silent under `--quiet`).
pub fn warn(msg: &str) {
    note(&format!("nestbench: warning: {msg}"));
}
