/**
 * The API reference page's one stylesheet, inlined and allowed by its hash in the page's
 * Content-Security-Policy (src/http/reference-headers.ts). Light and dark; readable on a phone.
 */
export const REFERENCE_STYLESHEET = `
:root{--bg:#f6f7f9;--card:#fff;--text:#111827;--muted:#5b6472;--line:#e3e7ee;--brand:#1f5fd6;--code:#eef1f5;
--get:#067647;--post:#1f5fd6;--put:#8a5a00;--delete:#b42318;--patch:#6941c6;
font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--bg:#0f1420;--card:#171e2c;--text:#e8ecf3;--muted:#9aa4b5;--line:#2a3345;--brand:#7aa5f5;--code:#222b3c;
--get:#6fd3a0;--post:#7aa5f5;--put:#f3c969;--delete:#ff8a80;--patch:#b692f6}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--text);font-size:15px;line-height:1.5}
a{color:var(--brand)}
.wrap{display:grid;grid-template-columns:250px 1fr;max-width:1200px;margin:0 auto}
@media (max-width:820px){.wrap{grid-template-columns:1fr}nav{position:static!important;max-height:none!important;border-right:0!important}}
nav{position:sticky;top:0;max-height:100vh;overflow:auto;padding:20px 16px;border-right:1px solid var(--line);font-size:.86rem}
nav h2{font-size:.75rem;text-transform:uppercase;letter-spacing:.06em;color:var(--muted);margin:16px 0 6px}
nav ul{list-style:none;margin:0;padding:0}
nav li a{display:block;padding:2px 0;text-decoration:none;color:var(--text);overflow-wrap:anywhere}
nav li a:hover{color:var(--brand)}
main{padding:24px 28px 64px;min-width:0}
h1{font-size:1.6rem;margin:0 0 4px}
h2.tag{font-size:1.25rem;margin:40px 0 4px;padding-top:8px;border-top:1px solid var(--line)}
h3{font-size:1.02rem;margin:0}
h4{font-size:.75rem;text-transform:uppercase;letter-spacing:.06em;color:var(--muted);margin:16px 0 6px}
p{margin:6px 0}
.muted{color:var(--muted)}
.op{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:16px 18px;margin:14px 0}
.sig{display:flex;gap:10px;align-items:baseline;flex-wrap:wrap;margin-bottom:4px}
.sig code.path{font-size:1rem;background:none;padding:0;overflow-wrap:anywhere}
.m{font-weight:700;font-size:.75rem;letter-spacing:.04em;text-transform:uppercase;padding:2px 8px;border-radius:6px;border:1px solid currentColor}
.m.get{color:var(--get)}.m.post{color:var(--post)}.m.put{color:var(--put)}.m.delete{color:var(--delete)}.m.patch{color:var(--patch)}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.86em;background:var(--code);padding:1px 5px;border-radius:5px}
table{width:100%;border-collapse:collapse;font-size:.9rem}
th{text-align:left;font-size:.72rem;text-transform:uppercase;letter-spacing:.05em;color:var(--muted);font-weight:600;padding:4px 8px 4px 0;border-bottom:1px solid var(--line)}
td{padding:5px 8px 5px 0;border-bottom:1px solid var(--line);vertical-align:top}
tr:last-child td{border-bottom:0}
td.name{white-space:nowrap}
.req{color:var(--delete);font-size:.75rem;margin-left:4px}
.type{color:var(--muted);font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.82rem;overflow-wrap:anywhere}
ul.fields{list-style:none;margin:0;padding:0 0 0 14px;border-left:2px solid var(--line)}
ul.fields>li{padding:3px 0}
.status{font-weight:700;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;margin-right:6px}
.status.ok{color:var(--get)}.status.err{color:var(--delete)}.status.other{color:var(--put)}
details{margin:4px 0}
summary{cursor:pointer}
.sec{font-size:.88rem}
`;
