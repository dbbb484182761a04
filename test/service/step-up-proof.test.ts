import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createUser } from '../../src/service/accounts/accounts.js';
import { disableMfa, removeFactor } from '../../src/service/factors/manage-mfa.js';
import { generateRecoveryCodes } from '../../src/service/recovery-codes/generate-recovery-codes.js';
import { type BackendAuthority, backendAuthority } from '../../src/service/sign-in/change-authority.js';
import { StepUpProof, verifyStepUp } from '../../src/service/sign-in/step-up.js';
import { testEngines } from '../helpers/engines.js';
import { configureRecoveryCodes, enableTotp } from '../helpers/mfa.js';
import { createTestEnvironment, type TestEnvironment, UNTHROTTLED } from '../helpers/service-deps.js';

/**
 * Issue 20: regenerate codes, remove a factor and disable two-factor (and a password change, through its own
 * current-password check) accept an end user's session only with a step-up proof, which only step-up.ts
 * makes. The first test is checked by `tsc` (each `@ts-expect-error` must meet an error, or the type check
 * fails); it is never called, because at run time TypeScript's `private` is gone.
 */
function forgeriesThatDoNotTypeCheck(userId: string) {
  // @ts-expect-error an object literal with a proof's fields is not a StepUpProof
  const literal: StepUpProof = { userId, method: 'password', sessionToken: 'a-session-token' };
  // @ts-expect-error the constructor is private to step-up.ts
  const constructed = new StepUpProof(userId, 'password', 'a-session-token');
  // @ts-expect-error nor is `{ kind: 'backend', actorId }` a backend's authority
  const backend: BackendAuthority = { kind: 'backend', actorKind: 'api_key', actorId: 'apikey:x' };
  // @ts-expect-error and an action without any authority does not type-check either
  const missing: Parameters<typeof disableMfa>[1] = { userId, context: {} };
  return [literal, constructed, backend, missing];
}

describe.each(testEngines())('the step-up proof on %s', (engine) => {
  let env: TestEnvironment;
  let userId: string;
  const password = 'proof-owner-pass-phrase-7';
  beforeAll(async () => {
    env = await createTestEnvironment(engine, { throttle: UNTHROTTLED });
    await configureRecoveryCodes(env);
    const created = await createUser(env.deps, {
      email: `proof-${engine}@example.test`,
      password,
      context: {},
    });
    if (!created.ok) throw new Error(created.error);
    userId = created.value.userId;
    await enableTotp(env, userId);
  });
  afterAll(async () => env?.close());

  const prove = async (forUser = userId) => {
    const proved = await verifyStepUp(env.deps, { userId: forUser, password, context: {} });
    if (!proved.ok) throw new Error(proved.error);
    return proved.value;
  };

  test('an edge cannot forge a proof or a backend authority by writing an object literal (tsc checks it)', () => {
    // The type errors above are the test; this only keeps the function referenced, never running it.
    expect(forgeriesThatDoNotTypeCheck).toBeTypeOf('function');
  });

  test('a look-alike object is refused at run time too (a JavaScript caller has no type check)', async () => {
    const lookAlike = { userId, method: 'password', sessionToken: undefined, kind: 'backend', actorId: 'x' };
    await expect(
      generateRecoveryCodes(env.deps, { userId, authority: lookAlike as never, context: {} }),
    ).rejects.toThrow(TypeError);
    const onPrototype = Object.create(StepUpProof.prototype) as StepUpProof;
    await expect(disableMfa(env.deps, { userId, authority: onPrototype, context: {} })).rejects.toThrow(
      TypeError,
    );
    expect((await env.deps.store.listFactors(userId)).length).toBe(1);
  });

  test('a proof authorizes one change, to its own account only', async () => {
    const proof = await prove();
    expect(proof).toBeInstanceOf(StepUpProof);
    expect(proof.method).toBe('password');
    const first = await generateRecoveryCodes(env.deps, { userId, authority: proof, context: {} });
    expect(first.ok).toBe(true);
    await expect(generateRecoveryCodes(env.deps, { userId, authority: proof, context: {} })).rejects.toThrow(
      /one change/,
    );
    const other = await createUser(env.deps, {
      email: `other-${engine}@example.test`,
      password,
      context: {},
    });
    if (!other.ok) throw new Error(other.error);
    await expect(
      removeFactor(env.deps, {
        userId: other.value.userId,
        factorId: 'x',
        authority: await prove(),
        context: {},
      }),
    ).rejects.toThrow(/own account/);
  });

  test('a backend authority needs no proof and rotates no session', async () => {
    const authority = backendAuthority({ kind: 'api_key', actorId: 'apikey:test' });
    expect(authority.kind).toBe('backend');
    const generated = await generateRecoveryCodes(env.deps, { userId, authority, context: {} });
    expect(generated.ok && generated.value.token).toBeUndefined();
    expect(generated.ok).toBe(true);
  });
});
