//! The comparison as a short Markdown summary for a CI job page or pull request
//! (`nestbench compare --summary FILE`, e.g. `$GITHUB_STEP_SUMMARY`): verdict first,
//! then warnings, then the rows that changed, are missing or are inconclusive, each with
//! its detectable effect, then those that apply on one side only; unchanged rows and
//! rows that apply on neither side are counted, not listed.

use super::text::{counts, method, row_cells, HEADER};
use super::{Change, Comparison, Status};
use crate::export::document::Table;
use crate::export::markdown::table;

/// Rows of one status; a run of 3 or more rows with the same level and note (a level
/// that failed, typically) becomes one row naming how many metrics it covers.
fn collapse(rows: Vec<&Change>) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    let mut i = 0;
    while i < rows.len() {
        let same = rows[i..]
            .iter()
            .take_while(|c| c.level == rows[i].level && c.note.is_some() && c.note == rows[i].note)
            .count();
        if same >= 3 {
            let mut cells = row_cells(rows[i]);
            cells[1] = format!("{same} metrics");
            cells[2] = String::new();
            cells[3] = "–".into();
            out.push(cells);
            i += same;
        } else {
            out.push(row_cells(rows[i]));
            i += 1;
        }
    }
    out
}

/// Render the summary; `allow_missing` decides whether missing rows fail the verdict.
pub fn render(cmp: &Comparison, allow_missing: bool) -> String {
    let verdict = if cmp.has_regression(allow_missing) {
        "❌ regression"
    } else if cmp.inconclusive() > 0 {
        "⚠️ no regression found, some metrics inconclusive"
    } else {
        "✅ no regression"
    };
    let mut out = format!(
        "## nestbench compare: {verdict}\n\n{}: {}. A change counts when its whole interval lies beyond the noise threshold; MDE is the smallest change each row could have detected (80 % power).\n\n",
        method(cmp),
        counts(cmp),
    );
    if let Some(n) = &cmp.single_run_note {
        out.push_str(&format!("**Note:** {n}\n\n"));
    }
    if !cmp.warnings.is_empty() {
        out.push_str("**Comparability warnings**\n\n");
        for w in &cmp.warnings {
            out.push_str(&format!("- {w}\n"));
        }
        out.push('\n');
    }
    let inconclusive: Vec<&Change> = cmp
        .changes
        .iter()
        .filter(|c| c.status.is_inconclusive())
        .collect();
    let notable: Vec<Vec<String>> = [Status::Regressed, Status::Missing, Status::Improved]
        .into_iter()
        .flat_map(|s| collapse(cmp.with_status(s).collect()))
        .chain(collapse(inconclusive))
        .chain(collapse(cmp.with_status(Status::New).collect()))
        .chain(collapse(
            cmp.with_status(Status::NotApplicable)
                .filter(|c| c.baseline.is_some() || c.current.is_some())
                .collect(),
        ))
        .collect();
    if notable.is_empty() {
        out.push_str("No metric changed beyond noise.\n");
    } else {
        out.push_str(&table(&Table::new(
            HEADER.iter().map(|s| s.to_string()).collect(),
            notable,
        )));
    }
    out
}
