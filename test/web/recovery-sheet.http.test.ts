import { afterAll, beforeAll, expect, test } from 'vitest';
import { DEFAULT_RECOVERY_CODE_FORMAT, normalizeRecoveryCode } from '../../src/core/recovery-code.js';
import { recoveryCodeSetLabel } from '../../src/service/recovery-codes/prepare-recovery-code-set.js';
import { configureRecoveryCodes } from '../helpers/mfa.js';
import { createWebTestApp, type WebTestApp } from '../helpers/web-client.js';
import {
  codesOnPage,
  enableTotpThroughPages,
  passwordStep,
  signUpThroughPages,
  TEST_PASSWORD,
  userAtSecondStep,
} from '../helpers/web-flows.js';

/** Issue 8.4: a saved sheet names its set, so a user can tell whether it is the current one. */
let web: WebTestApp;
beforeAll(async () => {
  web = await createWebTestApp();
  await configureRecoveryCodes(web.env, { codesPerSet: 10 });
});
afterAll(async () => web?.close());

const minute = (ms: number) => `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
/** The words of Settings' "Current set" line. */
const currentSetLine = (body: string) =>
  body.match(/<p id="codes-set">([\s\S]*?)<\/p>/)?.[1]?.replace(/<[^>]+>/g, '');
const DAY = 24 * 3600_000;
const text = (body: string) => body.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');

async function currentSetGeneratedAt(userEmail: string): Promise<Date> {
  const user = await web.env.deps.store.findUserByEmail(userEmail);
  const summary = await web.env.deps.store.getRecoveryCodeSummary(user?.id as string);
  return summary?.generatedAt as Date;
}

/**
 * Issue 19.10: nothing in a set's label can pass for a code, neither the whole line nor any word of it,
 * nor anything shaped like a printed code (symbols in dash-separated groups).
 */
function expectNotCodeLike(label: string) {
  expect(label).not.toMatch(/[0-9A-Z]{2,}-[0-9A-Z]{2,}/);
  for (const candidate of [label, ...label.split(/[\s,]+/)]) {
    expect(normalizeRecoveryCode(candidate, DEFAULT_RECOVERY_CODE_FORMAT).ok, candidate).toBe(false);
  }
}

test('the shown sheet carries site, account, generation time and set; its download too; codes in slot order', async () => {
  const client = web.client();
  const email = 'sheet-shown@example.test';
  await signUpThroughPages(client, email);
  await enableTotpThroughPages(client, web.env);
  await client.get('/settings/two-factor/recovery-codes/regenerate');
  const generatedAt = web.env.clock.nowMs;
  const shown = await client.post('/settings/two-factor/recovery-codes/regenerate', {
    password: TEST_PASSWORD,
  });
  expect(shown.statusCode).toBe(200);
  const label = recoveryCodeSetLabel(await currentSetGeneratedAt(email));
  // The word "Set" set apart from a date with a month name: it cannot be read as an eleventh code.
  expect(label).toBe(recoveryCodeSetLabel(new Date(generatedAt)));
  expect(label).toMatch(/^Set of \d{1,2} [A-Z][a-z]+ \d{4}, \d\d:\d\d:\d\d UTC$/);
  expectNotCodeLike(label);
  const sheet = text(shown.body.match(/<dl class="sheet"[\s\S]*?<\/dl>/)?.[0] ?? '');
  expect(sheet).toContain(`Site ${web.env.deps.options.issuer}`);
  expect(sheet).toContain(`Account ${email}`);
  expect(sheet).toContain(`Set ${label}`);
  const download = decodeURIComponent(
    shown.body.match(/id="download-codes"[^>]*href="data:text\/plain;charset=utf-8,([^"]+)"/)?.[1] ?? '',
  );
  const codes = codesOnPage(shown.body);
  // The saved file names the site it is for, in its first line and in its file name.
  const site = web.env.deps.options.issuer;
  expect(download.split('\n')[0]).toBe(`${site} recovery codes for ${email}`);
  expect(shown.body).toContain('download="sparekey-test-recovery-codes.txt"');
  const lines = download.split('\n');
  expect(lines[1]).toBe(label);
  // Only the numbered lines hold codes: no other line of the file looks like one.
  for (const line of lines.slice(1).filter((line) => !/^ ?\d+\. /.test(line))) expectNotCodeLike(line);
  for (const [index, code] of codes.entries()) {
    expect(download).toContain(`${String(index + 1).padStart(2)}. ${code}`);
  }
  // The printed order is slot order: each code opens with its slot symbols, ascending.
  const slotSymbols = codes.map((code) => code[0] as string);
  expect(slotSymbols).toEqual(
    [...slotSymbols].sort(
      (a, b) => '0123456789ABCDEFGHJKMNPQRSTVWXYZ'.indexOf(a) - '0123456789ABCDEFGHJKMNPQRSTVWXYZ'.indexOf(b),
    ),
  );
});

test('Settings shows the current set and date, and which codes of the sheet were used when, never the codes', async () => {
  const email = 'sheet-used@example.test';
  const { client, codes } = await userAtSecondStep(web, email);
  await client.get('/sign-in/recovery');
  const usedAt = web.env.clock.nowMs;
  const signedIn = await client.post('/sign-in/recovery', { code: codes[2] as string });
  expect(signedIn.statusCode).toBe(200);
  expect(signedIn.body).toContain('Signed in');
  const settings = await client.get('/settings/two-factor');
  const generatedAt = await currentSetGeneratedAt(email);
  const label = recoveryCodeSetLabel(generatedAt);
  expect(currentSetLine(settings.body)).toContain(`Current set: ${label}.`);
  expect(text(settings.body)).toContain(`Code 3 · used ${minute(usedAt)}`);
  expect(settings.body.match(/id="codes-used"[\s\S]*?<\/ul>/)?.[0].match(/<li>/g)).toHaveLength(1);
  for (const code of codes) expect(settings.body).not.toContain(code);

  // A new set two days later: another label and date, nothing used; the old sheet's no longer current.
  web.env.clock.advance(2 * DAY);
  await passwordStep(client, email);
  await client.get('/sign-in/two-factor');
  const signedInAgain = await client.post('/sign-in/recovery', { code: codes[3] as string });
  expect(signedInAgain.statusCode).toBe(200);
  await client.get('/settings/two-factor/recovery-codes/regenerate');
  const regenerated = await client.post('/settings/two-factor/recovery-codes/regenerate', {
    password: TEST_PASSWORD,
  });
  expect(regenerated.statusCode).toBe(200);
  const after = await client.get('/settings/two-factor');
  const newLabel = recoveryCodeSetLabel(await currentSetGeneratedAt(email));
  expect(newLabel).not.toBe(label);
  expect(newLabel).toBe(recoveryCodeSetLabel(new Date(web.env.clock.nowMs)));
  expect(currentSetLine(after.body)).toContain(`Current set: ${newLabel}.`);
  expect(text(after.body)).toContain('None of these codes has been used.');
});
