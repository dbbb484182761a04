import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { verifyTotp } from '../../src/service/factors/verify-totp.js';
import { generateRecoveryCodes } from '../../src/service/recovery-codes/generate-recovery-codes.js';
import { getRecoveryCodeStatus } from '../../src/service/recovery-codes/recovery-code-status.js';
import { verifyRecoveryCode } from '../../src/service/recovery-codes/verify-recovery-code.js';
import { backendAuthority } from '../../src/service/sign-in/change-authority.js';
import { testEngines } from '../helpers/engines.js';
import { authenticatorCode, configureRecoveryCodes, enableTotp } from '../helpers/mfa.js';
import {
  createTestEnvironment,
  createTestUser,
  type TestEnvironment,
  UNTHROTTLED,
} from '../helpers/service-deps.js';

/** The field defects of ../shared/FIELD-DEFECTS.md, attempted through the use cases. */
describe.each(testEngines())('use cases under concurrency on %s', (engine) => {
  // One environment per engine: every test races on a user of its own and reads only that user's state.
  let env: TestEnvironment;
  beforeAll(async () => {
    env = await createTestEnvironment(engine, { throttle: UNTHROTTLED });
    await configureRecoveryCodes(env);
  });
  afterAll(async () => env?.close());

  test('req 3: 50 concurrent uses of one recovery code give exactly one success', async () => {
    const user = await createTestUser(env);
    const { codes } = (await enableTotp(env, user.id)).recoveryCodes!;
    const results = await Promise.all(
      Array.from({ length: 50 }, () =>
        verifyRecoveryCode(env.deps, { userId: user.id, code: codes[0]!, context: {} }),
      ),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok).every((r) => !r.ok && r.error === 'code_already_used')).toBe(true);
    expect(await getRecoveryCodeStatus(env.deps, { userId: user.id })).toMatchObject({ remaining: 9 });
    const used = await env.deps.store.listAuditEvents({
      userId: user.id,
      action: 'recovery_code_used',
      limit: 100,
    });
    expect(used).toHaveLength(1);
  });

  test('req 3: different codes spent concurrently all succeed and none comes back', async () => {
    const user = await createTestUser(env);
    const { codes } = (await enableTotp(env, user.id)).recoveryCodes!;
    const results = await Promise.all(
      codes.slice(0, 6).map((code) => verifyRecoveryCode(env.deps, { userId: user.id, code, context: {} })),
    );
    expect(results.every((r) => r.ok)).toBe(true);
    expect(await getRecoveryCodeStatus(env.deps, { userId: user.id })).toMatchObject({ remaining: 4 });
    for (const code of codes.slice(0, 6)) {
      expect(await verifyRecoveryCode(env.deps, { userId: user.id, code, context: {} })).toEqual({
        ok: false,
        error: 'code_already_used',
      });
    }
  });

  test('req 12: 20 concurrent regenerations leave exactly one complete live set, the last one stored', async () => {
    const user = await createTestUser(env);
    await enableTotp(env, user.id);
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        generateRecoveryCodes(env.deps, {
          authority: backendAuthority({ kind: 'library', actorId: 'test' }),
          userId: user.id,
          context: {},
        }),
      ),
    );
    const sets = results.map((r) => (r.ok ? r.value : undefined)).filter((set) => set !== undefined);
    expect(sets).toHaveLength(20);
    const status = await getRecoveryCodeStatus(env.deps, { userId: user.id });
    if (!status.hasCodes) throw new Error('no live set');
    expect(status).toMatchObject({ total: 10, remaining: 10 });
    const live = sets.find((set) => set.setId === status.setId)!;
    for (const code of live.codes.slice(0, 2)) {
      expect((await verifyRecoveryCode(env.deps, { userId: user.id, code, context: {} })).ok).toBe(true);
    }
    const dead = sets.find((set) => set.setId !== status.setId)!;
    expect(
      (await verifyRecoveryCode(env.deps, { userId: user.id, code: dead.codes[5]!, context: {} })).ok,
    ).toBe(false);
  });

  test('req 23: 50 concurrent submissions of one TOTP code give exactly one success', async () => {
    const user = await createTestUser(env);
    const { secret: secretBase32 } = await enableTotp(env, user.id);
    const code = authenticatorCode(secretBase32, env.clock.nowMs);
    const results = await Promise.all(
      Array.from({ length: 50 }, () => verifyTotp(env.deps, { userId: user.id, code, context: {} })),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok && r.error === 'totp_replayed')).toHaveLength(49);
  });
});
