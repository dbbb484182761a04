import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, test } from 'vitest';
import { buildServer } from '../../src/build-server.js';
import { requestPasswordReset } from '../../src/service/accounts/password-reset.js';
import { createApiKey } from '../../src/service/admin/api-keys.js';
import { auditEvent } from '../../src/service/audit/audit.js';
import { rememberDevice } from '../../src/service/sessions/remembered-devices.js';
import { addWebhookEndpoint } from '../../src/service/webhooks/webhooks.js';
import { testEngines } from '../helpers/engines.js';
import { authenticatorCode, configureRecoveryCodes } from '../helpers/mfa.js';
import { createTestEnvironment, type TestEnvironment } from '../helpers/service-deps.js';
import { holdsToken, storedRows, storedText } from '../helpers/stored-text.js';

/** Every spelling under which a secret could have been written down. */
function spellings(secret: string): string[] {
  const canonical = secret.replaceAll('-', '');
  return [secret, canonical, canonical.toLowerCase(), secret.toLowerCase()];
}

/**
 * Issue 6.3 (STANDARDS req 4, 16, 25; ASVS 4.0.3 7.1.1): every secret issued during a run through the HTTP
 * edges (passwords, session tokens, TOTP seeds and codes, emailed codes, recovery codes, API keys, emailed
 * reset and unlock links, remembered-browser cookies, webhook signing secrets) is absent from the database
 * (helpers/stored-text.ts: SQLite's raw files, every row on both engines), the JSON logs at debug level, and
 * both audit exports.
 */
describe.each(testEngines())('no issued secret in the database, logs or audit export on %s', (engine) => {
  let env: TestEnvironment;
  afterEach(async () => env?.close());

  test('a full run of sign-ups, enrolments, sign-ins and code uses leaves no secret behind', async () => {
    env = await createTestEnvironment(engine);
    await configureRecoveryCodes(env);
    const logs: string[] = [];
    const stream = new PassThrough();
    stream.on('data', (chunk: Buffer) => logs.push(chunk.toString('utf8')));
    const app = await buildServer({ deps: env.deps, logger: { level: 'debug', stream } });
    const secrets: string[] = [];
    /** 6-digit emailed and TOTP codes: searched as whole tokens (holdsToken), never as substrings. */
    const codes6: string[] = [];
    const userIds: string[] = [];
    const key = await createApiKey(env.deps, { name: 'backend', scopes: ['admin'], context: {} });
    if (!key.ok) throw new Error(key.error);
    secrets.push(key.value.key);
    const asBackend = { authorization: `Bearer ${key.value.key}` };
    const call = (
      method: 'GET' | 'POST',
      url: string,
      payload?: object,
      headers: Record<string, string> = asBackend,
    ) => app.inject({ method, url: `/api/v1${url}`, payload, headers });

    for (let i = 0; i < 3; i++) {
      const email = `leak-${i}@example.test`;
      const password = `Leak-check password ${i} ${Math.random()}`;
      secrets.push(password);
      const signUp = await call('POST', '/auth/sign-up', { email, password }, {});
      expect(signUp.statusCode).toBe(202);
      const signIn = await call('POST', '/auth/sign-in', { email, password }, {});
      const userId = (await env.deps.store.findUserByEmail(email))?.id as string;
      const session = signIn.json().token as string;
      secrets.push(session);
      const asUser = { authorization: `Bearer ${session}` };

      // An emailed code (enrolment of the email factor), read from the real SMTP server.
      const emailFactor = await call('POST', '/me/factors/email', {}, asUser);
      expect(emailFactor.statusCode).toBe(201);
      const emailed = env.smtp.messages.at(-1)?.text.match(/\b(\d{6})\b/)?.[1];
      expect(emailed).toBeDefined();
      codes6.push(emailed!);
      const confirmedEmail = await call(
        'POST',
        `/me/factors/email/${emailFactor.json().factorId}/confirm`,
        { code: emailed },
        asUser,
      );
      expect(confirmedEmail.statusCode).toBe(200);
      secrets.push(...((confirmedEmail.json().recoveryCodes?.codes as string[] | undefined) ?? []));

      // A TOTP seed and a code from it, through the backend API.
      const enrolled = await call('POST', `/users/${userId}/factors/totp`);
      expect(enrolled.statusCode).toBe(201);
      const seed = enrolled.json().secret as string;
      secrets.push(seed, enrolled.json().uri as string);
      const totp = authenticatorCode(seed, env.clock.nowMs);
      codes6.push(totp);
      const confirmed = await call(
        'POST',
        `/users/${userId}/factors/totp/${enrolled.json().factorId}/confirm`,
        {
          code: totp,
        },
      );
      expect(confirmed.statusCode).toBe(200);

      // Recovery codes: generated, one used, one wrong guess.
      const generated = await call('POST', `/users/${userId}/recovery-codes`);
      expect(generated.statusCode).toBe(201);
      const codes = generated.json().codes as string[];
      secrets.push(...codes);
      expect(
        (await call('POST', `/users/${userId}/recovery-codes/verify`, { code: codes[0] })).statusCode,
      ).toBe(200);
      await call('POST', `/users/${userId}/recovery-codes/verify`, { code: codes[0] });

      // Signing in again: the second step once with an emailed code, once with a TOTP code (a new step).
      for (const factor of ['email', 'totp'] as const) {
        const pending = await call('POST', '/auth/sign-in', { email, password }, {});
        expect(pending.json().stage).toBe('second_factor');
        secrets.push(pending.json().token as string);
        const asPending = { authorization: `Bearer ${pending.json().token}` };
        let code: string;
        if (factor === 'email') {
          expect((await call('POST', '/auth/second-factor/email/send', {}, asPending)).statusCode).toBe(202);
          code = env.smtp.messages.at(-1)?.text.match(/\b(\d{6})\b/)?.[1] as string;
        } else {
          env.clock.advance(30_000);
          code = authenticatorCode(seed, env.clock.nowMs);
        }
        codes6.push(code);
        const completed = await call('POST', `/auth/second-factor/${factor}`, { code }, asPending);
        expect(completed.statusCode, factor).toBe(200);
        secrets.push(completed.json().token as string);
      }
      userIds.push(userId);
    }
    expect(new Set(codes6).size).toBeGreaterThanOrEqual(10);

    // An unlock link: one account's second factors locked by wrong recovery codes through the backend API
    // (waiting out each back-off on the test clock), and the emailed link opened through the pages.
    const lockedId = userIds[1] as string;
    const unlockMail = () => env.smtp.messages.find((mail) => mail.subject.includes('is locked'));
    for (let attempt = 0; attempt < 60 && !unlockMail(); attempt++) {
      const wrong = await call('POST', `/users/${lockedId}/recovery-codes/verify`, { code: 'K-7Q2MX-9HD4T' });
      if (wrong.statusCode === 429) env.clock.advance(Number(wrong.headers['retry-after']) * 1000);
    }
    const unlockToken = unlockMail()?.text.match(/token=([A-Za-z0-9_-]+)/)?.[1] as string;
    expect(unlockToken).toBeDefined();
    secrets.push(unlockToken);
    expect((await app.inject({ method: 'GET', url: `/unlock?token=${unlockToken}` })).statusCode).toBe(200);
    // An emailed password-reset link (opened through the pages, so its request is logged), a remembered
    // browser's cookie, and a webhook endpoint's signing secret.
    const requested = await requestPasswordReset(env.deps, { email: 'leak-0@example.test', context: {} });
    if (!requested.ok) throw new Error(requested.error);
    await requested.delivered;
    const resetToken = env.smtp.messages.at(-1)?.text.match(/token=([A-Za-z0-9_-]+)/)?.[1] as string;
    expect((await app.inject({ method: 'GET', url: `/reset-password?token=${resetToken}` })).statusCode).toBe(
      200,
    );
    const device = await rememberDevice(env.deps, { userId: userIds[0] as string, context: {} });
    if (!device) throw new Error('no device remembered');
    const hook = await addWebhookEndpoint(env.deps, {
      url: 'https://hooks.example.test/sparekey',
      events: ['mfa.locked'],
      context: {},
    });
    if (!hook.ok) throw new Error(hook.problem);
    secrets.push(resetToken, device.cookieValue, device.cookieValue.split('.')[0] as string, hook.secret);
    expect(secrets.every((secret) => secret.length > 8)).toBe(true);

    const csv = (await call('GET', '/audit-events/export?format=csv')).body;
    const jsonl = (await call('GET', '/audit-events/export?format=jsonl')).body;
    await app.close();
    expect(csv.split('\r\n').length).toBeGreaterThan(20);
    expect(jsonl.split('\n').length).toBeGreaterThan(20);
    const logText = logs.join('');
    expect(logText.length).toBeGreaterThan(1000);
    const database = await storedText(env);
    // Every row through SQL as well: on SQLite an integer column is binary in the file, digits only here.
    const rows = await storedRows(env);

    const found = (text: string, list: string[]) =>
      list.flatMap(spellings).filter((spelling) => text.includes(spelling));
    expect(found(`${database}\n${rows}`, secrets)).toEqual([]);
    expect(found(logText, secrets)).toEqual([]);
    expect(found(csv + jsonl, secrets)).toEqual([]);
    // A 6-digit code as a substring would hit timestamps and ids; as a whole token it is unambiguous.
    const where = (code: string) =>
      [
        holdsToken(database, code) && 'database files',
        holdsToken(rows, code) && 'database rows',
        holdsToken(logText, code) && 'logs',
        holdsToken(csv + jsonl, code) && 'audit exports',
      ].filter(Boolean);
    expect(
      codes6.map((code) => `${code}: ${where(code).join(', ')}`).filter((line) => !line.endsWith(': ')),
    ).toEqual([]);

    // The search would have found one: a 6-digit value written into an audit event's details is seen.
    await env.deps.store.appendAuditEvent(
      auditEvent(env.clock.now(), 'mfa_unlocked', 'success', lockedId, {}, { probe: '314159' }),
    );
    expect(holdsToken(await storedRows(env), '314159')).toBe(true);
  });
});
