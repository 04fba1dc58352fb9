//! A headless Chromium driven over the DevTools protocol on a pipe
//! (`--remote-debugging-pipe`: commands on the child's fd 3, replies on its fd 4, each
//! a JSON message ended by a NUL byte), so no port is opened, not even on loopback,
//! and the flags keep it from reaching any network (`--disable-background-networking`,
//! no component updates, no sync). It runs from a fresh user-data directory in its own
//! process group; [`Browser`]'s `Drop` kills that group, sweeps any process that still
//! names the directory, reaps the child and removes the directory — on success, on
//! failure and on panic alike.

use serde_json::{json, Value};
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// How long one command may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// The Chromium binary: `NESTBENCH_CHROMIUM` when set (another Chromium, or Chrome),
/// else Debian's real one behind the `chromium` wrapper script (which adds the flags and
/// extensions of /etc/chromium.d), else `chromium` on PATH.
pub fn binary() -> PathBuf {
    if let Some(p) = std::env::var_os("NESTBENCH_CHROMIUM") {
        return PathBuf::from(p);
    }
    let real = Path::new("/usr/lib/chromium/chromium");
    if real.is_file() {
        real.to_path_buf()
    } else {
        PathBuf::from("chromium")
    }
}

/// A running headless Chromium.
pub struct Browser {
    child: Child,
    to: std::fs::File,
    from: Receiver<Value>,
    /// Events received while waiting for replies, oldest first.
    events: VecDeque<Value>,
    next_id: u64,
    profile: Option<tempfile::TempDir>,
}

/// A pipe whose ends are close-on-exec and numbered 10 or above, so that putting them
/// on the child's descriptors 3 and 4 can never overwrite one with the other.
fn pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two new descriptors into `fds`; both are owned from here on.
    let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    assert_eq!(rc, 0, "pipe2: {}", std::io::Error::last_os_error());
    let high = |fd: i32| {
        // SAFETY: duplicates a descriptor this function owns, then closes the original.
        unsafe {
            let h = libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 10);
            assert!(h >= 10, "fcntl: {}", std::io::Error::last_os_error());
            libc::close(fd);
            OwnedFd::from_raw_fd(h)
        }
    };
    (high(fds[0]), high(fds[1]))
}

impl Browser {
    /// Start Chromium headless on a blank page, `log` collecting its stderr.
    pub fn start(log: &Path) -> Browser {
        let profile = tempfile::Builder::new()
            .prefix("nb-chromium-")
            .tempdir()
            .expect("temporary profile");
        let (cmd_r, cmd_w) = pipe();
        let (resp_r, resp_w) = pipe();
        let (cr, rw) = (cmd_r.as_raw_fd(), resp_w.as_raw_fd());
        let mut cmd = Command::new(binary());
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-breakpad",
            "--disable-crash-reporter",
            "--remote-debugging-pipe",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("about:blank")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).expect("browser log"))
        .process_group(0);
        // SAFETY: only async-signal-safe calls between fork and exec: dup2 puts the
        // pipe ends on the descriptors Chromium expects (and clears their CLOEXEC).
        unsafe {
            cmd.pre_exec(move || {
                if libc::dup2(cr, 3) < 0 || libc::dup2(rw, 4) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().expect("start chromium");
        drop((cmd_r, resp_w));
        let (tx, rx) = mpsc::channel();
        let reader = std::fs::File::from(resp_r);
        std::thread::spawn(move || {
            let mut r = BufReader::new(reader);
            loop {
                let mut buf = Vec::new();
                match r.read_until(0, &mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {
                        if buf.last() == Some(&0) {
                            buf.pop();
                        }
                        if let Ok(v) = serde_json::from_slice::<Value>(&buf) {
                            if tx.send(v).is_err() {
                                return;
                            }
                        }
                    }
                }
            }
        });
        Browser {
            child,
            to: std::fs::File::from(cmd_w),
            from: rx,
            events: VecDeque::new(),
            next_id: 1,
            profile: Some(profile),
        }
    }

    /// Send `method` (to `session`, or the browser) and wait for its result.
    pub fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        let mut bytes = serde_json::to_vec(&msg).unwrap();
        bytes.push(0);
        self.to.write_all(&bytes).expect("write to chromium");
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let v = self.recv(deadline, method);
            if v["id"] == json!(id) {
                if let Some(e) = v.get("error") {
                    panic!("{method}: {e}");
                }
                return v["result"].clone();
            }
            self.events.push_back(v);
        }
    }

    fn recv(&mut self, deadline: Instant, what: &str) -> Value {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.from.recv_timeout(left) {
            Ok(v) => v,
            Err(RecvTimeoutError::Timeout) => {
                panic!("chromium did not answer {what} within {TIMEOUT:?}")
            }
            Err(RecvTimeoutError::Disconnected) => {
                panic!("chromium went away while waiting for {what}")
            }
        }
    }

    /// Wait for the event `method` of `session` (one already received counts).
    pub fn wait_event(&mut self, session: &str, method: &str) -> Value {
        let matches = |v: &Value| v["method"] == json!(method) && v["sessionId"] == json!(session);
        if let Some(i) = self.events.iter().position(matches) {
            return self.events.remove(i).unwrap();
        }
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let v = self.recv(deadline, method);
            if matches(&v) {
                return v;
            }
            self.events.push_back(v);
        }
    }

    /// A new tab showing `url` at `width`×`height` CSS pixels, loaded: its session id.
    pub fn open(&mut self, url: &str, width: u32, height: u32) -> String {
        let target = self.call(None, "Target.createTarget", json!({"url": "about:blank"}));
        let attached = self.call(
            None,
            "Target.attachToTarget",
            json!({"targetId": target["targetId"], "flatten": true}),
        );
        let s = attached["sessionId"]
            .as_str()
            .expect("session id")
            .to_string();
        self.call(
            Some(&s),
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}),
        );
        self.call(Some(&s), "Page.enable", json!({}));
        self.call(Some(&s), "Page.navigate", json!({"url": url}));
        self.wait_event(&s, "Page.loadEventFired");
        s
    }

    /// The value of the JavaScript expression `js` in `session` (JSON-serialisable).
    pub fn eval(&mut self, session: &str, js: &str) -> Value {
        let r = self.call(
            Some(session),
            "Runtime.evaluate",
            json!({"expression": js, "returnByValue": true, "awaitPromise": true}),
        );
        if let Some(e) = r.get("exceptionDetails") {
            panic!("script failed: {e}\n{js}");
        }
        r["result"]["value"].clone()
    }

    /// A real click (press and release of the left button) at viewport point `(x, y)`.
    pub fn click(&mut self, session: &str, x: f64, y: f64) {
        for kind in ["mousePressed", "mouseReleased"] {
            self.call(
                Some(session),
                "Input.dispatchMouseEvent",
                json!({"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1}),
            );
        }
    }

    /// Move the pointer to viewport point `(x, y)`.
    pub fn hover(&mut self, session: &str, x: f64, y: f64) {
        self.call(
            Some(session),
            "Input.dispatchMouseEvent",
            json!({"type": "mouseMoved", "x": x, "y": y}),
        );
    }

    /// A PNG of the whole page (`full`) or of the viewport.
    pub fn screenshot(&mut self, session: &str, full: bool) -> Vec<u8> {
        use base64::Engine;
        let r = self.call(
            Some(session),
            "Page.captureScreenshot",
            json!({"format": "png", "captureBeyondViewport": full}),
        );
        let data = r["data"].as_str().expect("screenshot data");
        base64::engine::general_purpose::STANDARD
            .decode(data)
            .expect("base64 PNG")
    }

    /// The profile directory (gone once the browser is dropped).
    pub fn profile(&self) -> PathBuf {
        self.profile
            .as_ref()
            .map(|p| p.path().to_path_buf())
            .unwrap_or_default()
    }
}

/// Processes whose command line names `dir` (Chromium's helpers carry the profile).
pub fn processes_naming(dir: &Path) -> Vec<i32> {
    let needle = dir.to_string_lossy().into_owned();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return vec![];
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| String::from_utf8_lossy(&c).contains(&needle))
                .unwrap_or(false)
        })
        .collect()
}

impl Drop for Browser {
    fn drop(&mut self) {
        let pgid = self.child.id() as i32;
        // SAFETY: signals to the process group this browser leads, then to stragglers
        // that left it but still name its profile; neither touches any other process.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
        let _ = self.child.wait();
        let profile = self.profile();
        for _ in 0..50 {
            let left = processes_naming(&profile);
            if left.is_empty() {
                break;
            }
            for pid in left {
                // SAFETY: as above.
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        if let Some(p) = self.profile.take() {
            let _ = p.close();
        }
    }
}
