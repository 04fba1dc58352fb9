//! The report's style sheet, inline in every page: a page that fits 1280 px (tables
//! wrap their long cells, charts scale down), sortable headers that show their order,
//! and the hover tooltip. Fonts are the reader's own sans-serif (DejaVu Sans where
//! installed, the charts' font): the file names no font to fetch.

/// The CSS of every report page.
pub const CSS: &str = "\
:root{color-scheme:light}\
*{box-sizing:border-box}\
body{font-family:'DejaVu Sans',Verdana,sans-serif;margin:0;color:#1d1d1f;background:#fff;line-height:1.45;font-size:15px}\
header{background:#f3f5f9;border-bottom:1px solid #d6dbe4;padding:.8em 1.5em}\
header h1{margin:0 0 .35em;font-size:1.45em}\
nav{font-size:.92em;line-height:1.9}\
nav a{margin-right:1.1em;color:#1a4f8b;text-decoration:none;white-space:nowrap}\
nav a:hover{text-decoration:underline}\
main{max-width:1240px;margin:0 auto;padding:0 1.5em 3em}\
section{margin-top:1.4em}\
h2{border-bottom:2px solid #d6dbe4;padding-bottom:.2em;margin-bottom:.5em}\
h3{margin:1.1em 0 .4em}\
p{max-width:60em}\
ul.facts{line-height:1.6;padding-left:1.2em;max-width:70em}\
.verdict{font-size:1.2em;font-weight:bold;padding:.5em .8em;border-radius:6px;display:inline-block}\
.verdict.fail{background:#fde8e7;color:#8c1d18}.verdict.pass{background:#e6f4ea;color:#14532d}\
.verdict.warn{background:#fff4d6;color:#6b4e00}\
.table{max-width:100%;overflow-x:auto;margin:.4em 0 1.2em}\
table{border-collapse:collapse;font-size:.87em}\
th,td{border:1px solid #cfd5df;padding:.25em .5em;vertical-align:top;text-align:left}\
td{overflow-wrap:break-word}\
th{background:#eaeef5;cursor:pointer;user-select:none;position:relative;padding-right:1.25em;hyphens:none}\
th:hover{background:#dde3ee}\
th::after{content:'\\2195';position:absolute;right:.3em;color:#99a;font-size:.8em}\
th[aria-sort=ascending]::after{content:'\\25B2';color:#1a4f8b}\
th[aria-sort=descending]::after{content:'\\25BC';color:#1a4f8b}\
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\
tbody tr:nth-child(even){background:#fafbfd}\
tfoot td{font-weight:bold;background:#f1f3f7}\
td a{color:#1a4f8b;text-decoration:none;border-bottom:1px dotted #1a4f8b}\
details.cell{min-width:9em}\
details.cell summary{cursor:pointer;color:#2b3f5c}\
details.env{margin:.3em 0;border:1px solid #dde2ea;border-radius:4px;padding:.3em .6em}\
details.env summary{cursor:pointer;font-weight:bold}\
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:.15em 1em;margin:.5em 0}\
dl.kv dt{font-weight:bold;color:#444}dl.kv dd{margin:0;overflow-wrap:anywhere}\
dl.glossary dt{font-weight:bold;margin-top:.7em}\
dl.glossary dd{margin-left:1.5em;max-width:60em}\
dl.glossary .meta{color:#555}\
dl.glossary dt:target{background:#fff4c2}\
code{font-family:'DejaVu Sans Mono',monospace;font-size:.92em}\
figure{margin:1em 0 1.6em}\
figcaption{font-weight:bold;margin-bottom:.4em}\
figure svg{max-width:100%;height:auto;display:block}\
svg .hover{cursor:crosshair}\
svg .hover:hover{fill-opacity:.18}\
.better{color:#14532d}.worse{color:#8c1d18}\
#tip{position:fixed;left:0;top:0;pointer-events:none;background:#1d1d1f;color:#fff;padding:.35em .6em;border-radius:4px;font-size:.85em;max-width:26em;z-index:10;box-shadow:0 2px 6px rgba(0,0,0,.3)}\
#tip[hidden]{display:none}\
";
