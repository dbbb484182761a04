import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCommonPasswords } from '../../src/config/common-passwords.js';
import { MINIMUM_TEST_PASSWORD_PARAMS } from '../../src/core/password.js';
import type { Kdf } from '../../src/core/recovery-code-digest.js';
import { argon2idKdf, MINIMUM_TEST_ARGON2ID_PARAMS } from '../../src/core/recovery-code-digest.js';
import { deriveServerKeys } from '../../src/core/server-keys.js';
import { DEFAULT_TOTP_SETTINGS } from '../../src/core/totp.js';
import { fetchOutboundHttp } from '../../src/outbound/fetch-outbound-http.js';
import type { ServiceDeps } from '../../src/service/deps.js';
import { systemRandom } from '../../src/service/ports/system-random.js';
import type { ThrottleOptions } from '../../src/service/throttle/throttle-counters.js';
import { type DatabaseConfig, type OpenedStore, openStore } from '../../src/store/open-store.js';
import { uniqueSchemaName } from './postgres.js';
import { type SmtpCapture, startSmtpCapture } from './smtp-capture.js';
import { copyPostgresTemplate, copySqliteTemplate } from './store-templates.js';

export type Engine = 'sqlite' | 'postgres';

/**
 * For tests of something other than throttling that make many attempts on one account at once (single use
 * under concurrency, per-code caps): a throttle that never engages. The production defaults apply otherwise.
 */
const NEVER_ENGAGES = {
  freeFailures: 1_000_000,
  baseDelayMs: 1000,
  maxDelayMs: 1000,
  lockAfter: null,
  forgetAfterMs: null,
};
export const UNTHROTTLED: ThrottleOptions = {
  account: NEVER_ENGAGES,
  address: NEVER_ENGAGES,
  emailSend: NEVER_ENGAGES,
  emailSendAddress: NEVER_ENGAGES,
};

/** A clock the test moves by hand. */
export class TestClock {
  constructor(public nowMs = Date.UTC(2026, 10, 22, 12, 0, 0)) {}
  now = (): Date => new Date(this.nowMs);
  advance(ms: number): void {
    this.nowMs += ms;
  }
}

/** Wraps the real argon2id KDF and counts its runs, to prove "one KDF per attempt". */
export function countingKdf(inner: Kdf = argon2idKdf): Kdf & { calls: number } {
  const counter = {
    calls: 0,
    derive: (...args: Parameters<Kdf['derive']>) => {
      counter.calls += 1;
      return inner.derive(...args);
    },
  };
  return counter;
}

export const TEST_SERVER_SECRET = new Uint8Array(32).fill(7);

export interface TestEnvironment {
  deps: ServiceDeps;
  clock: TestClock;
  kdf: Kdf & { calls: number };
  opened: OpenedStore;
  /** A real SMTP server in-process: every email the use cases sent. */
  smtp: SmtpCapture;
  /** SQLite: the database file; PostgreSQL: the schema. */
  location: string;
  /** How to open the same database again (a second connection, a server process). */
  database: DatabaseConfig;
  engine: Engine;
  close(): Promise<void>;
}

/**
 * Real storage on either engine (a copy of the run's migrated template, see store-templates.ts), fast KDF
 * parameters, a test clock. Nothing is mocked.
 */
export async function createTestEnvironment(
  engine: Engine,
  options: { notifications?: boolean; timeZone?: string; throttle?: ThrottleOptions } = {},
): Promise<TestEnvironment> {
  const clock = new TestClock();
  const kdf = countingKdf();
  let opened: OpenedStore;
  let location: string;
  let database: DatabaseConfig;
  let cleanup: () => Promise<void>;
  if (engine === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'sparekey-test-'));
    location = join(dir, 'sparekey.db');
    copySqliteTemplate(location);
    database = { kind: 'sqlite', path: location };
    opened = await openStore(database);
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    location = uniqueSchemaName('svc');
    const copy = await copyPostgresTemplate(location);
    database = { kind: 'postgres', url: copy.url, schema: location, poolSize: 10 };
    opened = await openStore(database);
    cleanup = copy.drop;
  }
  const smtp = await startSmtpCapture();
  const deps: ServiceDeps = {
    store: opened.store,
    mailer: smtp.mailer,
    outboundHttp: fetchOutboundHttp,
    clock,
    random: systemRandom,
    kdf,
    keys: deriveServerKeys(TEST_SERVER_SECRET),
    options: {
      kdfParams: MINIMUM_TEST_ARGON2ID_PARAMS,
      issuer: 'SpareKey Test',
      totp: DEFAULT_TOTP_SETTINGS,
      emailOtp: { enabled: true, ttlMs: 10 * 60 * 1000, digits: 6, maxAttempts: 5 },
      password: { params: MINIMUM_TEST_PASSWORD_PARAMS, commonPasswords: loadCommonPasswords() },
      notifications: options.notifications ?? false,
      timeZone: options.timeZone ?? 'UTC',
      throttle: options.throttle,
    },
  };
  return {
    deps,
    clock,
    kdf,
    opened,
    smtp,
    location,
    database,
    engine,
    close: async () => {
      await smtp.close();
      await opened.close();
      await cleanup();
    },
  };
}

/** Creates a user directly in the store. */
export async function createTestUser(
  env: TestEnvironment,
  options: { email?: string; roles?: string[] } = {},
): Promise<{ id: string; email: string }> {
  const id = env.deps.random.uuid();
  const email = options.email ?? `user-${id.slice(0, 8)}@example.test`;
  const created = await env.deps.store.createUser({
    id,
    email,
    passwordHash: null,
    roles: options.roles ?? ['subscriber'],
    createdAt: env.clock.now(),
  });
  if (!created.created) throw new Error(`could not create ${email}`);
  return { id, email };
}
