/**
 * Webhook URL rules (docs/delivery.md, "Webhook URLs"): https, no port, no credentials, no fragment, and no
 * host that names this machine's or a private network (IP literals in private, loopback, link-local,
 * CGNAT or reserved ranges, `localhost`, single-label names). The WHATWG URL parser already turns
 * decimal, octal and hex IPv4 spellings into dotted form, so the range check sees the real address.
 * `allowInsecure` (local development only) lifts the scheme, port and address rules.
 */
type UrlCheck = { ok: true; url: string } | { ok: false; message: string };

export function checkWebhookUrl(raw: string, opts: { allowInsecure: boolean; maxLength: number }): UrlCheck {
  if (raw.length > opts.maxLength) return { ok: false, message: `url must be at most ${opts.maxLength} characters` };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, message: 'url must be an absolute URL' };
  }
  const allowedSchemes = opts.allowInsecure ? ['https:', 'http:'] : ['https:'];
  if (!allowedSchemes.includes(url.protocol)) {
    return { ok: false, message: opts.allowInsecure ? 'url must be an http(s) URL' : 'url must be an https URL' };
  }
  if (url.username || url.password) return { ok: false, message: 'url must not contain credentials' };
  if (url.hash || raw.includes('#')) return { ok: false, message: 'url must not contain a fragment' };
  if (!opts.allowInsecure) {
    if (url.port) return { ok: false, message: 'url must be an https URL without a port' };
    const why = forbiddenHost(url.hostname);
    if (why) return { ok: false, message: `url host ${why}` };
  }
  if (url.href.length > opts.maxLength) {
    return { ok: false, message: `url must be at most ${opts.maxLength} characters once normalized` };
  }
  return { ok: true, url: url.href };
}

function forbiddenHost(hostname: string): string | null {
  if (hostname.startsWith('[')) {
    return isPublicIpv6(hostname.slice(1, -1)) ? null : 'is a non-public IPv6 address';
  }
  const v4 = parseIpv4(hostname);
  if (v4) return isPublicIpv4(v4) ? null : 'is a non-public IPv4 address';
  const host = hostname.replace(/\.$/, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return 'must not be localhost';
  if (!host.includes('.')) return 'must be a fully qualified public domain name';
  return null;
}

function parseIpv4(host: string): number[] | null {
  const parts = host.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p))) return null;
  const octets = parts.map(Number);
  return octets.every((o) => o <= 255) ? octets : null;
}

function isPublicIpv4([a, b]: number[]): boolean {
  if (a === 0 || a === 10 || a === 127) return false; // this network, private, loopback
  if (a === 100 && b >= 64 && b <= 127) return false; // CGNAT 100.64/10
  if (a === 169 && b === 254) return false; // link-local
  if (a === 172 && b >= 16 && b <= 31) return false; // private
  if (a === 192 && b === 168) return false; // private
  if (a === 192 && b === 0) return false; // IETF protocol assignments
  if (a === 198 && (b === 18 || b === 19)) return false; // benchmarking
  if (a >= 224) return false; // multicast, reserved, broadcast
  return true;
}

function expandIpv6(addr: string): number[] | null {
  let text = addr.toLowerCase();
  // An embedded dotted IPv4 tail (::ffff:1.2.3.4) becomes two hextets.
  const dotted = text.match(/^(.*:)(\d+\.\d+\.\d+\.\d+)$/);
  if (dotted) {
    const v4 = parseIpv4(dotted[2]);
    if (!v4) return null;
    text = `${dotted[1]}${((v4[0] << 8) | v4[1]).toString(16)}:${((v4[2] << 8) | v4[3]).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const groups = [...head, ...Array(Math.max(fill, 0)).fill('0'), ...tail];
  if (groups.length !== 8 || !groups.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return null;
  return groups.map((g) => parseInt(g, 16));
}

function isPublicIpv6(addr: string): boolean {
  const g = expandIpv6(addr);
  if (!g) return false;
  if (g.every((x) => x === 0)) return false; // ::
  if (g.slice(0, 7).every((x) => x === 0) && g[7] === 1) return false; // ::1
  if (g.slice(0, 5).every((x) => x === 0) && (g[5] === 0xffff || g[5] === 0)) {
    // IPv4-mapped / -compatible: judge the IPv4 address inside.
    return isPublicIpv4([g[6] >> 8, g[6] & 0xff, g[7] >> 8, g[7] & 0xff]);
  }
  if ((g[0] & 0xfe00) === 0xfc00) return false; // unique local fc00::/7
  if ((g[0] & 0xffc0) === 0xfe80) return false; // link-local fe80::/10
  if ((g[0] & 0xff00) === 0xff00) return false; // multicast
  if (g[0] === 0x64 && g[1] === 0xff9b) return false; // NAT64 can reach private IPv4
  if (g[0] === 0x2001 && g[1] === 0x0db8) return false; // documentation
  return true;
}
