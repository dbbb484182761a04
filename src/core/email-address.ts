import { fail, ok, type Result } from './result.js';

/** RFC 5321 4.5.3.1.3: a path is at most 256 octets, so an address is at most 254 characters. */
export const MAX_EMAIL_LENGTH = 254;

// Deliberately loose (one @, no spaces, a dot in the domain): the only real check of an address is mail
// reaching it, and a strict RFC 5322 pattern refuses addresses people actually use.
const EMAIL_SHAPE = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/u;

/** Trims an address typed into a form and checks its shape; case is kept (the store compares it folded). */
export function parseEmailAddress(input: string): Result<string, 'invalid_email'> {
  const email = input.trim();
  if (email.length === 0 || email.length > MAX_EMAIL_LENGTH || !EMAIL_SHAPE.test(email)) {
    return fail('invalid_email');
  }
  return ok(email);
}
