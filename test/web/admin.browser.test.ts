import { readFileSync } from 'node:fs';
import { sql } from 'kysely';
import type { Page } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import { getRecoveryCodeStatistics } from '../../src/service/admin/statistics.js';
import { generateRecoveryCodes } from '../../src/service/recovery-codes/generate-recovery-codes.js';
import { verifyRecoveryCode } from '../../src/service/recovery-codes/verify-recovery-code.js';
import { backendAuthority } from '../../src/service/sign-in/change-authority.js';
import { browserAvailable, newTestPage, screenshotTo } from '../helpers/browser.js';
import {
  acknowledgeCodes,
  BROWSER_PASSWORD,
  codesOnPage,
  setUpAuthenticator,
  signInWithPassword,
  signOut,
  signUp,
  uniqueEmail,
} from '../helpers/browser-flows.js';
import { configureRecoveryCodes, enableTotp } from '../helpers/mfa.js';
import { createTestUser } from '../helpers/service-deps.js';
import { useServerAndBrowser } from '../helpers/web-server.js';

describe.skipIf(!browserAvailable())('the operator console in Chromium', () => {
  const live = useServerAndBrowser((server) => configureRecoveryCodes(server.env, { lowThreshold: 3 }));

  async function signedInAdmin(page: Page): Promise<string> {
    const email = uniqueEmail('admin');
    await signUp(page, live.server, email);
    const user = await live.server.env.deps.store.findUserByEmail(email);
    await live.server.env.deps.store.setUserRoles(user?.id as string, ['administrator']);
    return email;
  }

  const text = (page: Page, selector: string) => page.locator(selector).textContent();

  test('statistics: the tiles match the ground truth after scripted use, with a 30-day chart', async () => {
    const { env } = live.server;
    const people = [];
    for (let i = 0; i < 4; i += 1) {
      const user = await createTestUser(env);
      const { recoveryCodes } = await enableTotp(env, user.id);
      people.push({ id: user.id, codes: recoveryCodes?.codes ?? [] });
    }
    for (const code of people[0]?.codes.slice(0, 8) ?? [])
      await verifyRecoveryCode(env.deps, { userId: people[0]!.id, code, context: {} });
    await verifyRecoveryCode(env.deps, { userId: people[1]!.id, code: people[1]!.codes[0]!, context: {} });
    await verifyRecoveryCode(env.deps, { userId: people[1]!.id, code: 'A-AAAAA-AAAAA', context: {} });

    const { context, page } = await newTestPage(live.browser);
    await signedInAdmin(page);
    await page.reload();
    await page.getByRole('link', { name: 'Administration' }).click();
    await page.waitForURL(/\/admin$/);
    const truth = await getRecoveryCodeStatistics(env.deps);
    const summaries = await Promise.all(people.map((p) => env.deps.store.getRecoveryCodeSummary(p.id)));
    expect(summaries.map((s) => s?.remaining)).toEqual([2, 9, 10, 10]);
    expect(await text(page, '#stat-users-with-codes')).toBe(String(truth.usersWithCodes));
    expect(truth.lowOnCodes).toBeGreaterThanOrEqual(1);
    expect(await text(page, '#stat-low-on-codes')).toBe(String(truth.lowOnCodes));
    expect(Number(await text(page, '#stat-used-today'))).toBe(truth.usedToday);
    expect(truth.usedToday).toBeGreaterThanOrEqual(9);
    expect(Number(await text(page, '#stat-failed-today'))).toBeGreaterThanOrEqual(1);
    expect(await page.locator('figure.chart rect.used').count()).toBe(30);
    await screenshotTo(page, 'admin-dashboard.png');
    await context.close();
  });

  test('settings: switching recovery codes off removes "Use a recovery code" from sign-in; Select all / Remove all', async () => {
    const { context, page } = await newTestPage(live.browser);
    await signedInAdmin(page);
    await page.goto(`${live.server.url}/admin/settings`);
    await page.getByRole('button', { name: 'Remove all' }).click();
    expect(await page.locator('#allowedRoles option:checked').count()).toBe(0);
    await page.getByRole('button', { name: 'Select all' }).click();
    expect(await page.locator('#allowedRoles option:checked').count()).toBe(4);
    await page.getByLabel('Enable backup codes').uncheck();
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.waitForURL(/notice=settings-saved/);
    expect(await page.getByLabel('Enable backup codes').isChecked()).toBe(false);

    // A person with two-factor no longer sees the recovery-code link.
    const person = await newTestPage(live.browser);
    const email = uniqueEmail('switch');
    await signUp(person.page, live.server, email);
    await configureRecoveryCodes(live.server.env, { enabled: true });
    await setUpAuthenticator(person.page, live.server);
    await acknowledgeCodes(person.page);
    await signOut(person.page);
    await configureRecoveryCodes(live.server.env, { enabled: false });
    await signInWithPassword(person.page, live.server, email);
    await person.page.waitForURL(/two-factor/);
    expect(await person.page.getByRole('link', { name: 'Use a recovery code' }).count()).toBe(0);
    await configureRecoveryCodes(live.server.env, { enabled: true });
    await person.context.close();
    await context.close();
  });

  test('users with codes: empty state, search, keyset pages, and Refresh', async () => {
    const { env } = live.server;
    const { context, page } = await newTestPage(live.browser);
    await signedInAdmin(page);
    await page.goto(`${live.server.url}/admin/users?q=nobody-here`);
    expect(await text(page, '#empty-state')).toContain('No user whose email starts with that');
    const tag = `page${Date.now()}`;
    for (let i = 0; i < 55; i += 1) {
      const user = await createTestUser(env, { email: `${tag}-${String(i).padStart(2, '0')}@example.test` });
      await enableTotp(env, user.id);
    }
    await page.getByLabel('Email starts with').fill(tag);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/q=/);
    expect(await page.locator('#users-with-codes tbody tr').count()).toBe(50);
    expect(await text(page, '#users-with-codes tbody tr:first-child td:nth-child(3)')).toBe('10 of 10');
    await page.getByRole('link', { name: 'Next page' }).click();
    await page.waitForURL(/after=/);
    const second = await page.locator('#users-with-codes tbody tr td:first-child').allTextContents();
    expect(second).toEqual([50, 51, 52, 53, 54].map((i) => `${tag}-${i}@example.test`));
    // Someone uses a code meanwhile: Refresh shows it.
    const last = await env.deps.store.findUserByEmail(`${tag}-54@example.test`);
    await generateRecoveryCodes(env.deps, {
      authority: backendAuthority({ kind: 'library', actorId: 'test' }),
      userId: last?.id as string,
      context: {},
    });
    await page.getByRole('link', { name: 'Refresh' }).click();
    await page.waitForLoadState('load');
    expect(await page.locator('#users-with-codes tbody tr').count()).toBe(50);
    await context.close();
  });

  test('roles and a reset: the admin adds a role, assigns it, and resets a locked-out user with a reason', async () => {
    const { context, page } = await newTestPage(live.browser);
    await signedInAdmin(page);
    const person = await newTestPage(live.browser);
    const email = uniqueEmail('lost');
    await signUp(person.page, live.server, email);
    await setUpAuthenticator(person.page, live.server);
    expect(await codesOnPage(person.page)).toHaveLength(10);
    await acknowledgeCodes(person.page);

    await page.goto(`${live.server.url}/admin/roles`);
    await page.getByLabel('New role').fill('support');
    await page.getByRole('button', { name: 'Add role' }).click();
    await page.waitForURL(/notice=role-added/);
    expect(await page.locator('#roles').textContent()).toContain('support');

    await page.goto(`${live.server.url}/admin/users`);
    await page.getByLabel('Email address').fill(email);
    await page.getByRole('button', { name: 'Open' }).click();
    await page.waitForURL(/\/admin\/users\/[0-9a-f-]+$/);
    await page.getByLabel('support').check();
    await page.getByRole('button', { name: 'Save roles' }).click();
    await page.waitForURL(/notice=roles-saved/);
    expect(await page.getByLabel('support').isChecked()).toBe(true);
    expect(await text(page, '#user-codes')).toBe('10 of 10 left');

    await page
      .getByLabel('Reason (kept in the audit log)')
      .fill('Lost phone and codes; ID checked on a call (ticket 812)');
    await page.getByLabel('Your password, to confirm').fill(BROWSER_PASSWORD);
    await page.getByRole('button', { name: 'Reset two-factor authentication' }).click();
    await page.waitForURL(/notice=mfa-reset/);
    expect(await text(page, '#user-mfa')).toBe('off');
    expect(await text(page, '#user-codes')).toBe('none');
    // The user was signed out and emailed.
    await person.page.goto(`${live.server.url}/settings/two-factor`);
    await person.page.waitForURL(/\/sign-in/);
    expect(
      live.server.env.smtp.messages.some((m) => m.to.includes(email) && m.subject.includes('was reset')),
    ).toBe(true);
    await person.context.close();
    await context.close();
  });

  test('audit log: filter by user and event, export, and verification names the first broken event', async () => {
    const { context, page } = await newTestPage(live.browser);
    const adminEmail = await signedInAdmin(page);
    await page.goto(`${live.server.url}/admin/audit`);
    await page.getByLabel('User email').fill(adminEmail);
    await page.getByLabel('Event', { exact: true }).selectOption('user_created');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/action=user_created/);
    const rows = page.locator('#audit-events tbody tr');
    expect(await rows.count()).toBe(1);
    expect(await rows.first().locator('td:nth-child(5)').textContent()).toBe(adminEmail);

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Export CSV' }).click(),
    ]);
    const csv = readFileSync((await download.path()) as string, 'utf8')
      .trim()
      .split('\r\n');
    expect(csv).toHaveLength(2);
    expect(csv[1]).toContain('user_created');

    await page.getByRole('link', { name: 'Verify the chain' }).click();
    expect(await text(page, '#chain-result')).toContain('The chain verifies');
    const [first] = await live.server.env.deps.store.listAuditEventsAscending({
      action: 'user_created',
      userId: (await live.server.env.deps.store.findUserByEmail(adminEmail))?.id,
      limit: 1,
    });
    await sql`update audit_events set ip = '203.0.113.66' where seq = ${first?.seq}`.execute(
      live.server.env.opened.db,
    );
    await page.reload();
    expect(await text(page, '#chain-result')).toContain(`Event #${first?.seq} was altered`);
    await sql`update audit_events set ip = ${first?.ip ?? null} where seq = ${first?.seq}`.execute(
      live.server.env.opened.db,
    );
    await page.reload();
    expect(await text(page, '#chain-result')).toContain('The chain verifies');
    await context.close();
  });
});
