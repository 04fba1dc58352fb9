//! Arbitrary text to `model::rundoc::RunDoc::from_json`, the reader of every run.json
//! `report` and `compare` open (version 2, and version 1 upgraded on reading). It must
//! never panic; a refusal is one line; a document it accepts must write back with
//! `to_json` and read again to an equal value (and the same text), so a report never
//! sees something different from what was stored.

#![no_main]

use libfuzzer_sys::fuzz_target;
use model::rundoc::RunDoc;
use nestbench_fuzz::assert_one_line;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match RunDoc::from_json(&text, "fuzz.json") {
        Err(e) => assert_one_line("run.json error", &e.to_string()),
        Ok(doc) => {
            let json = doc.to_json();
            let again = RunDoc::from_json(&json, "again.json")
                .unwrap_or_else(|e| panic!("to_json wrote what from_json refuses: {e}\n{json}"));
            assert_eq!(again, doc, "parse → to_json → parse changed the document");
            assert_eq!(again.to_json(), json, "to_json is not stable");
        }
    }
});
