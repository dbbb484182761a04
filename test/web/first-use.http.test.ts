import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { errorMessages } from '../../src/core/errors.js';
import { createFirstAdmin } from '../../src/service/accounts/first-admin.js';
import { loadRecoveryCodeSettings } from '../../src/service/admin/settings.js';
import { generateRecoveryCodes } from '../../src/service/recovery-codes/generate-recovery-codes.js';
import { recoveryCodeSetLabel } from '../../src/service/recovery-codes/prepare-recovery-code-set.js';
import { backendAuthority } from '../../src/service/sign-in/change-authority.js';
import { CODES_SHOWN_PATH } from '../../src/web/pages/two-factor-pages.js';
import { notices } from '../../src/web/web-options.js';
import { configureRecoveryCodes } from '../helpers/mfa.js';
import { createWebTestApp, type WebTestApp } from '../helpers/web-client.js';
import {
  enableTotpThroughPages,
  passwordStep,
  signedInAdmin,
  signUpThroughPages,
  TEST_PASSWORD,
  userAtSecondStep,
} from '../helpers/web-flows.js';

/** Issue 19: what a new user and operator stumbled on, over HTTP (the browser side: first-use.browser.test.ts). */
describe('issue 19 over HTTP', () => {
  let web: WebTestApp;
  let counter = 0;
  const nextEmail = (prefix: string) => `${prefix}-${++counter}@example.test`;
  beforeAll(async () => {
    web = await createWebTestApp();
    await configureRecoveryCodes(web.env, { codesPerSet: 10, lowThreshold: 3, policy: 'continue' });
  });
  afterAll(async () => web?.close());

  const mailTo = (email: string) => web.env.smtp.messages.filter((m) => m.to.includes(email));
  const text = (body: string) => body.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');

  test('19.1: the site has an icon, linked from every page and answered at /favicon.ico', async () => {
    const client = web.client();
    const page = await client.get('/sign-in');
    expect(page.body).toContain('<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">');
    for (const path of ['/assets/favicon.svg', '/favicon.ico']) {
      const icon = await client.get(path);
      expect(icon.statusCode, path).toBe(200);
      expect(icon.headers['content-type'], path).toBe('image/svg+xml');
      expect(icon.body, path).toMatch(/^<svg /);
    }
  });

  test('19.2: the email that confirms email codes says so, and does not read like a sign-in warning', async () => {
    const client = web.client();
    const email = nextEmail('email-factor');
    await signUpThroughPages(client, email);
    await client.get('/settings/two-factor');
    expect((await client.post('/settings/two-factor/email/start', {})).statusCode).toBe(200);
    const sent = mailTo(email).at(-1);
    expect(sent?.subject).toBe('Confirm email codes for SpareKey Test');
    expect(sent?.text).toContain('You are adding email codes as a two-factor method');
    expect(sent?.text).toMatch(/Your confirmation code is \d{6}/);
    expect(sent?.text).not.toMatch(/sign-in code|try to sign in|someone may know your password/);
    // "Send a new code" on the same page: the same purpose, the same words.
    const factorId = client.lastPage.match(/name="factorId" value="([^"]+)"/)?.[1] as string;
    await client.post('/settings/two-factor/email/resend', { factorId });
    expect(mailTo(email).at(-1)?.subject).toBe('Confirm email codes for SpareKey Test');

    // A sign-in code keeps its own words.
    const code = mailTo(email)
      .at(-1)
      ?.text.match(/code is (\d+)/)?.[1] as string;
    await client.post('/settings/two-factor/email/confirm', { factorId, code });
    await client.post('/sign-out', { _csrf: client.csrf() });
    const signIn = web.client();
    await client.get('/sign-in');
    await signIn.follow(await passwordStep(signIn, email));
    await signIn.post('/sign-in/two-factor/email/send', {});
    expect(mailTo(email).at(-1)?.subject).toBe('Your SpareKey Test sign-in code');
    expect(mailTo(email).at(-1)?.text).toContain('If you did not just try to sign in');
  });

  test('19.3: rotate with 1 code per set saves; a threshold that cannot apply is lowered, with a notice', async () => {
    const { client: admin } = await signedInAdmin(web, nextEmail('admin-threshold'));
    const form = {
      enabled: 'on',
      allowedRoles: 'subscriber',
      codesPerSet: '1',
      secretLength: '10',
      slotLength: '1',
      groupSize: '5',
      lowThreshold: '3',
      policy: 'rotate',
    };
    await admin.get('/admin/settings');
    const saved = await admin.post('/admin/settings', form);
    expect(saved.statusCode, saved.body).toBe(303);
    expect(saved.headers.location).toBe('/admin/settings?notice=settings-saved-threshold-lowered');
    expect(await loadRecoveryCodeSettings(web.env.deps.store)).toMatchObject({
      codesPerSet: 1,
      lowThreshold: 0,
      policy: 'rotate',
    });
    const page = await admin.follow(saved);
    expect(text(page.body)).toContain(notices['settings-saved-threshold-lowered']);
    expect(page.body).toMatch(/id="lowThreshold"[^>]*value="0"/);

    // Any set size: a threshold at or over it becomes one less; one under it is kept as typed.
    await admin.post('/admin/settings', { ...form, codesPerSet: '10', lowThreshold: '12' });
    expect((await loadRecoveryCodeSettings(web.env.deps.store)).lowThreshold).toBe(9);
    await admin.get('/admin/settings');
    const kept = await admin.post('/admin/settings', { ...form, codesPerSet: '10', lowThreshold: '4' });
    expect(kept.headers.location).toBe('/admin/settings?notice=settings-saved');
    expect((await loadRecoveryCodeSettings(web.env.deps.store)).lowThreshold).toBe(4);
    await configureRecoveryCodes(web.env, {
      codesPerSet: 10,
      lowThreshold: 3,
      policy: 'continue',
      allowedRoles: ['administrator', 'editor', 'author', 'subscriber'],
    });
  });

  test('19.4: a code from a replaced set is answered with the current set, read from its sheet; one KDF run', async () => {
    const { client, codes, email } = await userAtSecondStep(web, nextEmail('replaced'));
    const user = await web.env.deps.store.findUserByEmail(email);
    web.env.clock.advance(60_000);
    const regenerated = await generateRecoveryCodes(web.env.deps, {
      authority: backendAuthority({ kind: 'library', actorId: 'test' }),
      userId: user?.id as string,
      context: {},
    });
    expect(regenerated.ok).toBe(true);
    const summary = await web.env.deps.store.getRecoveryCodeSummary(user?.id as string);
    const current = recoveryCodeSetLabel(summary?.generatedAt as Date);

    await client.get('/sign-in/recovery');
    const kdfRunsBefore = web.env.kdf.calls;
    const refused = await client.post('/sign-in/recovery', { code: codes[0] as string });
    expect(web.env.kdf.calls - kdfRunsBefore).toBe(1);
    expect(refused.statusCode).toBe(401);
    expect(text(refused.body)).toContain(errorMessages.invalid_code);
    const hint = (refused.body.match(/<p class="warning" id="current-set-hint">[\s\S]*?<\/p>/)?.[0] ?? '')
      .replace(/<[^>]+>/g, '')
      .replace(/\s+/g, ' ');
    expect(hint).toContain(`Your current recovery codes are the ${current}, as printed on their sheet.`);
    expect(hint).toContain('that set was replaced');
    // The hint names the set, never a code, and only follows a wrong code.
    for (const code of codes) expect(refused.body).not.toContain(code);
    expect((await client.get('/sign-in/recovery')).body).not.toContain('current-set-hint');
    const malformed = await client.post('/sign-in/recovery', { code: 'not a code' });
    expect(malformed.body).not.toContain('current-set-hint');
  });

  test('19.5: a recovery code that completed a password reset is reported as used for that, not for a sign-in', async () => {
    const { email, codes } = await userAtSecondStep(web, nextEmail('reset-notice'));
    const sentBefore = web.env.smtp.messages.length;
    const asker = web.client();
    await asker.get('/forgot-password');
    await asker.post('/forgot-password', { email });
    let token: string | undefined;
    await expect
      .poll(() => {
        const mail = web.env.smtp.messages.slice(sentBefore).find((m) => m.to.includes(email));
        token = mail?.text.match(/\/reset-password\?token=([A-Za-z0-9_-]+)/)?.[1];
        return token;
      })
      .toBeDefined();
    const client = web.client();
    await client.get(`/reset-password?token=${token}`);
    const reset = await client.post('/reset-password', {
      token: token as string,
      password: 'willow-copper-tideline-64',
      recoveryCode: codes[1] as string,
    });
    expect(reset.statusCode).toBe(303);
    const notice = await pollMail(email, sentBefore, 'recovery code was used');
    expect(notice.subject).toBe('A recovery code was used to reset your SpareKey Test password');
    expect(notice.text).toContain(
      'A recovery code was just used to reset the password of your SpareKey Test account.',
    );
    expect(notice.text).not.toContain('sign in');
  });

  /** The first message to `email` after `sentBefore` whose subject contains `subject`, waited for. */
  async function pollMail(email: string, sentBefore: number, subject: string) {
    let found: (typeof web.env.smtp.messages)[number] | undefined;
    await expect
      .poll(() => {
        found = web.env.smtp.messages
          .slice(sentBefore)
          .find((m) => m.to.includes(email) && m.subject.includes(subject));
        return found;
      })
      .toBeDefined();
    return found as NonNullable<typeof found>;
  }

  test('19.6: CSV and JSON Lines exports name the user and the actor by email, as the page does', async () => {
    const { client: admin, id: adminId } = await signedInAdmin(web, nextEmail('admin-export'));
    const userEmail = nextEmail('exported');
    await signUpThroughPages(web.client(), userEmail);
    const user = await web.env.deps.store.findUserByEmail(userEmail);
    await admin.get(`/admin/users/${user?.id}`);
    await admin.post(`/admin/users/${user?.id}/roles`, { roles: 'editor' });

    const csv = await admin.get(`/admin/audit/export.csv?user=${encodeURIComponent(userEmail)}`);
    const [header, ...rows] = csv.body.trim().split('\r\n');
    const columns = (header ?? '').split(',');
    expect(columns.slice(4, 8)).toEqual(['userId', 'userEmail', 'actorId', 'actorEmail']);
    const cells = rows.map((row) => row.split(','));
    expect(cells.length).toBeGreaterThan(0);
    for (const row of cells) {
      expect(row[4]).toBe(user?.id);
      expect(row[5]).toBe(userEmail);
    }
    const roleChange = cells.find((row) => row[2] === 'roles_changed');
    expect(roleChange?.slice(6, 8)).toEqual([
      adminId,
      (await web.env.deps.store.findUserById(adminId))?.email,
    ]);

    const jsonl = await admin.get(`/admin/audit/export.jsonl?user=${encodeURIComponent(userEmail)}`);
    const events = jsonl.body
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(events.every((event) => event.userEmail === userEmail)).toBe(true);
    expect(events.find((event) => event.action === 'roles_changed')?.actorEmail).toMatch(/^admin-export-/);
  });

  test('19.9: the second step names whose sign-in it is and cancels it (sign out), back to the sign-in page', async () => {
    const { client, email } = await userAtSecondStep(web, nextEmail('cancel'));
    for (const path of ['/sign-in/two-factor', '/sign-in/recovery']) {
      const page = await client.get(path);
      expect(text(page.body), path).toContain(`Signing in as ${email}`);
      expect(page.body, path).toMatch(/<form method="post" action="\/sign-out"[\s\S]*?Cancel sign-in/);
    }
    const cancelled = await client.post('/sign-out', {});
    expect(cancelled.headers.location).toBe('/sign-in?notice=signed-out');
    // The half-finished sign-in is over: its pages send the browser back to the password step.
    expect((await client.get('/sign-in/two-factor')).headers.location).toBe(
      '/sign-in?notice=session-expired',
    );
  });

  test('19.11: a set of one code is spoken of in the singular', async () => {
    await configureRecoveryCodes(web.env, { codesPerSet: 1, policy: 'rotate' });
    try {
      const client = web.client();
      await signUpThroughPages(client, nextEmail('single'));
      const { codes } = await enableTotpThroughPages(client, web.env);
      expect(codes).toHaveLength(1);
      const page = text(client.lastPage);
      expect(page).toContain('Save this code now. This is the only time it is shown. It works once.');
      expect(page).toContain('I have saved this code');
      expect(page).not.toMatch(/these codes|Each code/);
      const download = decodeURIComponent(client.lastPage.match(/charset=utf-8,([^"]+)"/)?.[1] ?? '');
      expect(download).toContain('recovery code for');
      expect(download).toContain('The code works once.');
    } finally {
      await configureRecoveryCodes(web.env, { codesPerSet: 10, lowThreshold: 3, policy: 'continue' });
    }
  });

  test('19.12: the codes page renames its history entry to a GET that lands on settings, never the codes', async () => {
    const client = web.client();
    await signUpThroughPages(client, nextEmail('back'));
    const { codes } = await enableTotpThroughPages(client, web.env);
    expect(client.lastPage).toContain(`data-history-url="${CODES_SHOWN_PATH}"`);
    await client.post('/settings/two-factor/recovery-codes/acknowledge', { saved: 'yes' });
    const back = await client.get(CODES_SHOWN_PATH);
    expect(back.statusCode).toBe(303);
    expect(back.headers.location).toBe('/settings/two-factor?notice=codes-shown-once');
    const landed = await client.follow(back);
    expect(text(landed.body)).toContain(notices['codes-shown-once']);
    for (const code of codes) expect(landed.body).not.toContain(code);
    // Signed out (a password reset's codes page), it is the sign-in page.
    expect((await web.client().get(CODES_SHOWN_PATH)).headers.location).toMatch(/^\/sign-in/);
  });

  test('19.13: with SPAREKEY_ADMIN_EMAIL the master switch is on from the first start, as both documents say', async () => {
    const fresh = await createWebTestApp();
    try {
      const created = await createFirstAdmin(fresh.env.deps, {
        email: 'first-admin@example.test',
        password: TEST_PASSWORD,
        // What main.ts passes by default (SPAREKEY_ADMIN_RECOVERY_CODES unset = on).
        enableRecoveryCodes: true,
        context: {},
      });
      expect(created.ok).toBe(true);
      expect((await loadRecoveryCodeSettings(fresh.env.deps.store)).enabled).toBe(true);
    } finally {
      await fresh.close();
    }
    const administration = readFileSync(new URL('../../docs/administration.md', import.meta.url), 'utf8');
    expect(administration).not.toContain('off until the first administrator turns it on');
    expect(administration.replace(/\s+/g, ' ')).toContain(
      'with `SPAREKEY_ADMIN_EMAIL` set it is on from the first start',
    );
    expect(readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8')).toContain(
      'SPAREKEY_ADMIN_RECOVERY_CODES` | `on`',
    );
  });
});
