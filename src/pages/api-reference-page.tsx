/** @jsxImportSource hono/jsx */
import type { OpenApiDocument } from '../openapi/document';
import { REFERENCE_STYLESHEET } from './api-reference-styles';
import { type Json, type SchemaObject, SchemaView, schemaAnchor, Text, TypeOf } from './schema-view';

/**
 * The API reference (`GET /docs`): the OpenAPI document, read by a person. Rendered on the server
 * from the document itself, so it can never say something the document does not; no script, one
 * inline stylesheet allowed by its hash, nothing loaded from anywhere else.
 */

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

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
