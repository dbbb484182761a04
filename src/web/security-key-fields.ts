import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorCode } from '../core/errors.js';
import { errorMessage } from '../core/errors.js';
import type { Result } from '../core/result.js';
import { errorStatus } from '../http/error-status.js';
import { cookieAttributes, field } from './web-context.js';

/** A key's answer is a few hundred bytes of JSON (attestation `none`); anything longer is refused. */
const MAX_RESPONSE_LENGTH = 12_000;

/**
 * The key's answer posted by public/webauthn.js in a form field, parsed; undefined when missing or not
 * JSON. Its shape is checked by @simplewebauthn/server in the use case, which refuses anything else.
 */
export function keyResponseField<T>(request: FastifyRequest, name = 'response'): T | undefined {
  const text = field(request, name, MAX_RESPONSE_LENGTH + 1);
  if (!text || text.length > MAX_RESPONSE_LENGTH) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as T)
      : undefined;
  } catch {
    return undefined;
  }
}

/** A ceremony's options as JSON for public/webauthn.js, or the refusal in the API's error shape. */
export function sendKeyOptions<T>(reply: FastifyReply, result: Result<T, ErrorCode>): FastifyReply {
  reply.header('cache-control', 'no-store');
  if (result.ok) return reply.send({ options: result.value });
  return reply
    .code(errorStatus(result.error))
    .send({ error: { code: result.error, message: errorMessage(result.error) } });
}

/**
 * Passkey sign-in starts with no session: its challenge is bound to a random ceremony id kept in this
 * cookie for the 5 minutes the challenge lives, so only the browser that asked can answer it.
 */
export const PASSKEY_COOKIE = '__Host-sparekey_passkey';

export function startPasskeyCeremony(reply: FastifyReply): string {
  const ceremonyId = randomBytes(32).toString('base64url');
  reply.setCookie(PASSKEY_COOKIE, ceremonyId, { ...cookieAttributes, maxAge: 5 * 60 });
  return ceremonyId;
}

export function endPasskeyCeremony(request: FastifyRequest, reply: FastifyReply): string | undefined {
  const ceremonyId = request.cookies[PASSKEY_COOKIE];
  reply.clearCookie(PASSKEY_COOKIE, cookieAttributes);
  return ceremonyId && ceremonyId.length <= 64 ? ceremonyId : undefined;
}
