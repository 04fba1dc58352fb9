//! What the fuzz targets share: the "one line" rule every parser's messages follow.
//! A message that breaks a line (or carries a terminal control character) from a file
//! or an agent's output would corrupt the progress display, the log and run.json's
//! `error` fields, so the targets assert it on every error they see.

/// Panics (so libFuzzer records the input) unless `msg` is one printable line.
pub fn assert_one_line(what: &str, msg: &str) {
    assert!(
        !msg.chars().any(char::is_control),
        "{what} is not one printable line: {msg:?}"
    );
}
