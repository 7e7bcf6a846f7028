/**
 * Redirect URIs an app may register (RFC 6749 §3.1.2, RFC 8252 for native apps) and how the service
 * sends a browser back to one. They are compared exactly, as registered: no prefix, wildcard or
 * normalization, so nothing but the developer's own listed URIs can receive a code. Pure.
 */
export const MAX_REDIRECT_URIS = 10;
export const MAX_REDIRECT_URI_LENGTH = 512;

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** A host name (as `URL.hostname` spells it) that never leaves the machine. */
export const isLoopbackHost = (hostname: string): boolean => LOOPBACK_HOSTS.has(hostname);

/** Why `uri` cannot be registered, or null if it can. */
export function redirectUriProblem(uri: string): string | null {
  if (uri.length > MAX_REDIRECT_URI_LENGTH) return `must be at most ${MAX_REDIRECT_URI_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'must be an absolute URI';
  }
  if (url.hash || uri.includes('#')) return 'must not have a fragment';
  if (url.username || url.password) return 'must not carry credentials';
  if (url.protocol === 'https:') return url.hostname ? null : 'must name a host';
  if (url.protocol === 'http:') {
    // Plain http only for a native app's loopback listener (RFC 8252 §7.3): nothing crosses a network.
    return LOOPBACK_HOSTS.has(url.hostname) ? null : 'http is allowed only on a loopback host (127.0.0.1, [::1], localhost); use https';
  }
  // A native app's private-use scheme must be a reverse domain name (RFC 8252 §7.1), which also
  // keeps out javascript:, data:, file: and the like.
  return /^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+:$/.test(url.protocol)
    ? null
    : 'must be https, http on a loopback host, or a reverse-domain private-use scheme (com.example.app:/callback)';
}

/** `uri` with `params` added to its query (existing query parameters kept, as RFC 6749 §3.1.2 requires). */
export function withQuery(uri: string, params: Record<string, string | undefined>): string {
  const url = new URL(uri);
  for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.append(name, value);
  return url.href;
}

/** The CSP source that lets a form's redirect reach `uri`: its origin, or its scheme for a private-use one. */
export function cspSourceFor(uri: string): string {
  const url = new URL(uri);
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : url.protocol;
}
