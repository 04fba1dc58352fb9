//! The example that ends every subcommand's `--help` (clap's `after_help`), and the
//! EXAMPLES of the man page. Each is a few shell lines: `# what it does`, then the
//! command. A test parses every `nestbench …` line with the real parser, so an example
//! cannot name a flag that does not exist.

/// `nestbench --help`.
pub const TOP: &str = "\
Examples:
  # check the host, then measure a 2-level stack with the smoke suite
  nestbench doctor --levels 2
  nestbench run --levels 2 --suite smoke
  # the CI gate: five runs per side
  nestbench compare history:tag=side=A,last=5 history:tag=side=B,last=5";

/// `nestbench run --help`.
pub const RUN: &str = "\
Examples:
  # the host alone (about 30 s)
  nestbench run --levels 0 --suite smoke
  # what a 4-level run would start, without starting it
  nestbench run --levels 4 --dry-run
  # two levels, only memory workloads, labelled for the history
  nestbench run --levels 2 --only mem.stream,mem.latency --tag qemu=v8.2.0
  # what a 2-level nested Hyper-V run would make on a host (docs/hyperv.md)
  nestbench run --backend hyperv --levels 2 --hyperv-host Administrator@hv1.lab --base-vhdx D:\\vm\\ws2022.vhdx --dry-run";

/// `nestbench report --help`.
pub const REPORT: &str = "\
Examples:
  # rewrite report.md, report.html, results.csv and charts/ from run.json
  nestbench report nestbench-results/20260101-120000-ab12
  # two QEMU builds side by side, five runs each, per level
  nestbench report runs/qemu-7.2/ runs/qemu-8.2/ --out qemu-report
  # three kernels from the history, named as you like
  nestbench report history:tag=kernel=6.1 history:tag=kernel=6.6 history:tag=kernel=6.12 --label 6.1 --label 6.6 --label 6.12 --out kernels";

/// `nestbench compare --help`.
pub const COMPARE: &str = "\
Examples:
  # two directories of runs, the Markdown summary for the CI job page
  nestbench compare baseline/ current/ --summary summary.md
  # JUnit XML for GitLab or Jenkins (exit code as with the table)
  nestbench compare baseline/ current/ --format junit > compare.xml
  # from the history, as JSON
  nestbench compare history:tag=qemu=v8.1,last=5 history:tag=qemu=v8.2,last=5 --format json";

/// `nestbench calibrate --help`.
pub const CALIBRATE: &str = "\
Examples:
  # five back-to-back L0 runs, then store this host's noise profile
  nestbench calibrate --runs 5 --levels 0 --suite smoke
  # from runs already in the history, as JSON
  nestbench calibrate --from history:levels=2,last=10 --json";

/// `nestbench trend --help`.
pub const TREND: &str = "\
Examples:
  # one metric over the last 30 runs of a configuration, with charts
  nestbench trend history:levels=2,last=30 --metric mem.stream/triad --out trend/";

/// `nestbench history --help`.
pub const HISTORY: &str = "\
Examples:
  nestbench history import nestbench-results/
  nestbench history list last=10 --json
  nestbench history prune --keep-last 200";

/// `nestbench history import --help`.
pub const HISTORY_IMPORT: &str = "\
Examples:
  # every run directory under nestbench-results/
  nestbench history import nestbench-results/";

/// `nestbench history list --help`.
pub const HISTORY_LIST: &str = "\
Examples:
  # the ten most recent runs tagged qemu=v8.2.0
  nestbench history list tag=qemu=v8.2.0,last=10";

/// `nestbench history prune --help`.
pub const HISTORY_PRUNE: &str = "\
Examples:
  # keep the 200 most recent runs
  nestbench history prune --keep-last 200";

/// `nestbench doctor --help`.
pub const DOCTOR: &str = "\
Examples:
  # can this host run 4 levels?
  nestbench doctor --levels 4
  # boot the levels one by one and check inside each, as JSON
  nestbench doctor --levels 2 --boot --json";

/// `nestbench image --help`.
pub const IMAGE: &str = "\
Examples:
  nestbench image build";

/// `nestbench image build --help`.
pub const IMAGE_BUILD: &str = "\
Examples:
  # build the default guest image ahead of the first run
  nestbench image build";

/// `nestbench down --help`.
pub const DOWN: &str = "\
Examples:
  # remove the stack a `run --keep` left up
  nestbench down nestbench-results/20260101-120000-ab12";

/// `nestbench completions --help`.
pub const COMPLETIONS: &str = "\
Examples:
  nestbench completions bash > /etc/bash_completion.d/nestbench
  nestbench completions zsh > ~/.zfunc/_nestbench
  nestbench completions fish > ~/.config/fish/completions/nestbench.fish";

/// `nestbench man --help`.
pub const MAN: &str = "\
Examples:
  nestbench man > /usr/local/share/man/man1/nestbench.1
  nestbench man | man -l -";

/// The `nestbench …` command lines of an example text, as argv (words split on
/// spaces, double quotes removed, a redirection or pipe and what follows dropped).
pub fn command_lines(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(str::trim)
        .filter(|l| l.starts_with("nestbench "))
        .map(|l| {
            l.split_whitespace()
                .take_while(|w| !matches!(*w, ">" | "|" | "2>"))
                .map(|w| w.replace('"', ""))
                .collect()
        })
        .collect()
}
