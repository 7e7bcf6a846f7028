/** @jsxImportSource hono/jsx */
import type { Child } from 'hono/jsx';
import type { OpenApiDocument } from '../openapi/document';

/**
 * The API reference (`GET /docs`): the OpenAPI document, read by a person. Rendered on the server
 * from the document itself, so it can never say something the document does not; no script, one
 * inline stylesheet allowed by its hash, nothing loaded from anywhere else.
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

type Json = Record<string, unknown>;
type SchemaObject = Json & { $ref?: string; type?: string | string[]; properties?: Record<string, Json>; items?: Json };

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;
const schemaAnchor = (name: string) => `schema-${name}`;
const refName = (ref: string) => ref.replace('#/components/schemas/', '');

/** Descriptions use Markdown; here only its `code` spans are rendered, the rest stays text. */
function Text(props: { text?: unknown }) {
  if (typeof props.text !== 'string' || props.text === '') return null;
  return <>{props.text.split('`').map((part, i) => (i % 2 === 1 ? <code>{part}</code> : part))}</>;
}

/** One line saying what a schema is: `string (date-time)`, `"a" | "b"`, `array of WebhookConfig`, a link for a reference. */
function TypeOf(props: { schema: SchemaObject }): Child {
  const s = props.schema;
  if (s.$ref) return <a href={`#${schemaAnchor(refName(s.$ref))}`}>{refName(s.$ref)}</a>;
  if (Array.isArray(s.enum)) return <span class="type">{s.enum.map((v) => JSON.stringify(v)).join(' | ')}</span>;
  if ('const' in s) return <span class="type">{JSON.stringify(s.const)}</span>;
  for (const key of ['anyOf', 'oneOf'] as const) {
    const options = s[key];
    if (Array.isArray(options)) {
      return (
        <span class="type">
          {(options as SchemaObject[]).map((option, i) => (
            <>
              {i > 0 ? ' | ' : ''}
              <TypeOf schema={option} />
            </>
          ))}
        </span>
      );
    }
  }
  if (s.type === 'array' && s.items) {
    return (
      <span class="type">
        array of <TypeOf schema={s.items as SchemaObject} />
      </span>
    );
  }
  const type = Array.isArray(s.type) ? s.type.join(' | ') : (s.type ?? 'any');
  const details = [s.format, s.pattern ? `/${s.pattern}/` : null, range(s)].filter(Boolean).join(', ');
  return <span class="type">{details ? `${type} (${details})` : type}</span>;
}

function range(s: Json): string | null {
  const min = s.minimum ?? s.minLength ?? s.minItems;
  const max = s.maximum ?? s.maxLength ?? s.maxItems;
  if (min === undefined && max === undefined) return null;
  return `${min ?? ''}…${max ?? ''}`;
}

/** An object's fields (nested objects inline, to a few levels), or the one-line type of anything else. */
function SchemaView(props: { schema?: SchemaObject; depth?: number }): Child {
  const s = props.schema;
  if (!s) return <span class="muted">no body</span>;
  const depth = props.depth ?? 0;
  const itemObject = s.type === 'array' && s.items && !s.items.$ref && s.items.properties ? (s.items as SchemaObject) : null;
  const target = s.properties ? s : itemObject;
  if (!target?.properties || depth > 4) return <TypeOf schema={s} />;
  const required = new Set(Array.isArray(target.required) ? (target.required as string[]) : []);
  return (
    <>
      {itemObject ? <span class="type">array of objects:</span> : null}
      <ul class="fields">
        {Object.entries(target.properties).map(([name, field]) => {
          const f = field as SchemaObject;
          const nested = f.properties || (f.type === 'array' && (f.items as SchemaObject | undefined)?.properties);
          return (
            <li>
              <code>{name}</code>
              {required.has(name) ? <span class="req">required</span> : null} {nested ? null : <TypeOf schema={f} />}
              {f.description ? (
                <span class="muted">
                  {' '}
                  — <Text text={f.description} />
                </span>
              ) : null}
              {nested ? <SchemaView schema={f} depth={depth + 1} /> : null}
            </li>
          );
        })}
      </ul>
    </>
  );
}

function Content(props: { content?: Record<string, { schema?: SchemaObject }> }) {
  if (!props.content) return null;
  return (
    <>
      {Object.entries(props.content).map(([media, { schema }]) => (
        <div>
          <code>{media}</code> <SchemaView schema={schema} />
        </div>
      ))}
    </>
  );
}

function Security(props: { security?: Record<string, string[]>[] }) {
  const ways = props.security ?? [];
  if (ways.length === 0) return <p class="sec muted">No credentials.</p>;
  return (
    <p class="sec">
      <span class="muted">Auth: </span>
      {ways.map((way, i) => {
        const names = Object.keys(way);
        return (
          <>
            {i > 0 ? ' or ' : ''}
            {names.length === 0 ? 'none' : names.map((n) => <a href={`#auth-${n}`}>{n}</a>)}
          </>
        );
      })}
    </p>
  );
}

interface Operation {
  method: string;
  path: string;
  op: Json & {
    operationId?: string;
    summary?: string;
    description?: string;
    tags?: string[];
    security?: Record<string, string[]>[];
    parameters?: (Json & { name: string; in: string; required?: boolean; description?: string; schema?: SchemaObject })[];
    requestBody?: Json & { description?: string; content?: Record<string, { schema?: SchemaObject }> };
    responses?: Record<string, Json & { description?: string; content?: Record<string, { schema?: SchemaObject }> }>;
  };
}

function OperationView(props: Operation) {
  const { method, path, op } = props;
  const statusClass = (status: string) => (status.startsWith('2') ? 'ok' : status.startsWith('3') ? 'other' : 'err');
  return (
    <section class="op" id={op.operationId}>
      <div class="sig">
        <span class={`m ${method}`}>{method}</span>
        <code class="path">{path}</code>
      </div>
      <h3>
        <Text text={op.summary} />
      </h3>
      {op.description ? (
        <p class="muted">
          <Text text={op.description} />
        </p>
      ) : null}
      <Security security={op.security} />
      {op.parameters?.length ? (
        <>
          <h4>Parameters</h4>
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>In</th>
                <th>Type</th>
                <th>Description</th>
              </tr>
            </thead>
            <tbody>
              {op.parameters.map((p) => (
                <tr>
                  <td class="name">
                    <code>{p.name}</code>
                    {p.required ? <span class="req">required</span> : null}
                  </td>
                  <td>{p.in}</td>
                  <td>{p.schema ? <TypeOf schema={p.schema} /> : null}</td>
                  <td>
                    <Text text={p.description ?? p.schema?.description} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
      {op.requestBody ? (
        <>
          <h4>Request body</h4>
          {op.requestBody.description ? (
            <p class="muted">
              <Text text={op.requestBody.description} />
            </p>
          ) : null}
          <Content content={op.requestBody.content} />
        </>
      ) : null}
      <h4>Responses</h4>
      {Object.entries(op.responses ?? {}).map(([status, response]) =>
        response.content ? (
          <details open={status.startsWith('2') || undefined}>
            <summary>
              <span class={`status ${statusClass(status)}`}>{status}</span>
              <Text text={response.description} />
            </summary>
            <Content content={response.content} />
          </details>
        ) : (
          <p>
            <span class={`status ${statusClass(status)}`}>{status}</span>
            <Text text={response.description} />
          </p>
        ),
      )}
    </section>
  );
}

/** The operations of the document in path order, each with its method. */
export function operationsOf(document: OpenApiDocument): Operation[] {
  return Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
    METHODS.filter((m) => (item as Json)[m]).map((method) => ({ method, path, op: (item as Json)[method] as Operation['op'] })),
  );
}

export function ApiReferencePage(props: { document: OpenApiDocument }) {
  const { document } = props;
  const operations = operationsOf(document);
  const tags = (document.tags ?? []).filter((tag) => operations.some(({ op }) => op.tags?.includes(tag.name)));
  const schemes = Object.entries((document.components?.securitySchemes ?? {}) as unknown as Record<string, Json>);
  const schemas = Object.entries((document.components?.schemas ?? {}) as Record<string, SchemaObject>);
  const byTag = (name: string) => operations.filter(({ op }) => op.tags?.includes(name));
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${document.info.title} API reference`}</title>
        <style dangerouslySetInnerHTML={{ __html: REFERENCE_STYLESHEET }} />
      </head>
      <body>
        <div class="wrap">
          <nav aria-label="Operations">
            <a href="#top">
              <strong>{document.info.title}</strong>
            </a>
            <h2>Guide</h2>
            <ul>
              <li>
                <a href="#authentication">Authentication</a>
              </li>
              <li>
                <a href="#schemas">Schemas</a>
              </li>
              <li>
                <a href="/openapi.json">openapi.json</a>
              </li>
            </ul>
            {tags.map((tag) => (
              <>
                <h2>{tag.name}</h2>
                <ul>
                  {byTag(tag.name).map(({ method, path, op }) => (
                    <li>
                      <a href={`#${op.operationId}`}>
                        <span class={`m ${method}`}>{method}</span> {path}
                      </a>
                    </li>
                  ))}
                </ul>
              </>
            ))}
          </nav>
          <main id="top">
            <h1>{document.info.title} API reference</h1>
            <p class="muted">
              Version {document.info.version} · OpenAPI {document.openapi} · the machine-readable document is{' '}
              <a href="/openapi.json">
                <code>/openapi.json</code>
              </a>
            </p>
            {(document.info.description ?? '').split('\n\n').map((paragraph) => (
              <p>
                <Text text={paragraph} />
              </p>
            ))}
            <h2 class="tag" id="authentication">
              Authentication
            </h2>
            {schemes.map(([name, scheme]) => (
              <section class="op" id={`auth-${name}`}>
                <h3>
                  {name} <span class="type">{[scheme.type, scheme.scheme, scheme.in].filter(Boolean).join(' ')}</span>
                </h3>
                <p>
                  <Text text={scheme.description} />
                </p>
              </section>
            ))}
            {tags.map((tag) => (
              <>
                <h2 class="tag" id={`tag-${tag.name.replaceAll(' ', '-')}`}>
                  {tag.name}
                </h2>
                <p class="muted">
                  <Text text={tag.description} />
                </p>
                {byTag(tag.name).map((operation) => (
                  <OperationView {...operation} />
                ))}
              </>
            ))}
            <h2 class="tag" id="schemas">
              Schemas
            </h2>
            {schemas.map(([name, schema]) => (
              <section class="op" id={schemaAnchor(name)}>
                <h3>{name}</h3>
                {schema.description ? (
                  <p class="muted">
                    <Text text={schema.description} />
                  </p>
                ) : null}
                <SchemaView schema={schema} />
              </section>
            ))}
          </main>
        </div>
      </body>
    </html>
  );
}
