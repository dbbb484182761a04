import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import type { Principal } from './authorization-world.js';

/**
 * What the fuzz suites send and how they judge an answer: the field names that exist anywhere in the API
 * and pages (privileged and identity ones included), hostile strings and values, the caller that gets
 * furthest into each route, and the error-shape check every 4xx must pass.
 */
export const FIELDS = [
  'email',
  'password',
  'code',
  'factorId',
  'reason',
  'enabled',
  'roles',
  'name',
  'scopes',
  'token',
  'saved',
  'allowedRoles',
  'codesPerSet',
  'groupSize',
  'lowThreshold',
  'policy',
  'format',
  'q',
  'days',
  'action',
  'mfaRequiredRoles',
  'slotLength',
  'secretLength',
  'totpCode',
  'user',
  'from',
  'to',
  'bulk',
  'userId',
  'actorId',
  'id',
  'mfaEnabled',
  'keyId',
  'stage',
  'limit',
  'beforeSeq',
  'emailPrefix',
  'after',
  'since',
  'until',
  'response',
  'ceremonyId',
  'securityKey',
  'rememberBrowser',
  'junk',
  '__proto__',
  'constructor',
];
export const HOSTILE = [
  "' OR 1=1 --",
  '"; DROP TABLE users; --',
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  'a\u0000b',
  '\u0000',
  '\uFFFF',
  '\uD800',
  '𝕊𝕡𝕒𝕣𝕖',
  'ｋ－７Ｑ２ＭＸ',
  'K-7Q2MX-9HD4T',
  '../../etc/passwd',
  '%00',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal log4shell probe, not a template.
  '${jndi:ldap://x}',
  '{{7*7}}',
  'NaN',
  '-1',
  '1e309',
  '9007199254740993',
  'true',
  'null',
  '[]',
  '{}',
  '',
  ' ',
  '\r\n',
  'x'.repeat(5000),
];

export const hostileString = fc.oneof(
  fc.constantFrom(...HOSTILE),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
);
export const hostileValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    hostileString,
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom(...FIELDS), tie('value'), { maxKeys: 3 }),
  ),
})).value;

/** The caller that gets furthest into each route, so the input reaches its validation and use case. */
export function callerFor(url: string): Principal {
  if (url.startsWith('/api/v1/auth/second-factor') || url.startsWith('/sign-in/')) return 'pending';
  if (url.startsWith('/api/v1/me') || url.startsWith('/api/v1/auth')) return 'user';
  if (url.startsWith('/api/')) return 'key:admin';
  return 'admin';
}

/** Why an answer breaks the rules (a 5xx, a 4xx outside the error shape), or undefined when it does not. */
export function problemWith(response: LightMyRequestResponse, template: string): string | undefined {
  if (response.statusCode >= 500) return `status ${response.statusCode}: ${response.body.slice(0, 200)}`;
  if (response.statusCode < 400) return undefined;
  const type = String(response.headers['content-type'] ?? '');
  if (template.startsWith('/api/') || type.includes('json')) {
    const body = JSON.parse(response.body) as { error?: { code?: unknown; message?: unknown } };
    if (typeof body.error?.code !== 'string' || typeof body.error?.message !== 'string')
      return `no error shape: ${response.body.slice(0, 200)}`;
    return undefined;
  }
  if (!type.startsWith('text/html')) return `a ${type} error page`;
  if (/\bat [\w.<>]+ \(|node_modules|Error: /.test(response.body)) return 'a stack trace on the page';
  if (!/role="alert"|<h1>/.test(response.body)) return 'an error page with no message';
  return undefined;
}
