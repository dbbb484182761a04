import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  createSpareKey,
  type HostCeremony,
  type PublicKeyCredentialCreationOptionsJSON,
  type SecurityKeySummary,
  type SpareKeyOptions,
} from '../../src/index.js';
import { browserAvailable, launchBrowser, newTestPage } from '../helpers/browser.js';
import { testEngines } from '../helpers/engines.js';
import { createInPage, getInPage, startHostPage } from '../helpers/host-page.js';
import { testDatabaseUrl, uniqueSchemaName } from '../helpers/postgres.js';
import { VirtualAuthenticator } from '../helpers/virtual-authenticator.js';

const secret = Buffer.alloc(32, 5).toString('base64');

function database(engine: string): SpareKeyOptions['database'] {
  return engine === 'sqlite'
    ? { kind: 'sqlite', path: join(mkdtempSync(join(tmpdir(), 'sparekey-keys-')), 'host.db') }
    : { kind: 'postgres', url: testDatabaseUrl, schema: uniqueSchemaName('keys') };
}

/**
 * Issue 23, "a library option for keys": a host configures the WebAuthn relying party (createSpareKey's
 * `webauthn`) and drives security keys by its own user ids, with answers from Chromium's virtual
 * authenticator in the host's own page (STANDARDS req 62: origin verified, challenge single use).
 */
describe('the library option for security keys', () => {
  test('the relying party is checked at creation: a host name as RP ID, origins on it', async () => {
    const base = { database: database('sqlite'), secret, kdfProfile: 'minimum' } as const;
    await expect(
      createSpareKey({
        ...base,
        webauthn: { rpId: 'https://example.com', origins: ['https://example.com'] },
      }),
    ).rejects.toThrow(/rpId must be a host name/);
    await expect(createSpareKey({ ...base, webauthn: { rpId: 'example.com', origins: [] } })).rejects.toThrow(
      /at least one origin/,
    );
    await expect(
      createSpareKey({ ...base, webauthn: { rpId: 'example.com', origins: ['https://example.org'] } }),
    ).rejects.toThrow(/https:\/\/example.org is not on example.com/);
    await expect(
      createSpareKey({ ...base, webauthn: { rpId: 'example.com', origins: ['ftp://example.com'] } }),
    ).rejects.toThrow(/not an http\(s\) origin/);
  });

  test('without the option, keys are not offered', async () => {
    const sparekey = await createSpareKey({ database: database('sqlite'), secret, kdfProfile: 'minimum' });
    try {
      await sparekey.users.ensure({ externalId: 'no-keys' });
      expect(await sparekey.securityKeys.registrationOptions({ externalId: 'no-keys' })).toEqual({
        ok: false,
        error: 'security_keys_unavailable',
      });
      expect(await sparekey.securityKeys.registrationOptions({ externalId: 'nobody' })).toEqual({
        ok: false,
        error: 'user_not_found',
      });
    } finally {
      await sparekey.close();
    }
  });
});

describe.skipIf(!browserAvailable()).each(testEngines())(
  'security keys by host user id, with Chromium, on %s',
  (engine) => {
    let browser: Browser;
    let host: Awaited<ReturnType<typeof startHostPage>>;
    let elsewhere: Awaited<ReturnType<typeof startHostPage>>;
    beforeAll(async () => {
      browser = await launchBrowser();
      host = await startHostPage();
      elsewhere = await startHostPage();
    });
    afterAll(async () => {
      await browser?.close();
      await host?.close();
      await elsewhere?.close();
    });

    test('register (first codes once), list, verify once, rename, remove; another origin refused', async () => {
      const sparekey = await createSpareKey({
        database: database(engine),
        secret,
        issuer: 'Example',
        kdfProfile: 'minimum',
        webauthn: { rpId: 'localhost', rpName: 'Example shop', origins: [host.url] },
      });
      const { context, page } = await newTestPage(browser);
      try {
        await sparekey.admin.updateSettings({ enabled: true });
        const user = { externalId: `shop-${engine}-1` };
        expect((await sparekey.users.ensure(user)).ok).toBe(true);
        await page.goto(host.url);
        await VirtualAuthenticator.attach(context, page, 'internal');

        const started = await sparekey.securityKeys.registrationOptions(user);
        if (!started.ok) throw new Error(started.error);
        const ceremony: HostCeremony<PublicKeyCredentialCreationOptionsJSON> = started.value;
        expect(ceremony.options.rp).toEqual({ id: 'localhost', name: 'Example shop' });
        const response = await createInPage(page, ceremony.options);
        const registered = await sparekey.securityKeys.register({
          ...user,
          ceremonyId: ceremony.ceremonyId,
          name: 'Laptop',
          response,
        });
        if (!registered.ok) throw new Error(registered.error);
        expect(registered.value.mfaEnabled).toBe(true);
        expect(registered.value.recoveryCodes?.codes).toHaveLength(10);
        // Once: the same answer again is refused, and no second key appears.
        expect(
          await sparekey.securityKeys.register({
            ...user,
            ceremonyId: ceremony.ceremonyId,
            name: 'Again',
            response,
          }),
        ).toEqual({ ok: false, error: 'webauthn_challenge_invalid' });

        const listed = await sparekey.securityKeys.list(user);
        if (!listed.ok) throw new Error('list');
        const keys: SecurityKeySummary[] = listed.value;
        expect(keys.map((key) => key.name)).toEqual(['Laptop']);
        expect((await sparekey.mfa.overview(user)).factors.map((factor) => factor.kind)).toEqual([
          'webauthn',
        ]);

        const challenge = await sparekey.securityKeys.authenticationOptions(user);
        if (!challenge.ok) throw new Error(challenge.error);
        const assertion = await getInPage(page, challenge.value.options);
        const answer = { ...user, ceremonyId: challenge.value.ceremonyId, response: assertion };
        expect(await sparekey.securityKeys.verify(answer)).toEqual({
          ok: true,
          value: { factorId: keys[0]?.id },
        });
        expect(await sparekey.securityKeys.verify(answer)).toEqual({
          ok: false,
          error: 'webauthn_challenge_invalid',
        });

        // The same key answering a page on an origin the host did not list is refused.
        await page.goto(elsewhere.url);
        const foreign = await sparekey.securityKeys.authenticationOptions(user);
        if (!foreign.ok) throw new Error(foreign.error);
        const foreignAnswer = await getInPage(page, foreign.value.options);
        expect(
          await sparekey.securityKeys.verify({
            ...user,
            ceremonyId: foreign.value.ceremonyId,
            response: foreignAnswer,
          }),
        ).toEqual({ ok: false, error: 'security_key_failed' });

        expect(
          await sparekey.securityKeys.rename({
            ...user,
            factorId: keys[0]?.id as string,
            name: 'Work laptop',
          }),
        ).toEqual({ ok: true, value: { name: 'Work laptop' } });
        // The only factor is not removed this way; the user of another id never reaches it.
        expect(
          await sparekey.securityKeys.remove({ ...user, factorId: keys[0]?.id as string }),
        ).toMatchObject({
          ok: false,
          error: 'last_factor',
        });
        // With a second key (a USB one), the first goes.
        await page.goto(host.url);
        await VirtualAuthenticator.attach(context, page, 'usb');
        const again = await sparekey.securityKeys.registrationOptions(user);
        if (!again.ok) throw new Error(again.error);
        const second = await sparekey.securityKeys.register({
          ...user,
          ceremonyId: again.value.ceremonyId,
          name: 'YubiKey',
          response: await createInPage(page, again.value.options),
        });
        expect(second).toMatchObject({ ok: true, value: { mfaEnabled: false, recoveryCodes: null } });
        expect(
          await sparekey.securityKeys.remove({ ...user, factorId: keys[0]?.id as string }),
        ).toMatchObject({
          ok: true,
          value: { kind: 'webauthn' },
        });
        const left = await sparekey.securityKeys.list(user);
        expect(left.ok && left.value.map((key) => key.name)).toEqual(['YubiKey']);
        await sparekey.users.ensure({ externalId: `shop-${engine}-2` });
        expect(
          await sparekey.securityKeys.remove({
            externalId: `shop-${engine}-2`,
            factorId: keys[0]?.id as string,
          }),
        ).toMatchObject({ ok: false, error: 'factor_not_found' });
      } finally {
        await context.close();
        await sparekey.close();
      }
    });
  },
);
