import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { createSpareKey } from '../../src/index.js';
import { testEngines } from '../helpers/engines.js';
import { testDatabaseUrl, uniqueSchemaName } from '../helpers/postgres.js';
import { totpCode } from '../helpers/rfc6238.js';
import { startSmtpCapture } from '../helpers/smtp-capture.js';

const secret = Buffer.alloc(32, 9).toString('base64');

async function openLibrary(engine: string, smtp?: { url: string; from: string }) {
  const database =
    engine === 'sqlite'
      ? ({ kind: 'sqlite', path: join(mkdtempSync(join(tmpdir(), 'sparekey-host-')), 'host.db') } as const)
      : ({ kind: 'postgres', url: testDatabaseUrl, schema: uniqueSchemaName('host') } as const);
  const sparekey = await createSpareKey({
    database,
    secret,
    issuer: 'Example',
    kdfProfile: 'minimum',
    ...(smtp ? { smtp } : {}),
  });
  // Recovery codes are off until an operator turns them on (the master switch's default).
  await sparekey.admin.updateSettings({ enabled: true });
  return sparekey;
}

async function collect(chunks: AsyncIterable<string>): Promise<string> {
  let text = '';
  for await (const chunk of chunks) text += chunk;
  return text;
}

describe.each(testEngines())('users by the host application id on %s', (engine) => {
  test('ensure is idempotent (also when called at once), and every method takes the host id', async () => {
    const sparekey = await openLibrary(engine);
    try {
      const hostId = 'host-user-7f3a9c';
      const ensured = await Promise.all(
        Array.from({ length: 5 }, () => sparekey.users.ensure({ externalId: hostId })),
      );
      const ids = new Set(ensured.map((result) => (result.ok ? result.value.userId : result.error)));
      expect(ids.size).toBe(1);
      expect(ensured.filter((result) => result.ok && result.value.created)).toHaveLength(1);
      expect(await sparekey.users.ensure({ externalId: hostId })).toMatchObject({
        ok: true,
        value: { externalId: hostId, email: null, created: false },
      });
      expect(await sparekey.users.ensure({ externalId: '' })).toEqual({
        ok: false,
        error: 'invalid_external_id',
      });
      expect(await sparekey.users.ensure({ externalId: 'x'.repeat(256) })).toEqual({
        ok: false,
        error: 'invalid_external_id',
      });

      const enrollment = await sparekey.mfa.enrollTotp({ externalId: hostId });
      if (!enrollment.ok) throw new Error(enrollment.error);
      // No email: the authenticator app shows the host's id.
      expect(enrollment.value.uri).toContain(`Example:${hostId}?`);
      const confirmed = await sparekey.mfa.confirmTotp({
        externalId: hostId,
        factorId: enrollment.value.factorId,
        code: totpCode(enrollment.value.secret, { timeMs: Date.now() }),
      });
      if (!confirmed.ok) throw new Error(confirmed.error);
      const codes = confirmed.value.recoveryCodes?.codes ?? [];
      expect(codes).toHaveLength(10);
      expect(
        await sparekey.recoveryCodes.verify({ externalId: hostId, code: codes[0] as string }),
      ).toMatchObject({
        ok: true,
      });
      expect(await sparekey.recoveryCodes.verify({ externalId: hostId, code: codes[0] as string })).toEqual({
        ok: false,
        error: 'code_already_used',
      });
      expect(await sparekey.recoveryCodes.status({ externalId: hostId })).toMatchObject({ remaining: 9 });
      expect((await sparekey.mfa.overview({ externalId: hostId })).mfaEnabled).toBe(true);
      expect(await sparekey.mfa.enrollTotp({ externalId: 'nobody-has-this-id' })).toEqual({
        ok: false,
        error: 'user_not_found',
      });
      // The rest of the by-user methods through the same lookup: roles, and turning two-factor off.
      expect(await sparekey.users.assignRoles({ externalId: hostId, roles: ['editor'] })).toEqual({
        ok: true,
        value: { roles: ['editor'] },
      });
      expect(await sparekey.mfa.disable({ externalId: hostId })).toMatchObject({
        ok: true,
        value: { factorsRemoved: 1 },
      });
      expect((await sparekey.mfa.overview({ externalId: hostId })).mfaEnabled).toBe(false);
    } finally {
      await sparekey.close();
    }
  });

  test('emailed codes and removing a factor by host id: start, confirm, send, verify, remove', async () => {
    const smtp = await startSmtpCapture();
    const sparekey = await openLibrary(engine, { url: smtp.url, from: 'SpareKey <no-reply@example.test>' });
    /** The six-digit code in the newest email (each send is awaited before it answers). */
    const emailedCode = () => smtp.messages.at(-1)?.text.match(/\b(\d{6})\b/)?.[1] as string;
    try {
      const externalId = 'host-user-e9d7';
      const ensured = await sparekey.users.ensure({ externalId, email: 'e9d7@example.test' });
      expect(ensured.ok).toBe(true);
      const started = await sparekey.mfa.startEmailFactor({ externalId });
      if (!started.ok) throw new Error(started.error);
      const confirmed = await sparekey.mfa.confirmEmailFactor({
        externalId,
        factorId: started.value.factorId,
        code: emailedCode(),
      });
      expect(confirmed).toMatchObject({ ok: true, value: { mfaEnabled: true } });
      const sent = await sparekey.mfa.sendEmailCode({ externalId, attemptId: 'sign-in-1' });
      expect(sent.ok && sent.value.expiresAt).toBeInstanceOf(Date);
      const verified = await sparekey.mfa.verifyEmailCode({
        externalId,
        attemptId: 'sign-in-1',
        code: emailedCode(),
      });
      expect(verified.ok, JSON.stringify(verified)).toBe(true);
      // A second factor, so that one can be removed (the last one cannot: that is mfa.disable).
      const enrollment = await sparekey.mfa.enrollTotp({ externalId });
      if (!enrollment.ok) throw new Error(enrollment.error);
      const code = totpCode(enrollment.value.secret, { timeMs: Date.now() });
      const factorId = enrollment.value.factorId;
      expect((await sparekey.mfa.confirmTotp({ externalId, factorId, code })).ok).toBe(true);
      expect(await sparekey.mfa.removeFactor({ externalId, factorId })).toMatchObject({
        ok: true,
        value: { kind: 'totp' },
      });
      expect((await sparekey.mfa.overview({ externalId })).factors.map((f) => f.kind)).toEqual(['email']);
    } finally {
      await sparekey.close();
      await smtp.close();
    }
  });

  test('change email: set, taken, invalid, removed; delete: one call removes everything, the log keeps ids only', async () => {
    const sparekey = await openLibrary(engine);
    try {
      const hostId = 'host-user-b41e22';
      const address = 'person-b41e22@example.test';
      const created = await sparekey.users.ensure({ externalId: hostId, email: address });
      if (!created.ok) throw new Error(created.error);
      const { userId } = created.value;
      expect(
        await sparekey.users.ensure({ externalId: 'someone-else', email: address.toUpperCase() }),
      ).toEqual({
        ok: false,
        error: 'email_taken',
      });
      expect(await sparekey.users.changeEmail({ externalId: hostId, email: 'not an address' })).toEqual({
        ok: false,
        error: 'invalid_email',
      });
      expect(await sparekey.users.changeEmail({ externalId: hostId, email: null })).toEqual({
        ok: true,
        value: { email: null },
      });
      expect(await sparekey.users.changeEmail({ externalId: hostId, email: address })).toEqual({
        ok: true,
        value: { email: address },
      });
      expect((await sparekey.users.findByExternalId(hostId))?.email).toBe(address);

      const enrollment = await sparekey.mfa.enrollTotp({ externalId: hostId });
      if (!enrollment.ok) throw new Error(enrollment.error);
      expect(
        (
          await sparekey.mfa.confirmTotp({
            externalId: hostId,
            factorId: enrollment.value.factorId,
            code: totpCode(enrollment.value.secret, { timeMs: Date.now() }),
          })
        ).ok,
      ).toBe(true);

      const deleted = await sparekey.users.delete({ externalId: hostId });
      expect(deleted).toEqual({
        ok: true,
        value: { factors: 1, recoveryCodeSets: 1, sessions: 0, rememberedDevices: 0, apiKeys: 0 },
      });
      expect(await sparekey.users.findByExternalId(hostId)).toBeUndefined();
      expect(await sparekey.users.findById(userId)).toBeUndefined();
      expect(await sparekey.recoveryCodes.status({ externalId: hostId })).toMatchObject({ hasCodes: false });
      expect(await sparekey.users.delete({ externalId: hostId })).toEqual({
        ok: false,
        error: 'user_not_found',
      });

      // The log: the events stay under SpareKey's random id, the deletion is one of them, and neither the
      // address nor the host's id appears anywhere in it; the chain still verifies.
      const log = await collect(sparekey.admin.exportAudit('jsonl'));
      const events = log
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
      const theirs = events.filter((event) => event.userId === userId);
      expect(theirs.map((event) => event.action)).toEqual(
        expect.arrayContaining(['user_created', 'email_changed', 'mfa_enabled', 'user_deleted']),
      );
      expect(log).not.toContain(address);
      expect(log).not.toContain(hostId);
      expect((await sparekey.admin.verifyAuditChain()).ok).toBe(true);

      // The host may ensure the same id again later: a new, empty user.
      const again = await sparekey.users.ensure({ externalId: hostId });
      expect(again).toMatchObject({ ok: true, value: { created: true } });
      expect(again.ok && again.value.userId).not.toBe(userId);
    } finally {
      await sparekey.close();
    }
  });
});
