import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { errorMessages } from '../../src/core/errors.js';
import type { UseCases } from '../../src/service/use-cases.js';
import { openUseCasesOf, runCliInProcess } from '../helpers/cli-in-process.js';
import { totpCode } from '../helpers/rfc6238.js';

/**
 * Issue 21.1: the CLI addresses a host application's users by the host's own id (--external-id), as the
 * library and the JSON API do; its refusals are the same error catalog's words. Wrong usage exits 2
 * before anything is opened.
 */
const env = {
  SPAREKEY_DATA_DIR: join(mkdtempSync(join(tmpdir(), 'sparekey-cli-host-')), 'data'),
  SPAREKEY_KDF_PROFILE: 'minimum',
};
const cli = (args: string[]) => runCliInProcess(args, env);
/** A PostgreSQL URL nothing listens on: a command that tried to open it would say "cannot open". */
const unreachable = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:1/sparekey',
  SPAREKEY_SECRET: Buffer.alloc(32, 7).toString('base64'),
};

let useCases: UseCases;
let close: () => Promise<void>;

beforeAll(async () => {
  // The host's side, on the same database and configuration as the CLI: a user by its own id with an
  // authenticator and recovery codes (what the library's users.ensure, enrollTotp and confirmTotp do).
  ({ useCases, close } = await openUseCasesOf(env));
  await useCases.updateRecoveryCodeSettings({ enabled: true }, {});
  for (const externalId of ['42', 'host-43']) {
    const ensured = await useCases.ensureUser({ externalId, email: null, context: {} });
    if (!ensured.ok) throw new Error(ensured.error);
    const enrolled = await useCases.enrollTotp({ userId: ensured.value.userId, context: {} });
    if (!enrolled.ok) throw new Error(enrolled.error);
    const confirmed = await useCases.confirmTotp({
      userId: ensured.value.userId,
      factorId: enrolled.value.factorId,
      code: totpCode(enrolled.value.secret, { timeMs: Date.now() }),
      context: {},
    });
    if (!confirmed.ok) throw new Error(confirmed.error);
  }
});

afterAll(async () => {
  await close?.();
});

describe('CLI commands by the host application id (--external-id)', () => {
  test('mfa status and codes status by host id', async () => {
    expect(await cli(['mfa', 'status', '--external-id', '42'])).toEqual({
      status: 0,
      out: 'external id "42": two-factor on; factors: totp.\nexternal id "42": 10 of 10 recovery codes left.\n',
      err: '',
    });
    expect((await cli(['codes', 'status', '--external-id', '42'])).out).toBe(
      'external id "42": 10 of 10 recovery codes left.\n',
    );
    expect(await cli(['codes', 'status', '--external-id', 'nobody'])).toEqual({
      status: 1,
      out: '',
      err: 'No user has the external id "nobody".\n',
    });
  });

  test('mfa reset by host id needs a reason (the catalog message of reason_required), then resets', async () => {
    const refused = await cli(['mfa', 'reset', '--external-id', '42', '--reason', '']);
    expect(refused).toEqual({ status: 1, out: '', err: `${errorMessages.reason_required}\n` });
    const reset = await cli(['mfa', 'reset', '--external-id', '42', '--reason', 'ticket 21']);
    expect(reset).toEqual({
      status: 0,
      out: 'Reset external id "42": 1 factors removed, 0 sessions ended.\n',
      err: '',
    });
    expect((await cli(['mfa', 'status', '--external-id', '42'])).out).toBe(
      'external id "42": two-factor off; factors: none.\nexternal id "42": no recovery codes.\n',
    );
  });

  test('user email by host id: set, refused when invalid (invalid_email), removed', async () => {
    expect(await cli(['user', 'email', '--external-id', 'host-43', '--to', 'pat@example.test'])).toEqual({
      status: 0,
      out: 'external id "host-43": email pat@example.test.\n',
      err: '',
    });
    expect((await useCases.findUserByExternalId('host-43'))?.email).toBe('pat@example.test');
    expect(await cli(['user', 'email', '--external-id', 'host-43', '--to', 'not an address'])).toEqual({
      status: 1,
      out: '',
      err: `${errorMessages.invalid_email}\n`,
    });
    // The account is now also reachable by its address, as any account is.
    expect((await cli(['codes', 'status', 'pat@example.test'])).out).toBe(
      'pat@example.test: 10 of 10 recovery codes left.\n',
    );
    expect((await cli(['user', 'email', '--external-id', 'host-43', '--remove'])).out).toBe(
      'external id "host-43": email removed.\n',
    );
    expect((await useCases.findUserByExternalId('host-43'))?.email).toBeNull();
  });

  test('user roles by host id: replaced, an unknown role refused (unknown_role), an unknown id refused', async () => {
    expect(await cli(['user', 'roles', '--external-id', 'host-43', 'editor', 'author'])).toEqual({
      status: 0,
      out: 'external id "host-43": author, editor\n',
      err: '',
    });
    const user = await useCases.findUserByExternalId('host-43');
    expect(user?.roles).toEqual(['author', 'editor']);
    expect(await cli(['user', 'roles', '--external-id', 'host-43', 'god'])).toEqual({
      status: 1,
      out: '',
      err: `${errorMessages.unknown_role}\n`,
    });
    expect((await useCases.findUserByExternalId('host-43'))?.roles).toEqual(['author', 'editor']);
    expect(await cli(['user', 'roles', '--external-id', 'nobody', 'editor'])).toEqual({
      status: 1,
      out: '',
      err: 'No user has the external id "nobody".\n',
    });
  });

  test('user delete by host id removes the user and everything of theirs; the log records it', async () => {
    const userId = (await useCases.findUserByExternalId('host-43'))?.id;
    const deleted = await cli(['user', 'delete', '--external-id', 'host-43']);
    expect(deleted).toEqual({
      status: 0,
      out: 'Deleted external id "host-43": 1 factors, 1 recovery-code sets, 0 sessions, 0 remembered browsers, 0 API keys.\n',
      err: '',
    });
    expect(await useCases.findUserByExternalId('host-43')).toBeUndefined();
    const [event] = await useCases.listAuditEvents({ action: 'user_deleted', limit: 1 });
    expect(event).toMatchObject({ userId, actorId: 'cli' });
    expect((await cli(['user', 'delete', '--external-id', 'host-43'])).status).toBe(1);
  });

  test('wrong usage exits 2 before anything is opened: no user named, both forms, --to with --remove', async () => {
    for (const args of [
      ['mfa', 'status'],
      ['mfa', 'status', 'a@example.test', '--external-id', '42'],
      ['mfa', 'reset', '--reason', 'ticket 7'],
      ['codes', 'status', '--external-id'],
      ['codes', 'status', '--external-id', ''],
      ['user', 'delete'],
      ['user', 'delete', 'a@example.test', 'b@example.test'],
      ['user', 'email', '--external-id', '42'],
      ['user', 'email', '--external-id', '42', '--to', 'a@example.test', '--remove'],
      ['user', 'email', '--to', 'a@example.test'],
      // No role would remove every role: refused, by host id as by email.
      ['user', 'roles', '--external-id', '42'],
      ['user', 'roles', 'a@example.test'],
      ['user', 'roles', '--external-id', '', 'editor'],
      ['user', 'roles', 'a@example.test', '--external-id', '42', 'editor'],
      ['user', 'roles'],
    ]) {
      const run = await runCliInProcess(args, unreachable);
      expect(run.status, args.join(' ')).toBe(2);
      expect(run.err, args.join(' ')).toMatch(/Usage: sparekey/);
      expect(run.err, args.join(' ')).not.toContain('cannot open');
    }
    expect((await runCliInProcess(['user', 'delete', '--help'], unreachable)).out).toContain(
      'Usage: sparekey user delete (<email> | --external-id <id>)',
    );
    expect((await runCliInProcess(['user', 'roles', '--help'], unreachable)).out).toContain(
      'Usage: sparekey user roles (<email> | --external-id <id>) <role>...',
    );
  });
});
