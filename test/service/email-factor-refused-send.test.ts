import { afterEach, describe, expect, test } from 'vitest';
import { DEFAULT_EMAIL_SEND_THROTTLE } from '../../src/core/throttle.js';
import { confirmEmailFactor, startEmailFactor } from '../../src/service/factors/email-factor.js';
import { verifyTotp } from '../../src/service/factors/verify-totp.js';
import { isSecondFactorLocked } from '../../src/service/throttle/throttle-counters.js';
import { testEngines } from '../helpers/engines.js';
import { enableTotp } from '../helpers/mfa.js';
import {
  createTestEnvironment,
  createTestUser,
  type TestEnvironment,
  UNTHROTTLED,
} from '../helpers/service-deps.js';
import { stateSnapshot } from '../helpers/state-snapshot.js';

/**
 * Found by the fuzz suite's "a 429 changes nothing" check: starting email enrollment wrote the new pending
 * factor (dropping the earlier one) before the send was charged, so a refused send left the user with no
 * usable enrollment: the code already in their inbox was bound to the factor just deleted.
 */
describe.each(testEngines())('starting email enrollment when the send is refused, on %s', (engine) => {
  let env: TestEnvironment;
  afterEach(async () => env?.close());

  test('too many emails: refused, nothing written, and the code already sent still confirms', async () => {
    env = await createTestEnvironment(engine);
    const user = await createTestUser(env);
    let last: { factorId: string } | undefined;
    for (let i = 0; i < DEFAULT_EMAIL_SEND_THROTTLE.freeFailures; i++) {
      const started = await startEmailFactor(env.deps, { userId: user.id, context: {} });
      if (!started.ok) throw new Error(`send ${i + 1}: ${started.error}`);
      last = started.value;
    }
    const code = env.smtp.messages.at(-1)?.text.match(/\b(\d{6})\b/)?.[1] as string;
    const sent = env.smtp.messages.length;

    const before = await stateSnapshot(env);
    const refused = await startEmailFactor(env.deps, { userId: user.id, context: {} });
    expect(refused).toMatchObject({ ok: false, error: 'too_many_attempts' });
    expect(env.smtp.messages.length).toBe(sent);
    expect(await stateSnapshot(env)).toBe(before);

    const confirmed = await confirmEmailFactor(env.deps, {
      userId: user.id,
      factorId: last!.factorId,
      code,
      context: {},
    });
    expect(confirmed.ok).toBe(true);
  });

  test('second factors locked: refused, nothing written, and the code already sent is kept', async () => {
    const lockAtSecondFailure = { freeFailures: 1, baseDelayMs: 1000, maxDelayMs: 1000, forgetAfterMs: null };
    env = await createTestEnvironment(engine, {
      throttle: { ...UNTHROTTLED, account: { ...lockAtSecondFailure, lockAfter: 2 } },
    });
    const user = await createTestUser(env);
    await enableTotp(env, user.id);
    const started = await startEmailFactor(env.deps, { userId: user.id, context: {} });
    if (!started.ok) throw new Error(started.error);
    for (let i = 0; i < 2; i++) {
      await verifyTotp(env.deps, { userId: user.id, code: '000000', context: {} });
      env.clock.advance(1000);
    }
    expect(await isSecondFactorLocked(env.deps, user.id)).toBe(true);

    const before = await stateSnapshot(env);
    expect(await startEmailFactor(env.deps, { userId: user.id, context: {} })).toMatchObject({
      ok: false,
      error: 'mfa_locked',
    });
    expect(await stateSnapshot(env)).toBe(before);
    expect(await env.deps.store.findFactor(user.id, started.value.factorId)).toBeDefined();
  });
});
