import { ApiError, invalid } from '../errors';
import { checkJsonShape, decodeUtf8 } from './validation';

/** A form (or, as some clients send it, JSON) request body as flat fields. */
export function formFields(bytes: ArrayBuffer, contentType: string | undefined): Record<string, string> {
  const mediaType = (contentType ?? '').split(';')[0].trim().toLowerCase();
  const text = decodeUtf8(bytes);
  if (mediaType === 'application/json') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text || '{}');
    } catch {
      throw invalid('request body is not valid JSON');
    }
    checkJsonShape(parsed);
    return parsed as Record<string, string>;
  }
  if (text && mediaType !== 'application/x-www-form-urlencoded') {
    throw new ApiError('unsupported-media-type', 'request body must be application/x-www-form-urlencoded');
  }
  return Object.fromEntries(new URLSearchParams(text));
}
