import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  WEBHOOK_REPLAY_WINDOW_SECONDS,
  webhookRetryDelayMs,
  webhookUrlProblem,
} from '../../src/core/webhook.js';
import { resetUserMfa } from '../../src/service/admin/reset-mfa.js';
import { verifyTotp } from '../../src/service/factors/verify-totp.js';
import { generateRecoveryCodes } from '../../src/service/recovery-codes/generate-recovery-codes.js';
import { verifyRecoveryCode } from '../../src/service/recovery-codes/verify-recovery-code.js';
import { backendAuthority } from '../../src/service/sign-in/change-authority.js';
import {
  addWebhookEndpoint,
  deliverDueWebhooks,
  emitWebhookEvent,
} from '../../src/service/webhooks/webhooks.js';
import { testEngines } from '../helpers/engines.js';
import { configureRecoveryCodes, enableTotp } from '../helpers/mfa.js';
import {
  createTestEnvironment,
  createTestUser,
  type TestEnvironment,
  UNTHROTTLED,
} from '../helpers/service-deps.js';
import { runNodeRecipe } from '../helpers/webhook-doc-recipe.js';
import { startWebhookReceiver } from '../helpers/webhook-receiver.js';

/** A real HTTP receiver on 127.0.0.1 that is down (503) for its first `downFor` requests. */
const startReceiver = (downFor: number) => startWebhookReceiver({ downFor });

const development = { allowHttpLoopback: true };
const production = { allowHttpLoopback: false };

test('endpoint addresses: https; plain http to this machine only on a development server; no credentials', () => {
  for (const policy of [development, production]) {
    expect(webhookUrlProblem('https://hooks.example.com/sparekey', policy)).toBeUndefined();
    expect(webhookUrlProblem('https://10.1.2.3/siem', policy)).toBeUndefined();
    expect(webhookUrlProblem('http://hooks.example.com/x', policy)).toMatch(/^Use an https/);
    expect(webhookUrlProblem('http://10.1.2.3/x', policy)).toMatch(/^Use an https/);
    expect(webhookUrlProblem('ftp://hooks.example.com/x', policy)).toMatch(/^Use an https/);
    expect(webhookUrlProblem('https://user:pw@hooks.example.com/x', policy)).toMatch(/user name or password/);
    expect(webhookUrlProblem('not a url', policy)).toMatch(/full address/);
  }
  for (const url of ['http://127.0.0.1:8080/hook', 'http://localhost/hook', 'http://[::1]:9000/hook']) {
    expect(webhookUrlProblem(url, development)).toBeUndefined();
    expect(webhookUrlProblem(url, production)).toMatch(/SPAREKEY_WEBHOOK_ALLOW_HTTP_LOOPBACK=on/);
  }
  expect(WEBHOOK_REPLAY_WINDOW_SECONDS).toBe(300);
});

describe.each(testEngines())('security webhooks on %s', (engine) => {
  let env: TestEnvironment;
  beforeEach(async () => {
    env = await createTestEnvironment(engine, {
      throttle: {
        ...UNTHROTTLED,
        account: { freeFailures: 2, baseDelayMs: 0, maxDelayMs: 0, lockAfter: 3, forgetAfterMs: null },
      },
    });
    await configureRecoveryCodes(env, { codesPerSet: 4, lowThreshold: 2 });
    // The receivers below are plain http on 127.0.0.1: a development server's setting.
    env.deps.options.webhookAllowHttpLoopback = true;
  });
  afterEach(async () => env.close());

  async function subscribeToLocks(url: string) {
    const added = await addWebhookEndpoint(env.deps, { url, events: ['mfa.locked'], context: {} });
    if (!added.ok) throw new Error(added.problem);
  }

  /** One `mfa.locked` event in the outbox, as a lockout's transaction writes it. */
  const emitLock = () =>
    env.deps.store.transaction((tx) =>
      emitWebhookEvent(env.deps, tx, { type: 'mfa.locked', at: env.clock.now(), userId: null, context: {} }),
    );

  /** Runs delivery rounds, waiting out each back-off on the test clock, until nothing is pending. */
  async function deliverAll() {
    for (let round = 0; round < 50; round++) {
      await deliverDueWebhooks(env.deps);
      const pending = (await env.deps.store.listWebhookDeliveries(500)).filter((d) => d.status === 'pending');
      if (pending.length === 0) return;
      env.clock.nowMs = Math.max(env.clock.nowMs, ...pending.map((d) => d.nextAttemptAt.getTime()));
    }
    throw new Error('deliveries still pending after 50 rounds');
  }

  test('a receiver down for a while gets every event once per delivery id after it recovers, signed as documented', async () => {
    const receiver = await startReceiver(7);
    try {
      const added = await addWebhookEndpoint(env.deps, {
        url: receiver.url,
        events: [
          'recovery_code.used',
          'recovery_codes.low',
          'recovery_codes.regenerated',
          'mfa.reset_by_admin',
          'mfa.locked',
        ],
        context: { actorId: 'admin-1' },
      });
      if (!added.ok) throw new Error(added.problem);
      expect(added.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);

      // Real actions: two codes used (the second leaves 2: low), a regeneration, a lockout, an admin reset.
      const user = await createTestUser(env, { email: 'hooked@example.test' });
      const totp = await enableTotp(env, user.id);
      const codes = totp.recoveryCodes?.codes ?? [];
      for (const code of codes.slice(0, 2)) {
        expect(
          await verifyRecoveryCode(env.deps, { userId: user.id, code, context: { ip: '198.51.100.20' } }),
        ).toMatchObject({ ok: true });
      }
      expect(
        await generateRecoveryCodes(env.deps, {
          authority: backendAuthority({ kind: 'library', actorId: 'test' }),
          userId: user.id,
          context: {},
        }),
      ).toMatchObject({
        ok: true,
      });
      for (let i = 0; i < 3; i++)
        await verifyTotp(env.deps, { userId: user.id, code: '000000', context: {} });
      expect(
        await resetUserMfa(env.deps, {
          userId: user.id,
          reason: 'lost phone',
          context: { actorId: 'admin-1' },
        }),
      ).toMatchObject({ ok: true });

      await deliverAll();

      const deliveries = await env.deps.store.listWebhookDeliveries(100);
      expect(deliveries.map((d) => d.eventType).sort()).toEqual([
        'mfa.locked',
        'mfa.reset_by_admin',
        'recovery_code.used',
        'recovery_code.used',
        'recovery_codes.low',
        'recovery_codes.regenerated',
      ]);
      expect(deliveries.every((d) => d.status === 'delivered' && d.lastStatusCode === 200)).toBe(true);
      // The receiver was down for its first 7 requests: every delivery was retried at least once.
      expect(deliveries.every((d) => d.attempts >= 2)).toBe(true);
      const accepted = receiver.received.filter((r) => r.answered === 200);
      const ids = accepted.map((r) => r.headers['sparekey-webhook-id']);
      expect(new Set(ids).size).toBe(deliveries.length);
      expect(ids).toHaveLength(deliveries.length);
      expect(new Set(ids)).toEqual(new Set(deliveries.map((d) => d.id)));
      expect(receiver.processed).toHaveLength(deliveries.length);
      // Every request, refused or accepted, verifies with the recipe of docs/webhooks.md (run as written
      // there); the same request with one more byte of body does not.
      const checks = receiver.received.flatMap((request) => {
        const nowSeconds = Number(request.headers['sparekey-webhook-timestamp']);
        return [
          { secret: added.secret, headers: request.headers, body: request.body, nowSeconds },
          {
            secret: added.secret,
            headers: request.headers,
            body: Buffer.concat([request.body, Buffer.from(' ')]),
            nowSeconds,
          },
        ];
      });
      expect(await runNodeRecipe(checks)).toEqual(checks.map((_, i) => i % 2 === 0));
      const used = accepted
        .map((r) => JSON.parse(r.body.toString('utf8')))
        .find((body) => body.type === 'recovery_code.used' && body.data.remaining === 3);
      expect(used).toMatchObject({
        data: { userId: user.id, email: 'hooked@example.test', ip: '198.51.100.20', remaining: 3 },
      });
      // Nothing in a payload is a code.
      for (const request of receiver.received)
        for (const code of codes) expect(request.body.toString('utf8')).not.toContain(code);
    } finally {
      await receiver.close();
    }
  });

  test('a worker that dies after claiming: the delivery goes out again after the lease, with the same id', async () => {
    const receiver = await startReceiver(0);
    try {
      await subscribeToLocks(receiver.url);
      await emitLock();
      const [claimed] = await env.deps.store.claimDueWebhookDeliveries(
        env.clock.now(),
        new Date(env.clock.nowMs + 60_000),
        10,
      );
      expect(claimed).toBeDefined();
      // The claimant "crashed": nothing is sent while its lease runs.
      expect(await deliverDueWebhooks(env.deps)).toMatchObject({ attempted: 0 });
      env.clock.advance(60_000);
      expect(await deliverDueWebhooks(env.deps)).toMatchObject({ attempted: 1, delivered: 1 });
      expect(receiver.received.map((r) => r.headers['sparekey-webhook-id'])).toEqual([claimed?.id]);
      // A late result from the dead worker changes nothing: the delivery is no longer pending.
      expect(
        await env.deps.store.recordWebhookAttempt(claimed?.id as string, {
          at: env.clock.now(),
          outcome: 'retry',
          statusCode: 503,
          error: 'late',
          nextAttemptAt: env.clock.now(),
        }),
      ).toEqual({ recorded: false });
      expect(await deliverDueWebhooks(env.deps)).toMatchObject({ attempted: 0 });
    } finally {
      await receiver.close();
    }
  });

  test('concurrent delivery workers never send one delivery twice', async () => {
    const receiver = await startReceiver(0);
    try {
      await subscribeToLocks(receiver.url);
      for (let i = 0; i < 20; i++) {
        await emitLock();
      }
      const rounds = await Promise.all(Array.from({ length: 6 }, () => deliverDueWebhooks(env.deps, 4)));
      expect(rounds.reduce((sum, round) => sum + round.delivered, 0)).toBe(receiver.received.length);
      await deliverAll();
      const ids = receiver.received.map((r) => r.headers['sparekey-webhook-id']);
      expect(ids).toHaveLength(20);
      expect(new Set(ids).size).toBe(20);
    } finally {
      await receiver.close();
    }
  });

  test('an endpoint that never answers is retried with back-off and given up after the last attempt', async () => {
    const receiver = await startReceiver(1_000);
    try {
      await subscribeToLocks(receiver.url);
      await emitLock();
      await deliverDueWebhooks(env.deps);
      const [first] = await env.deps.store.listWebhookDeliveries(1);
      expect(first).toMatchObject({
        status: 'pending',
        attempts: 1,
        lastStatusCode: 503,
        lastError: 'HTTP 503',
      });
      expect(first?.nextAttemptAt.getTime()).toBe(env.clock.nowMs + webhookRetryDelayMs(1));
      await deliverAll().catch(() => undefined);
      const [last] = await env.deps.store.listWebhookDeliveries(1);
      expect(last).toMatchObject({ status: 'failed', attempts: 18 });
    } finally {
      await receiver.close();
    }
  });
});
