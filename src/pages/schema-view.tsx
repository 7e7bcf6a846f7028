/** @jsxImportSource hono/jsx */
import type { Child } from 'hono/jsx';

/** JSON Schema (as OpenAPI 3.1 holds it) shown to a person: a type on one line, an object as its fields. */

export type Json = Record<string, unknown>;
export type SchemaObject = Json & { $ref?: string; type?: string | string[]; properties?: Record<string, Json>; items?: Json };

export const schemaAnchor = (name: string) => `schema-${name}`;
const refName = (ref: string) => ref.replace('#/components/schemas/', '');

/** Descriptions use Markdown; here only its `code` spans are rendered, the rest stays text. */
export function Text(props: { text?: unknown }) {
  if (typeof props.text !== 'string' || props.text === '') return null;
  return <>{props.text.split('`').map((part, i) => (i % 2 === 1 ? <code>{part}</code> : part))}</>;
}

/** One line saying what a schema is: `string (date-time)`, `"a" | "b"`, `array of WebhookConfig`, a link for a reference. */
export function TypeOf(props: { schema: SchemaObject }): Child {
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
  const byDefault = s.default === undefined ? null : `default ${JSON.stringify(s.default)}`;
  const details = [s.format, s.pattern ? `/${s.pattern}/` : null, range(s), byDefault].filter(Boolean).join(', ');
  return <span class="type">{details ? `${type} (${details})` : type}</span>;
}

function range(s: Json): string | null {
  const min = s.minimum ?? s.minLength ?? s.minItems;
  const max = s.maximum ?? s.maxLength ?? s.maxItems;
  if (min === undefined && max === undefined) return null;
  return `${min ?? ''}…${max ?? ''}`;
}

/** An object's fields (nested objects inline, to a few levels), or the one-line type of anything else. */
export function SchemaView(props: { schema?: SchemaObject; depth?: number }): Child {
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
