import { describe, expect, it } from 'vitest';
import { checkWebhookUrl } from '../../src/domain/webhook-url';

const strict = { allowInsecure: false, maxLength: 200 };
const local = { allowInsecure: true, maxLength: 200 };

describe('checkWebhookUrl (production rules)', () => {
  it.each([
    'https://example.com/webhooks/twitter',
    'https://hooks.example.co.uk/a?b=c',
    'https://8.8.8.8/hook',
    'https://[2606:4700::1111]/hook',
  ])('accepts %s', (url) => {
    expect(checkWebhookUrl(url, strict).ok).toBe(true);
  });

  it.each([
    ['http://example.com/hook', 'https'],
    ['https://example.com:8443/hook', 'port'],
    ['https://user:pw@example.com/hook', 'credentials'],
    ['https://example.com/hook#frag', 'fragment'],
    ['https://localhost/hook', 'localhost'],
    ['https://api.localhost/hook', 'localhost'],
    ['https://intranet/hook', 'fully qualified'],
    ['https://127.0.0.1/hook', 'non-public'],
    ['https://10.0.0.1/hook', 'non-public'],
    ['https://172.16.5.4/hook', 'non-public'],
    ['https://192.168.1.1/hook', 'non-public'],
    ['https://169.254.169.254/latest', 'non-public'],
    ['https://100.64.0.1/hook', 'non-public'],
    ['https://0.0.0.0/hook', 'non-public'],
    ['https://2130706433/hook', 'non-public'], // decimal 127.0.0.1
    ['https://0177.0.0.1/hook', 'non-public'], // octal 127.0.0.1
    ['https://0x7f.0.0.1/hook', 'non-public'], // hex 127.0.0.1
    ['https://[::1]/hook', 'non-public'],
    ['http://[::1]/hook', 'https'],
    ['https://3232235777/hook', 'non-public'], // decimal 192.168.1.1
    ['https://[::]/hook', 'non-public'],
    ['https://[fe80::1]/hook', 'non-public'],
    ['https://[fd00::1]/hook', 'non-public'],
    ['https://[::ffff:10.0.0.1]/hook', 'non-public'],
    ['https://[::ffff:7f00:1]/hook', 'non-public'],
    ['not a url', 'absolute'],
    ['ftp://example.com/x', 'https'],
    [`https://example.com/${'a'.repeat(200)}`, 'at most 200'],
  ])('rejects %s (%s)', (url, why) => {
    const result = checkWebhookUrl(url, strict);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toContain(why);
  });

  it('normalizes so that spelling variants compare equal', () => {
    const a = checkWebhookUrl('https://EXAMPLE.com:443/a/../hook', strict);
    const b = checkWebhookUrl('https://example.com/hook', strict);
    expect(a).toEqual(b);
  });
});

describe('checkWebhookUrl (ALLOW_INSECURE_WEBHOOKS)', () => {
  it('allows http, ports and loopback for local development', () => {
    expect(checkWebhookUrl('http://127.0.0.1:9000/hook', local)).toEqual({ ok: true, url: 'http://127.0.0.1:9000/hook' });
  });
  it('still refuses credentials and other schemes', () => {
    expect(checkWebhookUrl('http://u:p@127.0.0.1:9000/', local).ok).toBe(false);
    expect(checkWebhookUrl('file:///etc/passwd', local).ok).toBe(false);
  });
});
