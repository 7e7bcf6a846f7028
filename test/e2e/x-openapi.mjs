// X's own OpenAPI document (an extract, kept as test data in test/fixtures) as a validator: the X
// Activity API's answers and envelopes are checked against X's schemas, not against this service's idea
// of them.
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';

const addFormats = /** @type {any} */ (addFormatsModule).default ?? addFormatsModule;
const spec = JSON.parse(readFileSync(new URL('../fixtures/x-openapi-activity.json', import.meta.url), 'utf8'));

// OpenAPI 3.0 keywords Ajv does not know (`example`, `discriminator` with a `../` path) are annotations
// here; `nullable` is understood. Formats X names that JSON Schema lacks (int32, int64) are not checked.
const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
addFormats(ajv);
ajv.addFormat('int32', true);
ajv.addFormat('int64', true);
ajv.addSchema({ components: spec.components }, 'x');

/** @param {string} name a schema under components.schemas */
const schema = (name) =>
  ajv.getSchema(`x#/components/schemas/${name}`) ??
  (() => {
    throw new Error(`no schema ${name}`);
  })();

/**
 * The schema X's document gives the answer of `method path` with `status` and `contentType`: the
 * success schema, or the `default` one (Error for application/json, Problem for application/problem+json).
 * @param {string} method @param {string} path the OpenAPI path template @param {number} status @param {string} contentType
 */
function responseSchema(method, path, status, contentType) {
  const operation = spec.paths[path]?.[method.toLowerCase()];
  if (!operation) throw new Error(`X's document has no ${method} ${path}`);
  const response = operation.responses[String(status)] ?? operation.responses.default;
  const media = contentType.split(';')[0].trim();
  const ref = response.content?.[media]?.schema?.$ref;
  if (!ref) throw new Error(`X's document has no ${media} answer for ${method} ${path} ${status}`);
  return schema(ref.split('/').pop());
}

/**
 * Throws with Ajv's errors unless `body` is what X's document says `method path` answers.
 * @param {string} method @param {string} path @param {{ status: number, body: unknown, headers: Headers }} answer
 */
export function assertXAnswer(method, path, answer) {
  const validate = responseSchema(method, path, answer.status, answer.headers.get('content-type') ?? '');
  if (!validate(answer.body)) {
    throw new Error(
      `${method} ${path} ${answer.status} breaks X's schema: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(answer.body)}`,
    );
  }
}

/**
 * The payload schema of an XAA event type, by the mapping X's document gives in the stream answer's
 * discriminator (which names `../event_type`, a path Ajv cannot follow, so it is followed here).
 * @param {string} eventType
 */
function payloadSchema(eventType) {
  const mapping = spec.components.schemas.ActivityStreamingResponsePayload.discriminator.mapping;
  const ref = mapping[eventType];
  return ref ? schema(ref.split('/').pop()) : null;
}

/** The stream answer's schema without its payload: the envelope X's document defines. */
/** @type {import('ajv').ValidateFunction<any>} */
const envelopeSchema = ajv.compile({
  ...spec.components.schemas.ActivityStreamResponse,
  properties: {
    ...spec.components.schemas.ActivityStreamResponse.properties,
    data: {
      ...spec.components.schemas.ActivityStreamResponse.properties.data,
      properties: { ...spec.components.schemas.ActivityStreamResponse.properties.data.properties, payload: { type: 'object' } },
      required: ['event_uuid', 'filter', 'event_type', 'payload'],
    },
  },
  components: spec.components,
});

/**
 * Throws unless `envelope` (one webhook body or stream line) is an XAA envelope X's schemas accept:
 * the envelope, and its payload by the schema X maps its event type to (types X's document does not
 * map, such as spaces or chat, are checked as envelopes only).
 * @param {any} envelope
 */
export function assertXEnvelope(envelope) {
  if (!envelopeSchema(envelope))
    throw new Error(`envelope breaks X's schema: ${ajv.errorsText(envelopeSchema.errors)}\n${JSON.stringify(envelope)}`);
  const validate = envelope.data ? payloadSchema(envelope.data.event_type) : null;
  if (validate && !validate(envelope.data.payload)) {
    throw new Error(
      `${envelope.data.event_type} payload breaks X's schema: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(envelope)}`,
    );
  }
}

/** X's problem schema, for reason lines written on the stream. @param {unknown} problem */
export function assertXProblem(problem) {
  const validate = schema('Problem');
  if (!validate(problem)) throw new Error(`problem breaks X's schema: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(problem)}`);
}
