//! The docs read the metric catalog too: README.md's workload table is the catalog's
//! own rendering, so a metric added to the catalog fails this test until it is
//! documented.

#[test]
fn readme_lists_exactly_the_catalog() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md at the repository root");
    let table = model::catalog::markdown_table();
    assert!(
        readme.contains(&table),
        "README.md's workload table differs from the catalog; replace it with:\n{table}"
    );
}
