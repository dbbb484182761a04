import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { resetUserMfa } from '../../src/service/admin/reset-mfa.js';
import { getRecoveryCodeStatistics } from '../../src/service/admin/statistics.js';
import { removeFactor } from '../../src/service/factors/manage-mfa.js';
import { backendAuthority } from '../../src/service/sign-in/change-authority.js';
import { addWebhookEndpoint, deliverDueWebhooks } from '../../src/service/webhooks/webhooks.js';
import { testEngines } from '../helpers/engines.js';
import { configureRecoveryCodes, enableTotp } from '../helpers/mfa.js';
import { enableSecurityKeys, registerSoftKey } from '../helpers/security-keys.js';
import { createTestEnvironment, createTestUser, type TestEnvironment } from '../helpers/service-deps.js';
import { runNodeRecipe } from '../helpers/webhook-doc-recipe.js';
import { startWebhookReceiver } from '../helpers/webhook-receiver.js';

/**
 * Issue 23: the security key is covered like the other factors by the notices ("a security key was
 * added/removed", STANDARDS req 54), the webhooks and the operator's statistics (factors by kind).
 */
describe.each(testEngines())('security keys in notices, webhooks and statistics on %s', (engine) => {
  let env: TestEnvironment;
  beforeEach(async () => {
    env = await createTestEnvironment(engine, { notifications: true });
    enableSecurityKeys(env);
    await configureRecoveryCodes(env);
    // The receiver below is plain http on 127.0.0.1: a development server's setting.
    env.deps.options.webhookAllowHttpLoopback = true;
  });
  afterEach(async () => env.close());

  /** Removes one of the user's keys the way Settings does once step-up has passed. */
  async function removeKey(userId: string, name: string) {
    const key = (await env.deps.store.listWebauthnCredentials(userId)).find((k) => k.name === name);
    if (!key) throw new Error(`no key named ${name}`);
    const removed = await removeFactor(env.deps, {
      authority: backendAuthority({ kind: 'library', actorId: 'test' }),
      userId,
      factorId: key.id,
      context: { ip: '198.51.100.7', userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0' },
    });
    expect(removed).toEqual({ ok: true, value: { kind: 'webauthn' } });
    return key.id;
  }

  const keyNotices = (change: 'added' | 'removed') =>
    env.smtp.messages.filter((m) => m.subject.startsWith(`A security key was ${change}`));

  test('req 54: adding and removing a key each email the account, naming the key, the time and the address', async () => {
    const user = await createTestUser(env, { email: 'keys-mail@example.test' });
    await registerSoftKey(env, user.id, { name: 'YubiKey 5C' });
    await registerSoftKey(env, user.id, { name: 'Phone' });
    const added = keyNotices('added');
    expect(added.map((m) => [m.to, m.subject])).toEqual([
      ['keys-mail@example.test', 'A security key was added to your SpareKey Test account'],
      ['keys-mail@example.test', 'A security key was added to your SpareKey Test account'],
    ]);
    expect(added[0]?.text).toContain('("YubiKey 5C") was just added');
    expect(added[1]?.text).toContain('("Phone") was just added');
    expect(added[0]?.text).toContain('Time: 2026-11-22 12:00:00 UTC');

    await removeKey(user.id, 'YubiKey 5C');
    const removed = keyNotices('removed');
    expect(removed.map((m) => [m.to, m.subject])).toEqual([
      ['keys-mail@example.test', 'A security key was removed from your SpareKey Test account'],
    ]);
    expect(removed[0]?.text).toContain('("YubiKey 5C") was just removed');
    expect(removed[0]?.text).toContain('IP address: 198.51.100.7');
    expect(removed[0]?.text).toContain('Browser: Mozilla/5.0');
  });

  test('removing an authenticator app sends no key notice; with notices off nothing is sent', async () => {
    const user = await createTestUser(env);
    await registerSoftKey(env, user.id);
    const totp = await enableTotp(env, user.id);
    expect(
      await removeFactor(env.deps, {
        authority: backendAuthority({ kind: 'library', actorId: 'test' }),
        userId: user.id,
        factorId: totp.factorId,
        context: {},
      }),
    ).toMatchObject({ ok: true, value: { kind: 'totp' } });
    expect(keyNotices('removed')).toEqual([]);

    env.deps.options.notifications = false;
    const quiet = await createTestUser(env);
    const sentBefore = env.smtp.messages.length;
    await registerSoftKey(env, quiet.id);
    await registerSoftKey(env, quiet.id, { name: 'Phone' });
    await removeKey(quiet.id, 'Phone');
    expect(env.smtp.messages.length).toBe(sentBefore);
  });

  test('webhooks: security_key.added and security_key.removed reach a subscribed receiver, signed', async () => {
    const receiver = await startWebhookReceiver();
    try {
      const subscribed = await addWebhookEndpoint(env.deps, {
        url: receiver.url,
        events: ['security_key.added', 'security_key.removed'],
        context: { actorId: 'admin-1' },
      });
      if (!subscribed.ok) throw new Error(subscribed.problem);
      const user = await createTestUser(env, { email: 'keys-hook@example.test' });
      await registerSoftKey(env, user.id, { name: 'YubiKey 5C' });
      await registerSoftKey(env, user.id, { name: 'Phone' });
      const removedId = await removeKey(user.id, 'Phone');
      // Another factor's events do not go to an endpoint that only asked for keys.
      await enableTotp(env, user.id);

      expect(await deliverDueWebhooks(env.deps)).toMatchObject({ attempted: 3, delivered: 3 });
      await receiver.waitForRequests(3);
      const bodies = receiver.received.map((request) => JSON.parse(request.body.toString('utf8')));
      const keys = await env.deps.store.listWebauthnCredentials(user.id);
      expect(bodies.map((body) => body.type).sort()).toEqual([
        'security_key.added',
        'security_key.added',
        'security_key.removed',
      ]);
      const common = { userId: user.id, email: 'keys-hook@example.test' };
      expect(bodies.filter((body) => body.type === 'security_key.added').map((body) => body.data)).toEqual(
        expect.arrayContaining([
          { ...common, ip: null, factorId: keys[0]?.id, deviceType: 'singleDevice' },
          { ...common, ip: null, factorId: removedId, deviceType: 'singleDevice' },
        ]),
      );
      expect(bodies.find((body) => body.type === 'security_key.removed')?.data).toEqual({
        ...common,
        ip: '198.51.100.7',
        factorId: removedId,
      });
      // Each verifies with the recipe of docs/webhooks.md, run as written there.
      const checks = receiver.received.map((request) => ({
        secret: subscribed.secret,
        headers: request.headers,
        body: request.body,
        nowSeconds: Number(request.headers['sparekey-webhook-timestamp']),
      }));
      expect(await runNodeRecipe(checks)).toEqual([true, true, true]);
    } finally {
      await receiver.close();
    }
  });

  test("admin statistics count keys and their users by kind; removal and an administrator's reset lower them", async () => {
    const webauthnRow = async () =>
      (await getRecoveryCodeStatistics(env.deps)).factorsByKind.find((row) => row.kind === 'webauthn');
    expect(await webauthnRow()).toEqual({ kind: 'webauthn', factors: 0, users: 0 });
    const [first, second] = [await createTestUser(env), await createTestUser(env)];
    await registerSoftKey(env, first.id, { name: 'YubiKey 5C' });
    await registerSoftKey(env, first.id, { name: 'Phone' });
    await registerSoftKey(env, second.id);
    expect(await webauthnRow()).toEqual({ kind: 'webauthn', factors: 3, users: 2 });
    await removeKey(first.id, 'Phone');
    expect(await webauthnRow()).toEqual({ kind: 'webauthn', factors: 2, users: 2 });
    const reset = await resetUserMfa(env.deps, {
      userId: first.id,
      reason: 'lost key, identity checked',
      context: { actorId: 'admin-1' },
    });
    expect(reset).toMatchObject({ ok: true, value: { factorsRemoved: 1 } });
    expect(await env.deps.store.listWebauthnCredentials(first.id)).toEqual([]);
    expect(await webauthnRow()).toEqual({ kind: 'webauthn', factors: 1, users: 1 });
  });
});
