import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { hashSessionToken, SESSION_LIFETIMES } from '../../src/core/session-token.js';
import { createUser, signInWithPassword } from '../../src/service/accounts/accounts.js';
import { createFirstAdmin, needsFirstAdmin } from '../../src/service/accounts/first-admin.js';
import { resolveSession, rotateSession, startSession } from '../../src/service/sessions/sessions.js';
import { testEngines } from '../helpers/engines.js';
import { enableTotp } from '../helpers/mfa.js';
import { createTestEnvironment, type TestEnvironment } from '../helpers/service-deps.js';

const PASSWORD = 'harbor-lantern-quiet-19';

describe.each(testEngines())('accounts and sessions on %s', (engine) => {
  let env: TestEnvironment;
  beforeEach(async () => {
    env = await createTestEnvironment(engine);
  });
  afterEach(async () => env.close());

  test('the password is stored only as a peppered argon2id hash; sign-in works; an audit event names no password', async () => {
    const created = await createUser(env.deps, {
      email: 'Ada@Example.test',
      password: PASSWORD,
      context: {},
    });
    if (!created.ok) throw new Error(created.error);
    const user = await env.deps.store.findUserById(created.value.userId);
    expect(user?.passwordHash).toMatch(/^\$argon2id\$/);
    expect(user?.passwordHash).not.toContain(PASSWORD);
    expect(user?.roles).toEqual(['subscriber']);
    const signedIn = await signInWithPassword(env.deps, {
      email: 'ada@example.TEST',
      password: PASSWORD,
      context: {},
    });
    expect(signedIn.ok && signedIn.value.secondFactorRequired).toBe(false);
    const events = await env.deps.store.listAuditEvents({ limit: 10 });
    expect(JSON.stringify(events)).not.toContain(PASSWORD);
  });

  test('a right password with a second factor owed is audited as password_verified, never as a sign-in', async () => {
    const created = await createUser(env.deps, {
      email: 'grace@example.test',
      password: PASSWORD,
      context: {},
    });
    if (!created.ok) throw new Error(created.error);
    const { userId } = created.value;
    await enableTotp(env, userId);
    const context = { ip: '198.51.100.23', userAgent: 'test' };
    const signedIn = await signInWithPassword(env.deps, {
      email: 'grace@example.test',
      password: PASSWORD,
      context,
    });
    expect(signedIn.ok && signedIn.value.secondFactorRequired).toBe(true);
    const events = await env.deps.store.listAuditEvents({ userId, limit: 20 });
    expect(events.find((event) => event.action === 'password_verified')).toMatchObject({
      outcome: 'success',
      ip: '198.51.100.23',
    });
    expect(events.some((event) => event.action === 'sign_in')).toBe(false);
  });

  test('of 10 concurrent first-admin setups exactly one creates an administrator', async () => {
    expect(await needsFirstAdmin(env.deps)).toBe(true);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        createFirstAdmin(env.deps, { email: `admin${i}@example.test`, password: PASSWORD, context: {} }),
      ),
    );
    expect(results.filter((result) => result.ok)).toHaveLength(1);
    expect(await env.deps.store.countUsers()).toBe(1);
    expect(await needsFirstAdmin(env.deps)).toBe(false);
  });

  test('a session token is stored only as its hash; of 10 concurrent rotations one wins; the old token dies', async () => {
    const created = await createUser(env.deps, {
      email: 'rotate@example.test',
      password: PASSWORD,
      context: {},
    });
    if (!created.ok) throw new Error(created.error);
    const { token } = await startSession(env.deps, {
      userId: created.value.userId,
      stage: 'second_factor',
      context: {},
    });
    const stored = await env.deps.store.findSession(hashSessionToken(token) as string);
    expect(stored?.stage).toBe('second_factor');
    const rotations = await Promise.all(
      Array.from({ length: 10 }, () => rotateSession(env.deps, { token, stage: 'signed_in', context: {} })),
    );
    const winners = rotations.filter((rotation) => rotation !== undefined);
    expect(winners).toHaveLength(1);
    expect(await resolveSession(env.deps, token)).toBeUndefined();
    expect((await resolveSession(env.deps, winners[0]?.token as string))?.record.stage).toBe('signed_in');
  });

  test('a signed-in session lasts at most 12 hours even when used every few minutes', async () => {
    const created = await createUser(env.deps, {
      email: 'absolute@example.test',
      password: PASSWORD,
      context: {},
    });
    if (!created.ok) throw new Error(created.error);
    const { token } = await startSession(env.deps, {
      userId: created.value.userId,
      stage: 'signed_in',
      context: {},
    });
    let alive = 0;
    for (let elapsed = 0; elapsed <= SESSION_LIFETIMES.signedInAbsoluteMs + 600_000; elapsed += 10 * 60_000) {
      if (await resolveSession(env.deps, token)) alive = elapsed;
      env.clock.advance(10 * 60_000);
    }
    expect(alive).toBeLessThan(SESSION_LIFETIMES.signedInAbsoluteMs);
    expect(alive).toBeGreaterThanOrEqual(SESSION_LIFETIMES.signedInAbsoluteMs - 10 * 60_000);
  });
});
