import { sha256Base64 } from '../domain/crypto';

/**
 * The one stylesheet of every page (user pages, developer portal, operator console), inlined and allowed by its hash in the Content-Security-Policy
 * (no 'unsafe-inline', no extra request, no build step). Mobile first; light and dark.
 */
export const STYLESHEET = `
:root{--bg:#f4f6f9;--card:#fff;--text:#111827;--muted:#5b6472;--line:#e3e7ee;--brand:#1f5fd6;--brand-ink:#fff;--brand-soft:#e8f0fe;
--danger:#b42318;--danger-soft:#fdecea;--ok:#067647;--ok-soft:#e7f6ee;--warn:#8a5a00;--warn-soft:#fff4d6;--radius:14px;
font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--bg:#0f1420;--card:#171e2c;--text:#e8ecf3;--muted:#9aa4b5;--line:#2a3345;--brand:#5b8ef0;
--brand-soft:#1c2a47;--danger:#ff8a80;--danger-soft:#3a1d1d;--ok:#6fd3a0;--ok-soft:#15302a;--warn:#f3c969;--warn-soft:#3a3018}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--text);font-size:16px;line-height:1.5;-webkit-text-size-adjust:100%}
a{color:var(--brand)}
.topbar{display:flex;align-items:center;justify-content:space-between;gap:12px;padding:14px 20px;background:var(--card);border-bottom:1px solid var(--line)}
.brand{display:flex;align-items:center;gap:10px;font-weight:650;letter-spacing:.01em;white-space:nowrap}
.brand svg{width:26px;height:26px;color:var(--brand)}
.who{display:flex;align-items:center;gap:10px;font-size:14px;color:var(--muted);white-space:nowrap}
@media (max-width:480px){.who .label{display:none}.topbar{padding:12px 16px}}
.who form{margin:0}
.linkish{background:none;border:0;padding:0;color:var(--brand);font:inherit;cursor:pointer;text-decoration:underline}
main{max-width:720px;margin:0 auto;padding:28px 16px 48px}
main.narrow{max-width:480px}
.card{background:var(--card);border:1px solid var(--line);border-radius:var(--radius);padding:24px;box-shadow:0 1px 2px rgba(16,24,40,.04),0 4px 16px rgba(16,24,40,.05)}
@media (max-width:480px){.card{padding:20px}}
.card+.card{margin-top:16px}
h1{font-size:1.45rem;line-height:1.3;margin:0 0 6px}
h2{font-size:1.05rem;margin:24px 0 10px}
h3{font-size:.8rem;text-transform:uppercase;letter-spacing:.06em;color:var(--muted);margin:20px 0 8px}
p{margin:0 0 12px}
.muted{color:var(--muted)}
.eyebrow{font-size:.8rem;text-transform:uppercase;letter-spacing:.08em;color:var(--muted);margin:0 0 4px}
.app-head{display:flex;gap:16px;align-items:flex-start}
.avatar{flex:0 0 auto;width:52px;height:52px;border-radius:14px;background:var(--brand-soft);color:var(--brand);display:grid;place-items:center;font-size:1.4rem;font-weight:700}
.avatar.small{width:40px;height:40px;border-radius:11px;font-size:1.1rem}
.alert{border-radius:10px;padding:12px 14px;margin:18px 0 0;font-size:.95rem;display:flex;gap:10px;align-items:flex-start}
.alert svg{flex:0 0 auto;width:20px;height:20px;margin-top:2px}
.alert-danger{background:var(--danger-soft);color:var(--danger)}
.alert-ok{background:var(--ok-soft);color:var(--ok)}
.alert-warn{background:var(--warn-soft);color:var(--warn)}
.scopes{list-style:none;margin:0;padding:0;border:1px solid var(--line);border-radius:12px;overflow:hidden}
.scope{display:flex;gap:12px;padding:14px 16px;align-items:flex-start}
.scope+.scope{border-top:1px solid var(--line)}
.scope .dot{flex:0 0 auto;width:10px;height:10px;border-radius:50%;background:var(--brand);margin-top:8px}
.scope.sensitive .dot{background:var(--danger)}
.scope .what{flex:1}
.scope strong{display:block}
.scope p{margin:2px 0 0;color:var(--muted);font-size:.93rem}
.badge{display:inline-block;font-size:.72rem;font-weight:650;letter-spacing:.03em;padding:2px 8px;border-radius:999px;vertical-align:middle;margin-left:6px;white-space:nowrap}
.badge.danger{background:var(--danger-soft);color:var(--danger)}
.badge.new{background:var(--brand-soft);color:var(--brand)}
.badge.ok{background:var(--ok-soft);color:var(--ok)}
.badge.neutral{background:var(--bg);color:var(--muted);border:1px solid var(--line)}
.chips{display:flex;flex-wrap:wrap;gap:6px;margin:0;padding:0;list-style:none}
.chip{font-size:.85rem;padding:4px 10px;border-radius:999px;background:var(--bg);border:1px solid var(--line)}
.chip.sensitive{background:var(--danger-soft);color:var(--danger);border-color:transparent}
.destination{margin:20px 0 0;font-size:.93rem;color:var(--muted)}
.destination strong{color:var(--text);overflow-wrap:anywhere}
.destination code{display:inline-block;margin-top:4px;overflow-wrap:anywhere}
.actions{display:flex;flex-direction:column-reverse;gap:10px;margin-top:22px}
@media (min-width:560px){.actions{flex-direction:row;justify-content:flex-end}}
.btn{display:inline-flex;align-items:center;justify-content:center;gap:8px;min-height:44px;padding:10px 20px;border-radius:10px;border:1px solid transparent;font:inherit;font-weight:600;text-decoration:none;cursor:pointer}
.btn.primary{background:var(--brand);color:var(--brand-ink)}
.btn.secondary{background:var(--card);color:var(--text);border-color:var(--line)}
.btn.danger{background:var(--danger);color:#fff}
.btn.danger-outline{background:var(--card);color:var(--danger);border-color:var(--danger)}
.btn:focus-visible,.linkish:focus-visible,summary:focus-visible{outline:3px solid var(--brand);outline-offset:2px}
.fine{font-size:.85rem;color:var(--muted);margin:18px 0 0}
.page-head{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-end;justify-content:space-between;margin-bottom:18px}
.page-head p{margin:0}
.app-title{display:flex;gap:12px;align-items:center}
.app-title h2{margin:0;font-size:1.15rem}
.app-title .since{font-size:.88rem;color:var(--muted)}
.app-title+p{margin:14px 0 0}
table.received{width:100%;border-collapse:collapse;font-size:.93rem}
table.received th{font-size:.75rem;text-transform:uppercase;letter-spacing:.05em;color:var(--muted);font-weight:600;text-align:right;padding:6px 8px;border-bottom:1px solid var(--line);white-space:nowrap}
table.received td.when{white-space:nowrap;color:var(--muted)}
table.received th:first-child,table.received td:first-child{text-align:left;padding-left:0}
table.received td{padding:9px 8px;border-bottom:1px solid var(--line);text-align:right;font-variant-numeric:tabular-nums}
table.received tr:last-child td{border-bottom:0}
td.zero{color:var(--muted)}
td.unknown{color:var(--warn);font-weight:600}
@media (max-width:560px){table.received thead{display:none}table.received tr{display:block;padding:10px 0;border-bottom:1px solid var(--line)}
table.received td{display:flex;justify-content:space-between;border:0;padding:2px 0;text-align:right}
table.received td:first-child{font-weight:600;padding-bottom:4px}
table.received td:not(:first-child)::before{content:attr(data-label);color:var(--muted);font-size:.88rem}}
details.revoke{margin-top:20px}
details.revoke>summary{list-style:none;display:inline-flex}
details.revoke>summary::-webkit-details-marker{display:none}
details.revoke[open]>summary{margin-bottom:12px}
.confirm{border:1px solid var(--danger);background:var(--danger-soft);border-radius:12px;padding:16px}
.confirm p{color:var(--text)}
.confirm .actions{margin-top:12px}
.empty{text-align:center;padding:36px 24px}
label{display:block;font-weight:600;margin:16px 0 6px}
input[type=text]{width:100%;min-height:44px;font:inherit;padding:10px 12px;border-radius:10px;border:1px solid var(--line);background:var(--card);color:var(--text)}
input[type=text]:focus{outline:3px solid var(--brand-soft);border-color:var(--brand)}
.hint{font-size:.85rem;color:var(--muted);margin-top:6px}
.dev-banner{background:var(--warn-soft);color:var(--warn);border-radius:10px;padding:10px 14px;font-size:.9rem;margin-bottom:18px}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.88em;background:var(--bg);padding:1px 5px;border-radius:6px}
.message-head{display:flex;gap:12px;align-items:flex-start}
.message-head svg{flex:0 0 auto;width:28px;height:28px;margin-top:2px;color:var(--danger)}
footer{text-align:center;color:var(--muted);font-size:.8rem;padding:0 16px 32px}
main.wide{max-width:1040px}
nav.tabs{display:flex;gap:4px;overflow-x:auto;padding:0 12px;background:var(--card);border-bottom:1px solid var(--line)}
nav.tabs a{padding:10px 12px;color:var(--muted);text-decoration:none;font-weight:600;font-size:.93rem;border-bottom:3px solid transparent;white-space:nowrap}
nav.tabs a[aria-current=page]{color:var(--text);border-bottom-color:var(--brand)}
input[type=password],input[type=url],input[type=search],input[type=datetime-local],select,textarea{width:100%;min-height:44px;font:inherit;padding:10px 12px;border-radius:10px;border:1px solid var(--line);background:var(--card);color:var(--text)}
textarea{min-height:88px;resize:vertical}
input:focus,select:focus,textarea:focus{outline:3px solid var(--brand-soft);border-color:var(--brand)}
.badge.warn{background:var(--warn-soft);color:var(--warn)}
.stats{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:12px;margin:0;padding:0;list-style:none}
.stats li{background:var(--bg);border:1px solid var(--line);border-radius:12px;padding:12px 14px}
.stats strong{display:block;font-size:1.35rem;font-variant-numeric:tabular-nums}
.stats span{font-size:.85rem;color:var(--muted)}
.row{display:flex;flex-wrap:wrap;gap:8px 16px;align-items:center;justify-content:space-between}
.row h2{margin:0;overflow-wrap:anywhere}
.url{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9rem;overflow-wrap:anywhere}
.health{margin:10px 0 0;font-size:.93rem}
.tools{display:flex;flex-wrap:wrap;gap:8px;margin-top:14px}
.tools form{margin:0}
.btn.small{min-height:36px;padding:6px 14px;font-size:.9rem}
details.confirm-box{display:inline-block}
details.confirm-box>summary{list-style:none}
details.confirm-box>summary::-webkit-details-marker{display:none}
details.confirm-box[open]{display:block;width:100%}
details.confirm-box[open]>summary{margin-bottom:10px}
.secret{display:block;padding:12px 14px;border-radius:10px;background:var(--bg);border:1px dashed var(--warn);font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9rem;word-break:break-all;user-select:all}
dl.kv{display:grid;grid-template-columns:minmax(110px,max-content) 1fr;gap:6px 16px;margin:0;font-size:.93rem}
dl.kv dt{color:var(--muted)}
dl.kv dd{margin:0;overflow-wrap:anywhere}
table.list{width:100%;border-collapse:collapse;font-size:.9rem}
table.list th{font-size:.72rem;text-transform:uppercase;letter-spacing:.05em;color:var(--muted);font-weight:600;text-align:left;padding:6px 8px;border-bottom:1px solid var(--line);white-space:nowrap}
table.list td{padding:8px;border-bottom:1px solid var(--line);vertical-align:top;overflow-wrap:anywhere}
table.list tr:last-child td{border-bottom:0}
table.list td.num{text-align:right;font-variant-numeric:tabular-nums}
table.list .nowrap{white-space:nowrap}
@media (max-width:640px){table.list thead{display:none}table.list tr{display:block;padding:8px 0;border-bottom:1px solid var(--line)}
table.list td{display:flex;gap:12px;justify-content:space-between;border:0;padding:2px 0;text-align:right}
table.list td::before{content:attr(data-label);color:var(--muted);font-size:.85rem;text-align:left}
table.list td.num{text-align:right}}
.filters{display:grid;grid-template-columns:repeat(auto-fit,minmax(160px,1fr));gap:0 12px;align-items:start}
.filters label{margin-top:8px}
.filters .actions{margin-top:12px}
.pager{display:flex;justify-content:flex-end;margin-top:12px}
.split{display:grid;gap:16px;margin-top:16px}
.split>*{min-width:0}
.split+.card,.card+.split{margin-top:16px}
@media (min-width:860px){.split{grid-template-columns:minmax(0,1fr) minmax(0,1fr)}.split>.card+.card{margin-top:0}}
.card>h2:first-child,.card>section>h2:first-child{margin-top:0}
h1.url{font-size:1.2rem}
main>.alert{margin:0 0 16px}
.card>.alert:first-child{margin-top:0}
.filters>.actions{align-self:end}
`;

let stylesheetHash: Promise<string> | null = null;
/** The stylesheet's CSP hash source, computed once per isolate (not at global scope: no async work there). */
export function stylesheetSource(): Promise<string> {
  stylesheetHash ??= sha256Base64(STYLESHEET).then((hash) => `'sha256-${hash}'`);
  return stylesheetHash;
}
