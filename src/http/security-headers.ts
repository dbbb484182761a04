import fastifyHelmet, { type FastifyHelmetOptions } from '@fastify/helmet';
import Fastify from 'fastify';

/**
 * Strict CSP: scripts and styles only from our own files (no inline code at all), images from us or
 * data: (none today), forms post only to us, and no framing (clickjacking). With a cookie domain (forward
 * auth), a form may also end at a protected app on that domain: browsers apply form-action to the
 * redirects after a submission, and the end of a sign-in is a redirect back to the app the person came from.
 */
function contentSecurityPolicy(cookieDomain: string | null | undefined) {
  const formAction = ["'self'"];
  if (cookieDomain) formAction.push(`${cookieDomain}:*`, `*.${cookieDomain}:*`);
  return {
    useDefaults: false,
    directives: {
      defaultSrc: ["'none'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      formAction,
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
    },
  };
}

/**
 * The security headers of every answer (helmet, registered for the whole app in register-web.ts), for a
 * SpareKey with this forward-auth cookie domain (none: forms end only on SpareKey itself).
 */
export function helmetOptionsFor(cookieDomain?: string | null): FastifyHelmetOptions {
  return {
    contentSecurityPolicy: contentSecurityPolicy(cookieDomain),
    referrerPolicy: { policy: 'no-referrer' },
    crossOriginEmbedderPolicy: false,
  };
}

/** Headers any answer has whether helmet ran or not; not part of the security set. */
const TRANSPORT_HEADERS = new Set(['content-type', 'content-length', 'date', 'connection', 'keep-alive']);

/**
 * The exact headers helmet sets with `helmetOptionsFor(cookieDomain)`, as name/value pairs. Some answers are made before
 * any hook runs (a URL Fastify cannot decode, an over-long path parameter, a request the HTTP parser
 * refuses), so helmet's onRequest hook never sees them; framework-errors.ts sets these instead. Read from
 * helmet itself, once, so the two can never disagree.
 */
export async function securityHeaders(cookieDomain?: string | null): Promise<[string, string][]> {
  const probe = Fastify();
  await probe.register(fastifyHelmet, helmetOptionsFor(cookieDomain));
  probe.get('/', async () => '');
  const response = await probe.inject({ method: 'GET', url: '/' });
  await probe.close();
  return Object.entries(response.headers)
    .filter(([name]) => !TRANSPORT_HEADERS.has(name))
    .map(([name, value]) => [name, String(value)]);
}
