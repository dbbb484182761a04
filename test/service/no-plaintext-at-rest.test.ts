import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { sendEmailOtp, verifyEmailOtp } from '../../src/service/factors/email-otp.js';
import { verifyTotp } from '../../src/service/factors/verify-totp.js';
import { generateRecoveryCodes } from '../../src/service/recovery-codes/generate-recovery-codes.js';
import { verifyRecoveryCode } from '../../src/service/recovery-codes/verify-recovery-code.js';
import { backendAuthority } from '../../src/service/sign-in/change-authority.js';
import { testEngines } from '../helpers/engines.js';
import { authenticatorCode, configureRecoveryCodes, enableTotp } from '../helpers/mfa.js';
import { createTestEnvironment, createTestUser, type TestEnvironment } from '../helpers/service-deps.js';
import { holdsToken, storedRows, storedText } from '../helpers/stored-text.js';

/** Every spelling under which a code could have been written down. */
function spellings(code: string): string[] {
  const canonical = code.replaceAll('-', '');
  return [code, canonical, canonical.toLowerCase(), code.toLowerCase(), canonical.slice(1)];
}

/**
 * STANDARDS req 4, 16 and 25: after codes are generated and used, a TOTP seed is enrolled and its codes
 * used, and emailed codes are sent and used, neither the raw database bytes nor any row (the audit table
 * included) contain any code or seed, in any spelling; the 6-digit codes not even as a whole token.
 */
describe.each(testEngines())('no plaintext secret at rest on %s', (engine) => {
  let env: TestEnvironment;
  beforeEach(async () => {
    env = await createTestEnvironment(engine);
    await configureRecoveryCodes(env);
  });
  afterEach(async () => env.close());

  test('the database holds no recovery code, TOTP seed, TOTP code or emailed code', async () => {
    const secrets: string[] = [];
    const codes6: string[] = [];
    for (let i = 0; i < 3; i++) {
      const user = await createTestUser(env);
      const { secret: secretBase32, recoveryCodes } = await enableTotp(env, user.id);
      secrets.push(secretBase32, ...recoveryCodes!.codes);
      // enableTotp confirmed with the code of the step before its clock advance; then a sign-in's code.
      codes6.push(authenticatorCode(secretBase32, env.clock.nowMs - 30_000));
      const totp = authenticatorCode(secretBase32, env.clock.nowMs);
      expect((await verifyTotp(env.deps, { userId: user.id, code: totp, context: {} })).ok).toBe(true);
      codes6.push(totp);
      const attemptId = `at-rest-${i}`;
      expect((await sendEmailOtp(env.deps, { userId: user.id, attemptId, context: {} })).ok).toBe(true);
      const emailed = env.smtp.messages.at(-1)?.text.match(/\b(\d{6})\b/)?.[1] as string;
      const used = await verifyEmailOtp(env.deps, { userId: user.id, attemptId, code: emailed, context: {} });
      expect(used.ok).toBe(true);
      codes6.push(emailed);
      const regenerated = await generateRecoveryCodes(env.deps, {
        authority: backendAuthority({ kind: 'library', actorId: 'test' }),
        userId: user.id,
        context: {},
      });
      if (!regenerated.ok) throw new Error(regenerated.error);
      secrets.push(...regenerated.value.codes);
      await verifyRecoveryCode(env.deps, { userId: user.id, code: regenerated.value.codes[0]!, context: {} });
    }
    // The raw bytes (SQLite) and every row through SQL (integers as digits, on both engines).
    const text = `${await storedText(env)}\n${await storedRows(env)}`;
    expect(text.length).toBeGreaterThan(1000);
    const found = secrets
      .flatMap((secret) => spellings(secret))
      .filter((spelling) => text.includes(spelling));
    expect(found).toEqual([]);
    // 6-digit codes would hit any timestamp as substrings: searched as whole tokens (stored-text.ts).
    expect(codes6.filter((code) => holdsToken(text, code))).toEqual([]);
  });
});
