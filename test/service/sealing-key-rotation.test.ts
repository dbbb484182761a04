import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  readSealingKeysFile,
  sealingKeySource,
  writeSealingKeysFile,
} from '../../src/config/sealing-keys-file.js';
import { buildSealingKeyRing, sealingKeyFromBytes } from '../../src/core/sealing-key-ring.js';
import { openSecret, sealedKeyId } from '../../src/core/secret-box.js';
import { countSealedSecretsByKey, resealSecrets } from '../../src/service/admin/reseal-secrets.js';
import { verifyTotp } from '../../src/service/factors/verify-totp.js';
import { loadSigningKeys, rotateSigningKeys } from '../../src/service/oidc/signing-keys.js';
import { systemRandom } from '../../src/service/ports/system-random.js';
import { testEngines } from '../helpers/engines.js';
import { authenticatorCode, enableTotp } from '../helpers/mfa.js';
import { createTestEnvironment, createTestUser, type TestEnvironment } from '../helpers/service-deps.js';

/**
 * Issue 6.3 / STANDARDS req 25: TOTP seeds are sealed with AES-256-GCM under a key held outside the
 * database, and `sparekey secret rotate` re-seals every seed under a new key, after which the old key is
 * no longer needed to open any of them.
 */
describe.each(testEngines())('sealing-key rotation on %s', (engine) => {
  let env: TestEnvironment;
  let dir: string;
  let keyFile: string;
  beforeEach(async () => {
    env = await createTestEnvironment(engine);
    dir = mkdtempSync(join(tmpdir(), 'sparekey-keys-'));
    keyFile = join(dir, 'sealing-keys');
    env.deps.sealingKeys = sealingKeySource({ source: 'file', path: keyFile }, env.deps.keys.sealingKey);
  });
  afterEach(async () => {
    await env.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function enrolledUsers(count: number) {
    const users: { id: string; secretBase32: string }[] = [];
    for (let i = 0; i < count; i++) {
      const user = await createTestUser(env);
      const { secret: secretBase32 } = await enableTotp(env, user.id);
      users.push({ id: user.id, secretBase32 });
    }
    return users;
  }

  async function signsIn(user: { id: string; secretBase32: string }) {
    env.clock.advance(30_000);
    const code = authenticatorCode(user.secretBase32, env.clock.nowMs);
    return (await verifyTotp(env.deps, { userId: user.id, code, context: {} })).ok;
  }

  test('re-seals every seed under the new key; the old key is then needed by none', async () => {
    const users = await enrolledUsers(3);
    const oldId = env.deps.keys.sealingKey.id;
    expect(await countSealedSecretsByKey(env.deps)).toEqual({ [oldId]: 3 });

    const next = sealingKeyFromBytes(systemRandom.bytes(32));
    writeSealingKeysFile(keyFile, [next]);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    // The running source picks up the new file: new enrolments are sealed under the new key at once.
    const late = await enrolledUsers(1);
    const report = await resealSecrets(env.deps, { context: { actorId: 'cli' } });
    expect(report).toEqual({
      currentKeyId: next.id,
      resealed: 3,
      resealedSigningKeys: 0,
      unreadable: 0,
      byKey: { [next.id]: 4 },
    });

    // Only the new key in the ring (the server-secret key replaced by an unrelated one): every seed opens.
    const stranger = sealingKeyFromBytes(systemRandom.bytes(32));
    env.deps.sealingKeys = { ring: () => buildSealingKeyRing([next], stranger) };
    for (const user of [...users, ...late]) expect(await signsIn(user)).toBe(true);

    // Idempotent: a second run has nothing to do; the audit log records each run without any key.
    expect((await resealSecrets(env.deps, { context: {} })).resealed).toBe(0);
    const events = await env.deps.store.listAuditEvents({ action: 'sealing_key_rotated', limit: 10 });
    expect(events.map((event) => event.details)).toContainEqual({
      keyId: next.id,
      resealed: 3,
      resealedSigningKeys: 0,
      unreadable: 0,
    });
  });

  test('the OpenID Connect signing keys are re-sealed with the seeds; the old key opens none of them afterwards', async () => {
    // The first key (generated at first start) and a rotated one, still published: both sealed at rest.
    await loadSigningKeys(env.deps);
    env.clock.advance(1000);
    await rotateSigningKeys(env.deps, {});
    const opened = await loadSigningKeys(env.deps);
    expect(opened).toHaveLength(2);
    const oldKey = env.deps.keys.sealingKey;
    // Counted with the seeds, so `secret prune` keeps a key that still seals a signing key.
    expect(await countSealedSecretsByKey(env.deps)).toEqual({ [oldKey.id]: 2 });

    const next = sealingKeyFromBytes(systemRandom.bytes(32));
    writeSealingKeysFile(keyFile, [next]);
    const report = await resealSecrets(env.deps, { context: {} });
    expect(report).toMatchObject({ resealed: 0, resealedSigningKeys: 2, unreadable: 0 });
    expect(report.byKey).toEqual({ [next.id]: 2 });

    const oldRing = buildSealingKeyRing([], oldKey);
    for (const row of await env.deps.store.listOidcSigningKeys(env.clock.now())) {
      expect(sealedKeyId(row.sealedJwk)).toBe(next.id);
      expect(openSecret(oldRing.opening, row.sealedJwk, `oidc-key:${row.kid}`)).toBeUndefined();
    }
    // With the old key gone from the ring, the provider still opens the same keys (same kids, same keys).
    const stranger = sealingKeyFromBytes(systemRandom.bytes(32));
    env.deps.sealingKeys = { ring: () => buildSealingKeyRing([next], stranger) };
    expect(await loadSigningKeys(env.deps)).toEqual(opened);
    expect((await resealSecrets(env.deps, { context: {} })).resealedSigningKeys).toBe(0);
  });

  test('a seed no key opens is reported and left as it is; sign-in with it fails closed', async () => {
    const [user] = await enrolledUsers(1);
    const next = sealingKeyFromBytes(systemRandom.bytes(32));
    // The server-secret key is gone from the ring (as if SPAREKEY_SECRET were replaced): nothing opens.
    env.deps.sealingKeys = { ring: () => buildSealingKeyRing([next], next) };
    const report = await resealSecrets(env.deps, { context: {} });
    expect(report).toMatchObject({ resealed: 0, unreadable: 1 });
    const [row] = await env.deps.store.listSealedSecrets(null, 10);
    expect(sealedKeyId(row!.secretCiphertext)).toBe(env.deps.keys.sealingKey.id);
    expect(await signsIn(user!)).toBe(false);
  });

  test('a damaged key file keeps the last good ring rather than refusing every sign-in', async () => {
    const [user] = await enrolledUsers(1);
    const next = sealingKeyFromBytes(systemRandom.bytes(32));
    writeSealingKeysFile(keyFile, [next]);
    await resealSecrets(env.deps, { context: {} });
    const { writeFileSync } = await import('node:fs');
    writeFileSync(keyFile, 'not a key\n');
    expect(() => readSealingKeysFile(keyFile)).toThrow(/damaged/);
    expect(await signsIn(user!)).toBe(true);
  });
});
