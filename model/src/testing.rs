//! Edits that turn a valid input into a broken one, for the property tests of the
//! parsers that read what others wrote: this crate's agent protocol and run.json, the
//! controller's inventory file and known_hosts. One definition, so "mutated valid
//! input" means the same in every crate, and the tests need no generator of their own
//! beyond picking numbers. Test support only: no parser calls it, and it does no I/O.

/// A few random edits of a valid input, for proptest: the one strategy every crate's
/// mutated-input property tests draw from.
#[cfg(any(test, feature = "proptest"))]
pub fn edits() -> impl proptest::strategy::Strategy<Value = Vec<Edit>> {
    use proptest::prelude::*;
    let edit = (
        any::<u8>(),
        any::<usize>(),
        any::<usize>(),
        prop::collection::vec(any::<u8>(), 0..6),
    )
        .prop_map(|(k, a, b, bytes)| Edit::from_parts(k, a, b, bytes));
    prop::collection::vec(edit, 1..5)
}

/// Fragments that mean something to one of the formats (JSON, TOML, known_hosts, the
/// agent's JSON lines), inserted whole so that mutations reach past the tokenizer.
pub const TOKENS: &[&str] = &[
    "\"",
    "'",
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "=",
    "\n",
    "\r",
    "\t",
    " ",
    "\\",
    "\\n",
    "\\u0000",
    "\\u001b",
    "\u{7f}",
    "\u{0}",
    "é",
    "null",
    "true",
    "-1",
    "0",
    "1e999",
    "18446744073709551616",
    "1.5",
    "\"\"",
    "[]",
    "{}",
    "#",
    "@revoked ",
    "|1|",
    "*",
    "!",
    "[[level]]\n",
    "'''",
    "\"type\":\"end\"",
    "\"samples\":[]",
    "\"schema_version\":1",
];

/// One edit of a text. Positions are taken modulo the text's length in bytes (or in
/// lines), so any numbers make an edit that applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// XOR the byte at `at` with `mask` (the text is read back as lossy UTF-8).
    Flip {
        /// Byte position.
        at: usize,
        /// Bits to flip.
        mask: u8,
    },
    /// Remove up to 16 bytes from `at`.
    Delete {
        /// Byte position.
        at: usize,
        /// How many bytes (modulo 17).
        len: usize,
    },
    /// Insert bytes at `at`.
    Insert {
        /// Byte position.
        at: usize,
        /// What to insert.
        bytes: Vec<u8>,
    },
    /// Insert one of [`TOKENS`] at `at`.
    Token {
        /// Byte position.
        at: usize,
        /// Index into [`TOKENS`] (modulo its length).
        which: usize,
    },
    /// Repeat up to 32 bytes from `at` right after themselves.
    Duplicate {
        /// Byte position.
        at: usize,
        /// How many bytes (modulo 33).
        len: usize,
    },
    /// Remove line `n`.
    DeleteLine {
        /// Line number (modulo the line count).
        n: usize,
    },
    /// Repeat line `n` (a field of a pretty-printed document or a TOML table).
    DuplicateLine {
        /// Line number (modulo the line count).
        n: usize,
    },
    /// Swap lines `a` and `b`.
    SwapLines {
        /// Line number (modulo the line count).
        a: usize,
        /// Line number (modulo the line count).
        b: usize,
    },
}

impl Edit {
    /// The edit `kind` (modulo 8) made of the numbers `a`, `b` and `bytes`: how a
    /// property test builds one from random values.
    pub fn from_parts(kind: u8, a: usize, b: usize, bytes: Vec<u8>) -> Edit {
        match kind % 8 {
            0 => Edit::Flip {
                at: a,
                mask: (b as u8).max(1),
            },
            1 => Edit::Delete { at: a, len: b },
            2 => Edit::Insert { at: a, bytes },
            3 => Edit::Token { at: a, which: b },
            4 => Edit::Duplicate { at: a, len: b },
            5 => Edit::DeleteLine { n: a },
            6 => Edit::DuplicateLine { n: a },
            _ => Edit::SwapLines { a, b },
        }
    }
}

/// `text` after `edits`, applied in order.
pub fn mutate(text: &str, edits: &[Edit]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for e in edits {
        apply(&mut bytes, e);
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn apply(v: &mut Vec<u8>, e: &Edit) {
    let at = |p: usize, v: &Vec<u8>| p % (v.len() + 1);
    match e {
        Edit::Flip { at: p, mask } => {
            if !v.is_empty() {
                let i = p % v.len();
                v[i] ^= mask;
            }
        }
        Edit::Delete { at: p, len } => {
            let i = at(*p, v);
            let end = (i + len % 17).min(v.len());
            v.drain(i..end);
        }
        Edit::Insert { at: p, bytes } => {
            let i = at(*p, v);
            v.splice(i..i, bytes.iter().copied());
        }
        Edit::Token { at: p, which } => {
            let i = at(*p, v);
            let t = TOKENS[which % TOKENS.len()].as_bytes();
            v.splice(i..i, t.iter().copied());
        }
        Edit::Duplicate { at: p, len } => {
            let i = at(*p, v);
            let end = (i + len % 33).min(v.len());
            let part = v[i..end].to_vec();
            v.splice(end..end, part);
        }
        Edit::DeleteLine { n } | Edit::DuplicateLine { n } | Edit::SwapLines { a: n, .. } => {
            let mut lines: Vec<Vec<u8>> = v.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
            let i = n % lines.len();
            match e {
                Edit::DeleteLine { .. } => {
                    lines.remove(i);
                }
                Edit::DuplicateLine { .. } => {
                    let l = lines[i].clone();
                    lines.insert(i, l);
                }
                Edit::SwapLines { b, .. } => {
                    let j = b % lines.len();
                    lines.swap(i, j);
                }
                _ => unreachable!(),
            }
            *v = lines.join(&b'\n');
        }
    }
}

/// Edit one node of a JSON document (a field, an element, the root): the node number
/// `pick` (modulo the node count, in document order) is removed from its object or
/// array (`op` 0), repeated in its array (1), or replaced by `with` (otherwise).
pub fn mutate_json(doc: &mut serde_json::Value, pick: usize, op: u8, with: serde_json::Value) {
    fn count(v: &serde_json::Value) -> usize {
        1 + match v {
            serde_json::Value::Array(a) => a.iter().map(count).sum(),
            serde_json::Value::Object(o) => o.values().map(count).sum(),
            _ => 0,
        }
    }
    fn edit(v: &mut serde_json::Value, mut n: usize, op: u8, with: serde_json::Value) {
        if n == 0 {
            *v = with;
            return;
        }
        n -= 1;
        match v {
            serde_json::Value::Array(a) => {
                for i in 0..a.len() {
                    let c = count(&a[i]);
                    if n == 0 && op == 0 {
                        a.remove(i);
                        return;
                    }
                    if n == 0 && op == 1 {
                        let e = a[i].clone();
                        a.insert(i, e);
                        return;
                    }
                    if n < c {
                        return edit(&mut a[i], n, op, with);
                    }
                    n -= c;
                }
            }
            serde_json::Value::Object(o) => {
                let keys: Vec<String> = o.keys().cloned().collect();
                for k in keys {
                    let c = count(&o[&k]);
                    if n == 0 && op == 0 {
                        o.remove(&k);
                        return;
                    }
                    if n < c {
                        return edit(o.get_mut(&k).unwrap(), n, op, with);
                    }
                    n -= c;
                }
            }
            _ => {}
        }
    }
    let n = pick % count(doc);
    edit(doc, n, op % 3, with);
}

/// Whether `msg` is one printable line (no line break, no control character): what
/// every parser's error message must be.
pub fn is_one_line(msg: &str) -> bool {
    !msg.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_apply_anywhere() {
        let t = "ab\ncd\nef";
        assert_eq!(mutate(t, &[Edit::DeleteLine { n: 5 }]), "ab\ncd");
        assert_eq!(mutate(t, &[Edit::DuplicateLine { n: 0 }]), "ab\nab\ncd\nef");
        assert_eq!(mutate(t, &[Edit::SwapLines { a: 0, b: 2 }]), "ef\ncd\nab");
        assert_eq!(mutate(t, &[Edit::Delete { at: 1, len: 2 }]), "acd\nef");
        assert_eq!(
            mutate(t, &[Edit::Duplicate { at: 6, len: 2 }]),
            "ab\ncd\nefef"
        );
        assert_eq!(mutate(t, &[Edit::Token { at: 8, which: 4 }]), "ab\ncd\nef[");
        assert_eq!(mutate("", &[Edit::Flip { at: 3, mask: 1 }]), "");
        assert_eq!(mutate("a", &[Edit::Flip { at: 3, mask: 3 }]), "b");
        assert!(!is_one_line("a\nb") && is_one_line("a b"));
        let mut v = serde_json::json!({"a": [1, 2], "b": {"c": true}});
        mutate_json(&mut v, 2, 0, serde_json::Value::Null);
        assert_eq!(v, serde_json::json!({"a": [2], "b": {"c": true}}));
        mutate_json(&mut v, 2, 1, serde_json::Value::Null);
        assert_eq!(v, serde_json::json!({"a": [2, 2], "b": {"c": true}}));
        mutate_json(&mut v, 5, 2, "x".into());
        assert_eq!(v, serde_json::json!({"a": [2, 2], "b": {"c": "x"}}));
        mutate_json(&mut v, 4, 0, serde_json::Value::Null);
        assert_eq!(v, serde_json::json!({"a": [2, 2]}));
    }
}
