import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { errorMessages } from '../../src/core/errors.js';
import { authenticatorCode, configureRecoveryCodes } from '../helpers/mfa.js';
import { alertText, createWebTestApp, type WebTestApp } from '../helpers/web-client.js';
import {
  enableTotpThroughPages,
  passwordStep,
  signUpThroughPages,
  userAtSecondStep,
} from '../helpers/web-flows.js';

describe('the second sign-in step over HTTP', () => {
  let web: WebTestApp;
  beforeAll(async () => {
    web = await createWebTestApp();
    await configureRecoveryCodes(web.env);
  });
  afterAll(async () => web?.close());

  let counter = 0;
  async function atSecondStep() {
    counter += 1;
    return userAtSecondStep(web, `second-${counter}@example.test`);
  }

  test('the password step alone gives no access to settings', async () => {
    const { client } = await atSecondStep();
    const settings = await client.get('/settings/two-factor');
    expect(settings.statusCode).toBe(303);
  });

  test('TOTP: empty 400, wrong 401, right one signs in with a rotated cookie, replay 409 (RFC 6238 5.2)', async () => {
    const { client, secret } = await atSecondStep();
    const before = client.cookies.get('__Host-sparekey_session');
    expect((await client.post('/sign-in/two-factor/totp', { code: '  ' })).statusCode).toBe(400);
    const wrong = await client.post('/sign-in/two-factor/totp', { code: '000000' });
    expect(wrong.statusCode).toBe(401);
    expect(alertText(wrong.body)).toBe(errorMessages.invalid_code);
    const code = authenticatorCode(secret, web.env.clock.nowMs);
    const right = await client.post('/sign-in/two-factor/totp', { code });
    expect(right.statusCode).toBe(303);
    expect(right.headers.location).toBe('/settings/two-factor');
    expect(client.cookies.get('__Host-sparekey_session')).not.toBe(before);
    // The same code in another sign-in attempt is a replay.
    const other = web.client();
    const email = (await web.env.deps.store.listAuditEvents({ action: 'sign_in', limit: 1 }))[0]
      ?.userId as string;
    const user = await web.env.deps.store.findUserById(email);
    await passwordStep(other, user?.email as string);
    await other.get('/sign-in/two-factor');
    const replay = await other.post('/sign-in/two-factor/totp', { code });
    expect(replay.statusCode).toBe(409);
    expect(alertText(replay.body)).toBe(errorMessages.totp_replayed);
  });

  test('recovery code: typed with spaces, no dashes and lower case it works; used again 409; unknown 401; malformed 400', async () => {
    const { client, codes, email } = await atSecondStep();
    await client.get('/sign-in/recovery');
    expect((await client.post('/sign-in/recovery', { code: '' })).statusCode).toBe(400);
    const malformed = await client.post('/sign-in/recovery', { code: 'hello' });
    expect(malformed.statusCode).toBe(400);
    expect(alertText(malformed.body)).toBe(errorMessages.malformed_code);
    const first = codes[0] as string;
    const unknown = await client.post('/sign-in/recovery', {
      code: `${first.slice(0, -1)}${first.endsWith('0') ? '1' : '0'}`,
    });
    expect(unknown.statusCode).toBe(401);
    expect(alertText(unknown.body)).toBe(errorMessages.invalid_code);
    const typed = ` ${first.replaceAll('-', ' ').toLowerCase()} `;
    const ok = await client.post('/sign-in/recovery', { code: typed });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toContain(`You have ${codes.length - 1} recovery codes left`);
    // Signed in now.
    expect((await client.get('/settings/two-factor')).statusCode).toBe(200);

    const again = web.client();
    await passwordStep(again, email);
    await again.get('/sign-in/recovery');
    const used = await again.post('/sign-in/recovery', { code: first });
    expect(used.statusCode).toBe(409);
    expect(alertText(used.body)).toBe(errorMessages.code_already_used);
  });

  test('second-step forms without a pending sign-in are refused with 401 and a way back', async () => {
    const client = web.client();
    await client.get('/sign-in');
    const _csrf = client.csrf();
    for (const path of ['/sign-in/two-factor/totp', '/sign-in/recovery', '/sign-in/two-factor/email']) {
      const response = await client.post(path, { _csrf, code: '123456' });
      expect(response.statusCode).toBe(401);
      expect(alertText(response.body)).toBe(errorMessages.sign_in_expired);
    }
    expect((await client.get('/sign-in/recovery')).statusCode).toBe(303);
  });

  test('the pending sign-in expires after 10 minutes', async () => {
    const { client } = await atSecondStep();
    web.env.clock.advance(10 * 60 * 1000 + 1);
    const response = await client.post('/sign-in/two-factor/totp', { code: '123456' });
    expect(response.statusCode).toBe(401);
  });

  test('email code as the second factor: sent over SMTP, bound to this attempt, wrong 401, right signs in', async () => {
    counter += 1;
    const email = `mail-${counter}@example.test`;
    const setup = web.client();
    await signUpThroughPages(setup, email);
    await setup.get('/settings/two-factor');
    const started = await setup.post('/settings/two-factor/email/start', {});
    expect(started.statusCode).toBe(200);
    const enrollCode = lastCodeSentTo(web, email);
    const factorId = started.body.match(/name="factorId" value="([^"]+)"/)?.[1] as string;
    const confirmed = await setup.post('/settings/two-factor/email/confirm', { factorId, code: enrollCode });
    expect(confirmed.statusCode).toBe(200);
    expect(confirmed.body).toContain('Save your recovery codes');

    const client = web.client();
    await client.follow(await passwordStep(client, email));
    const sent = await client.post('/sign-in/two-factor/email/send', {});
    expect(sent.statusCode).toBe(200);
    const code = lastCodeSentTo(web, email);
    const wrong = await client.post('/sign-in/two-factor/email', {
      code: code === '000000' ? '111111' : '000000',
    });
    expect(wrong.statusCode).toBe(401);
    const right = await client.post('/sign-in/two-factor/email', { code });
    expect(right.statusCode).toBe(303);
  });
});

describe('emailed codes over HTTP: the error paths', () => {
  let web: WebTestApp;
  beforeAll(async () => {
    web = await createWebTestApp();
    await configureRecoveryCodes(web.env);
  });
  afterAll(async () => web?.close());

  test('asking for an email code without an email factor is 404; a wrong enrollment code 401; the 6th guess 429', async () => {
    const client = web.client();
    await signUpThroughPages(client, 'no-mail-factor@example.test');
    await enableTotpThroughPages(client, web.env);
    await client.post('/sign-out', {});
    await client.follow(await passwordStep(client, 'no-mail-factor@example.test'));
    const send = await client.post('/sign-in/two-factor/email/send', {});
    expect(send.statusCode).toBe(404);
    expect(alertText(send.body)).toBe(errorMessages.factor_not_found);

    const enrolling = web.client();
    await signUpThroughPages(enrolling, 'guesser@example.test');
    const started = await enrolling.post('/settings/two-factor/email/start', {});
    const factorId = started.body.match(/name="factorId" value="([^"]+)"/)?.[1] as string;
    const code = lastCodeSentTo(web, 'guesser@example.test');
    const wrong = code === '000000' ? '111111' : '000000';
    for (let guess = 1; guess <= 5; guess += 1) {
      const response = await enrolling.post('/settings/two-factor/email/confirm', { factorId, code: wrong });
      expect(response.statusCode).toBe(401);
    }
    const sixth = await enrolling.post('/settings/two-factor/email/confirm', { factorId, code });
    expect(sixth.statusCode).toBe(429);
    expect(alertText(sixth.body)).toBe(errorMessages.email_code_attempts_exhausted);
    // A new code (resend) works.
    const resent = await enrolling.post('/settings/two-factor/email/resend', { factorId });
    expect(resent.statusCode).toBe(200);
    const fresh = lastCodeSentTo(web, 'guesser@example.test');
    const confirmed = await enrolling.post('/settings/two-factor/email/confirm', { factorId, code: fresh });
    expect(confirmed.statusCode).toBe(200);
  });

  test('an expired email code is 410 with a message to ask for a new one', async () => {
    const client = web.client();
    await signUpThroughPages(client, 'late@example.test');
    const started = await client.post('/settings/two-factor/email/start', {});
    const factorId = started.body.match(/name="factorId" value="([^"]+)"/)?.[1] as string;
    const code = lastCodeSentTo(web, 'late@example.test');
    web.env.clock.advance(10 * 60 * 1000);
    const response = await client.post('/settings/two-factor/email/confirm', { factorId, code });
    expect(response.statusCode).toBe(410);
    expect(alertText(response.body)).toBe(errorMessages.email_code_expired);
  });
});

function lastCodeSentTo(web: WebTestApp, email: string): string {
  const message = [...web.env.smtp.messages]
    .reverse()
    .find((m) => m.to.includes(email) && /code is \d+/.test(m.text));
  const code = message?.text.match(/code is (\d+)/)?.[1];
  if (!code) throw new Error(`no code was emailed to ${email}`);
  return code;
}
