import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { errorMessages } from '../../src/core/errors.js';
import { DEFAULT_ADDRESS_THROTTLE } from '../../src/core/throttle.js';
import { createUser } from '../../src/service/accounts/accounts.js';
import { authenticatorCode, configureRecoveryCodes } from '../helpers/mfa.js';
import { unlockTokenIn } from '../helpers/smtp-capture.js';
import { alertText, createWebTestApp, FormClient, type WebTestApp } from '../helpers/web-client.js';
import { passwordStep, TEST_PASSWORD, userAtSecondStep } from '../helpers/web-flows.js';

const TWO_HOURS = 2 * 3600_000;

describe('throttling over HTTP: 429 with Retry-After, 423 when locked, the unlock link (STANDARDS req 8, 48-50)', () => {
  let web: WebTestApp;
  beforeAll(async () => {
    web = await createWebTestApp();
    await configureRecoveryCodes(web.env);
  });
  afterAll(async () => web?.close());

  let counter = 0;
  async function atSecondStep() {
    counter += 1;
    return userAtSecondStep(web, `throttled-${counter}@example.test`);
  }

  test('req 8: the 6th wrong code gets 429 with Retry-After, and the right code is refused too', async () => {
    const { client, secret, codes } = await atSecondStep();
    for (let i = 0; i < 5; i += 1) {
      expect((await client.post('/sign-in/two-factor/totp', { code: '000000' })).statusCode).toBe(401);
    }
    const code = authenticatorCode(secret, web.env.clock.nowMs);
    const throttled = await client.post('/sign-in/two-factor/totp', { code });
    expect(throttled.statusCode).toBe(429);
    expect(throttled.headers['retry-after']).toBe('30');
    expect(alertText(throttled.body)).toBe(`${errorMessages.too_many_attempts} Try again in 30 seconds.`);
    // One counter for every second factor: the recovery-code form is throttled as well.
    await client.get('/sign-in/recovery');
    const recovery = await client.post('/sign-in/recovery', { code: codes[0]! });
    expect(recovery.statusCode).toBe(429);
    expect(recovery.headers['retry-after']).toBe('30');
    web.env.clock.advance(TWO_HOURS);
  });

  test('the JSON API answers 429 with Retry-After in the error shape', async () => {
    const { email } = await atSecondStep();
    const signIn = (password: string) =>
      web.app.inject({ method: 'POST', url: '/api/v1/auth/sign-in', payload: { email, password } });
    for (let i = 0; i < 5; i += 1) expect((await signIn('wrong password!')).statusCode).toBe(401);
    const refused = await signIn(TEST_PASSWORD);
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['retry-after']).toBe('30');
    expect(refused.json()).toEqual({
      error: { code: 'too_many_attempts', message: errorMessages.too_many_attempts },
    });
    web.env.clock.advance(TWO_HOURS);
  });

  test('req 46: the password step is throttled per client address, on the page and in the JSON API: wrong passwords on 20 accounts from one address, then 429 there and not from another', async () => {
    const address = DEFAULT_ADDRESS_THROTTLE;
    const emails = Array.from({ length: address.freeFailures + 1 }, (_, i) => `sprayed-${i}@example.test`);
    for (const email of emails) {
      expect((await createUser(web.env.deps, { email, password: TEST_PASSWORD, context: {} })).ok).toBe(true);
    }
    /** One password step from `remoteAddress`, through the sign-in page or the JSON API. */
    const signIn = async (via: 'page' | 'api', remoteAddress: string, email: string, password: string) => {
      if (via === 'page') return passwordStep(new FormClient(web.app, remoteAddress), email, password);
      const payload = { email, password };
      return web.app.inject({ method: 'POST', url: '/api/v1/auth/sign-in', payload, remoteAddress });
    };
    const via = (i: number) => (i % 2 === 0 ? 'page' : 'api');
    // One wrong password per account, half on the page, half in the API: no account is near its own
    // limit, and the address reaches its own.
    for (const [i, email] of emails.slice(0, address.freeFailures).entries()) {
      expect((await signIn(via(i), '203.0.113.7', email, 'wrong password!')).statusCode).toBe(401);
    }
    const last = emails.at(-1) as string;
    for (const way of ['page', 'api'] as const) {
      const refused = await signIn(way, '203.0.113.7', last, TEST_PASSWORD);
      expect(refused.statusCode, way).toBe(429);
      expect(refused.headers['retry-after'], way).toBe(String(address.baseDelayMs / 1000));
    }
    // The same accounts from another address are not throttled: the right password signs in.
    expect((await signIn('page', '203.0.113.8', last, TEST_PASSWORD)).statusCode).toBe(303);
    expect((await signIn('api', '203.0.113.8', last, TEST_PASSWORD)).statusCode).toBe(200);
    expect((await signIn('api', '203.0.113.8', emails[0] as string, 'wrong password!')).statusCode).toBe(401);
    web.env.clock.advance(TWO_HOURS);
  });

  test('locked after 20: the second step says so with 423; the emailed link and the password unlock it once', async () => {
    const { client, secret, email } = await atSecondStep();
    // 20 wrong codes, each after the back-off (and the 10-minute second-step session) has run out.
    for (let i = 0; i < 20; i += 1) {
      web.env.clock.advance(TWO_HOURS);
      await passwordStep(client, email);
      await client.get('/sign-in/two-factor');
      const wrong = await client.post('/sign-in/two-factor/totp', { code: '000000' });
      expect(wrong.statusCode).toBe(401);
    }
    const step = await client.get('/sign-in/two-factor');
    expect(step.statusCode).toBe(423);
    expect(alertText(step.body)).toBe(errorMessages.mfa_locked);
    const right = await client.post('/sign-in/two-factor/totp', {
      code: authenticatorCode(secret, web.env.clock.nowMs),
    });
    expect(right.statusCode).toBe(423);

    const mail = web.env.smtp.messages.findLast(
      (m) => m.to.toLowerCase() === email && m.subject.includes('locked'),
    );
    const link = `/unlock?token=${unlockTokenIn(mail?.text)}`;
    const visitor = web.client();
    const form = await visitor.get(link);
    expect(form.statusCode).toBe(200);
    expect(form.headers['cache-control']).toContain('no-store');
    const token = link.split('=')[1] as string;
    const unlocked = await visitor.post('/unlock', { token, password: TEST_PASSWORD });
    expect(unlocked.statusCode).toBe(303);
    expect(unlocked.headers.location).toBe('/sign-in?notice=unlocked');
    const again = await visitor.get(link);
    expect(again.statusCode).toBe(400);
    expect(alertText(again.body)).toBe(errorMessages.unlock_link_invalid);

    // Signed in again, the right code works.
    const fresh = web.client();
    await passwordStep(fresh, email);
    await fresh.get('/sign-in/two-factor');
    web.env.clock.advance(30_000);
    const signedIn = await fresh.post('/sign-in/two-factor/totp', {
      code: authenticatorCode(secret, web.env.clock.nowMs),
    });
    expect(signedIn.statusCode).toBe(303);
  });

  test('an unknown or malformed unlock token is a 400 page, never a 5xx', async () => {
    for (const url of [
      '/unlock',
      '/unlock?token=',
      '/unlock?token=nope',
      `/unlock?token=${'A'.repeat(5000)}`,
    ]) {
      const response = await web.client().get(url);
      expect(response.statusCode, url).toBe(400);
    }
  });
});
