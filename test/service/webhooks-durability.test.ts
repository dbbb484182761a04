import { once } from 'node:events';
import { dirname } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  addWebhookEndpoint,
  deliverDueWebhooks,
  emitWebhookEvent,
  startWebhookWorker,
} from '../../src/service/webhooks/webhooks.js';
import { testEngines } from '../helpers/engines.js';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { createTestEnvironment, TEST_SERVER_SECRET, type TestEnvironment } from '../helpers/service-deps.js';
import { runNodeRecipe } from '../helpers/webhook-doc-recipe.js';
import { startWebhookReceiver } from '../helpers/webhook-receiver.js';

/**
 * Issue 8.3's durability claims with real processes and a real receiver: a crash between the send and its
 * record, a graceful stop in the middle of a send, and the background loop itself. (That the outbox row
 * commits and rolls back with its change is in the store contract, src/store/contract/webhooks.contract.ts.)
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

async function subscribe(env: TestEnvironment, url: string): Promise<string> {
  const added = await addWebhookEndpoint(env.deps, { url, events: ['mfa.locked'], context: {} });
  if (!added.ok) throw new Error(added.problem);
  return added.secret;
}

const emitLock = (env: TestEnvironment) =>
  env.deps.store.transaction((tx) =>
    emitWebhookEvent(env.deps, tx, { type: 'mfa.locked', at: env.clock.now(), userId: null, context: {} }),
  );

const deliveries = (env: TestEnvironment) => env.deps.store.listWebhookDeliveries(100);

describe('a real server process on the test database (SQLite)', () => {
  let env: TestEnvironment;
  let server: ServerProcess | undefined;
  beforeEach(async () => {
    env = await createTestEnvironment('sqlite');
    env.deps.options.webhookAllowHttpLoopback = true;
    // The server runs on the system clock: the test clock starts where it is, so both agree on "due".
    env.clock.nowMs = Date.now() - 1000;
  });
  afterEach(async () => {
    if (server && server.child.exitCode === null && server.child.signalCode === null)
      server.child.kill('SIGKILL');
    server = undefined;
    await env.close();
  });

  /** The real server (src/main.ts) on the test environment's database file and server secret. */
  const startServer = () =>
    startServerProcess({
      SPAREKEY_DATA_DIR: dirname(env.location),
      SPAREKEY_SECRET: Buffer.from(TEST_SERVER_SECRET).toString('hex'),
      SPAREKEY_KDF_PROFILE: 'minimum',
      SPAREKEY_WEBHOOK_ALLOW_HTTP_LOOPBACK: 'on',
      SPAREKEY_LOG_LEVEL: 'warn',
    });

  test('sent but not recorded: killed after the receiver got it, it is sent again after the lease with the same id, and recorded once', async () => {
    const receiver = await startWebhookReceiver({
      answer: async (index) => {
        // The first request has arrived whole: the sender dies before it can read the answer.
        if (index === 0 && server) {
          const killed = once(server.child, 'exit');
          server.child.kill('SIGKILL');
          await killed;
        }
        return 200;
      },
    });
    try {
      const secret = await subscribe(env, receiver.url);
      server = await startServer();
      await emitLock(env);
      await receiver.waitForRequests(1);
      await until(async () => server?.child.signalCode === 'SIGKILL', 'the server to die');
      const [claimed] = await deliveries(env);
      // The receiver processed it; SpareKey never learnt so: still pending, one attempt counted.
      expect(receiver.processed).toEqual([claimed?.id]);
      expect(claimed).toMatchObject({ status: 'pending', attempts: 1, lastStatusCode: null });

      // While the dead process's 60-second lease runs, no one else sends it.
      env.clock.nowMs = Date.now();
      expect(await deliverDueWebhooks(env.deps)).toMatchObject({ attempted: 0 });
      env.clock.nowMs = Date.now() + 61_000;
      expect(await deliverDueWebhooks(env.deps)).toMatchObject({ attempted: 1, delivered: 1 });

      expect(receiver.received.map((r) => r.id)).toEqual([claimed?.id, claimed?.id]);
      expect(receiver.received[1]?.duplicate).toBe(true);
      expect(receiver.processed).toEqual([claimed?.id]);
      const [recorded] = await deliveries(env);
      expect(recorded).toMatchObject({
        id: claimed?.id,
        status: 'delivered',
        attempts: 2,
        lastStatusCode: 200,
      });
      env.clock.advance(3_600_000);
      expect(await deliverDueWebhooks(env.deps)).toMatchObject({ attempted: 0 });
      // Both processes signed with the one secret derived from SPAREKEY_SECRET.
      const checks = receiver.received.map((r) => ({
        secret,
        headers: r.headers,
        body: r.body,
        nowSeconds: Number(r.headers['sparekey-webhook-timestamp']),
      }));
      expect(await runNodeRecipe(checks)).toEqual([true, true]);
    } finally {
      await receiver.close();
    }
  }, 60_000);

  test('SIGTERM while a delivery is in flight: the process waits for the answer, records it, exits 0 (docs/operations.md)', async () => {
    let answer!: () => void;
    const answered = new Promise<void>((resolve) => {
      answer = resolve;
    });
    const receiver = await startWebhookReceiver({
      answer: async () => {
        await answered;
        return 204;
      },
    });
    try {
      await subscribe(env, receiver.url);
      server = await startServer();
      await emitLock(env);
      await receiver.waitForRequests(1);
      const exited = server.stop();
      await sleep(500);
      expect(server.child.exitCode).toBeNull();
      answer();
      expect(await exited).toBe(0);
      const [delivery] = await deliveries(env);
      expect(delivery).toMatchObject({ status: 'delivered', attempts: 1, lastStatusCode: 204 });
      expect(receiver.received).toHaveLength(1);
    } finally {
      await receiver.close();
    }
  }, 60_000);
});

describe.each(testEngines())('the background worker (startWebhookWorker) on %s', (engine) => {
  let env: TestEnvironment;
  beforeEach(async () => {
    env = await createTestEnvironment(engine);
    env.deps.options.webhookAllowHttpLoopback = true;
  });
  afterEach(async () => env.close());

  test('delivers with no manual round, follows the back-off, and stops cleanly: the send in flight is recorded, nothing is sent after', async () => {
    let answerThird!: () => void;
    const thirdHeld = new Promise<void>((resolve) => {
      answerThird = resolve;
    });
    const receiver = await startWebhookReceiver({
      answer: async (index) => {
        if (index === 0) return 503;
        if (index === 2) await thirdHeld;
        return 200;
      },
    });
    const errors: unknown[] = [];
    const stop = startWebhookWorker(env.deps, { intervalMs: 20, onError: (error) => errors.push(error) });
    let stopped = false;
    try {
      await subscribe(env, receiver.url);
      await emitLock(env);
      await receiver.waitForRequests(1);
      await until(
        async () => (await deliveries(env))[0]?.lastStatusCode === 503,
        'the first attempt recorded',
      );
      // The retry is due 10 s later on the worker's clock, and not before.
      await sleep(200);
      expect(receiver.received).toHaveLength(1);
      env.clock.advance(10_000);
      await receiver.waitForRequests(2);
      await until(async () => (await deliveries(env))[0]?.status === 'delivered', 'the retry recorded');

      await emitLock(env);
      await receiver.waitForRequests(3);
      const stopping = stop().then(() => {
        stopped = true;
      });
      await sleep(200);
      expect(stopped).toBe(false); // waiting for the send in flight
      answerThird();
      await stopping;
      const afterStop = await deliveries(env);
      expect(afterStop.map((d) => d.status)).toEqual(['delivered', 'delivered']);

      await emitLock(env);
      await sleep(300);
      expect(receiver.received).toHaveLength(3);
      const sent = new Set(receiver.received.map((r) => r.id));
      const unsent = (await deliveries(env)).filter((d) => !sent.has(d.id));
      expect(unsent).toMatchObject([{ status: 'pending', attempts: 0 }]);
      expect(errors).toEqual([]);
    } finally {
      if (!stopped) await stop();
      await receiver.close();
    }
  }, 30_000);
});
