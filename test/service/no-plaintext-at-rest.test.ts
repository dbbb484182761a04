import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { generateRecoveryCodes } from '../../src/service/generate-recovery-codes.js';
import { verifyRecoveryCode } from '../../src/service/verify-recovery-code.js';
import { testEngines } from '../helpers/engines.js';
import { configureRecoveryCodes, enableTotp } from '../helpers/mfa.js';
import { createTestEnvironment, createTestUser, type TestEnvironment } from '../helpers/service-deps.js';
import { storedText } from '../helpers/stored-text.js';

/** Every spelling under which a code could have been written down. */
function spellings(code: string): string[] {
  const canonical = code.replaceAll('-', '');
  return [code, canonical, canonical.toLowerCase(), code.toLowerCase(), canonical.slice(1)];
}

/**
 * STANDARDS req 4, 16 and 25: after codes are generated and used and a TOTP seed is enrolled, neither
 * the raw database bytes nor the audit table contain any code or seed, in any spelling.
 */
describe.each(testEngines())('no plaintext secret at rest on %s', (engine) => {
  let env: TestEnvironment;
  beforeEach(async () => {
    env = await createTestEnvironment(engine);
    await configureRecoveryCodes(env);
  });
  afterEach(async () => env.close());

  test('the database holds no recovery code and no TOTP seed', async () => {
    const secrets: string[] = [];
    for (let i = 0; i < 3; i++) {
      const user = await createTestUser(env);
      const { secretBase32, recoveryCodes } = await enableTotp(env, user.id);
      secrets.push(secretBase32, ...recoveryCodes!.codes);
      const regenerated = await generateRecoveryCodes(env.deps, { userId: user.id, context: {} });
      if (!regenerated.ok) throw new Error(regenerated.error);
      secrets.push(...regenerated.value.codes);
      await verifyRecoveryCode(env.deps, { userId: user.id, code: regenerated.value.codes[0]!, context: {} });
    }
    const text = await storedText(env);
    expect(text.length).toBeGreaterThan(1000);
    const found = secrets
      .flatMap((secret) => spellings(secret))
      .filter((spelling) => text.includes(spelling));
    expect(found).toEqual([]);
  });
});
