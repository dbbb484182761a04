import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { parseAccessRules } from '../../src/core/access-rules.js';
import { hashSessionToken, SESSION_LIFETIMES } from '../../src/core/session-token.js';
import { type OpenedStore, openStore } from '../../src/store/open-store.js';
import { SHARED_SESSION_COOKIE } from '../../src/web/web-context.js';
import { configureRecoveryCodes, enableTotp } from '../helpers/mfa.js';
import type { FormClient } from '../helpers/web-client.js';
import { signUpThroughPages } from '../helpers/web-flows.js';
import { type ForwardAuthWorld, startForwardAuthWorld } from './forward-auth-world.js';

/**
 * Issue 24 ("fast") without going stale: on SQLite a verdict reuses what earlier verdicts read while the
 * database's change mark has not moved (docs/decisions/0012-forward-auth-verdict-cache.md); PostgreSQL
 * has no mark and reads every time. Either way, every write acknowledged by ANOTHER instance (a second
 * store on the same database: another connection, as another server process has) or another OS process
 * applies to the very next verdict, each verdict here following a verdict that filled the cache. The
 * session's deadlines are checked against the clock on every verdict, cached or not.
 */
const PAGE = 'https://app.example.com/reports/q3?tab=2';
const OPS = 'https://ops.example.com/';
const SECURE = 'https://secure.example.com/';
const WIKI = 'https://wiki.example.com/page';

describe.each(['sqlite', 'postgres'] as const)('verdicts never go stale (%s)', (engine) => {
  let world: ForwardAuthWorld;
  /** Another instance's store: its own connection(s) to the same database. */
  let other: OpenedStore;
  beforeAll(async () => {
    world = await startForwardAuthWorld(engine);
    await configureRecoveryCodes(world.env);
    other = await openStore(world.env.database);
  });
  afterAll(async () => {
    await other?.close();
    await world?.close();
  });

  async function signedIn(email: string) {
    const client = world.client();
    await signUpThroughPages(client, email);
    const user = await world.env.deps.store.findUserByEmail(email);
    if (!user) throw new Error(email);
    const token = client.cookies.get(SHARED_SESSION_COOKIE) as string;
    return { client, userId: user.id, idHash: hashSessionToken(token) as string };
  }

  /** Two verdicts in a row: the second one is answered from the cache where there is one. */
  async function warm(client: FormClient | undefined, url: string, status: number) {
    expect((await world.verify(client, url)).statusCode).toBe(status);
    expect((await world.verify(client, url)).statusCode).toBe(status);
  }

  test(
    engine === 'sqlite'
      ? 'a repeated verdict is answered without reading the session again (the cache is in effect)'
      : 'every verdict reads the session (no change mark on PostgreSQL: nothing is cached)',
    async () => {
      const { client } = await signedIn(`cache-effect-${engine}@example.test`);
      expect((await world.verify(client, PAGE)).statusCode).toBe(200);
      const reads = vi.spyOn(world.env.deps.store, 'findSessionWithUser');
      try {
        for (let i = 0; i < 3; i++) expect((await world.verify(client, PAGE)).statusCode).toBe(200);
        expect(reads).toHaveBeenCalledTimes(engine === 'sqlite' ? 0 : 3);
      } finally {
        reads.mockRestore();
      }
    },
  );

  test('sign-out elsewhere (the session deleted by another instance): the next verdict asks to sign in', async () => {
    const { client, idHash } = await signedIn(`cache-signout-${engine}@example.test`);
    await warm(client, PAGE, 200);
    expect(await other.store.deleteSession(idHash)).toEqual({ deleted: true });
    expect((await world.verify(client, PAGE)).statusCode).toBe(401);
  });

  test("revocation of all of a user's sessions by another instance: the next verdict asks to sign in", async () => {
    const { client, userId } = await signedIn(`cache-revoke-${engine}@example.test`);
    await warm(client, PAGE, 200);
    expect(await other.store.deleteUserSessions(userId)).toBe(1);
    expect((await world.verify(client, PAGE)).statusCode).toBe(401);
  });

  test('the user erased by another instance: the next verdict asks to sign in', async () => {
    const { client, userId } = await signedIn(`cache-erased-${engine}@example.test`);
    await warm(client, PAGE, 200);
    await other.store.deleteUser(userId);
    expect((await world.verify(client, PAGE)).statusCode).toBe(401);
  });

  test('MFA reset by another instance: a two_factor rule sends the person to set a factor up again', async () => {
    const { client, userId } = await signedIn(`cache-mfa-${engine}@example.test`);
    await enableTotp(world.env, userId);
    await warm(client, SECURE, 200);
    await other.store.deleteAllFactors(userId);
    const verdict = await world.verify(client, SECURE);
    expect(verdict.statusCode).toBe(401);
    expect(verdict.headers.location).toMatch(/^https:\/\/auth\.example\.com\/settings\/two-factor\?/);
  });

  test('a role granted, then removed, by another instance: each applies to the next verdict', async () => {
    const { client, userId } = await signedIn(`cache-role-${engine}@example.test`);
    await warm(client, OPS, 403);
    await other.store.setUserRoles(userId, ['ops']);
    await warm(client, OPS, 200);
    await other.store.setUserRoles(userId, ['subscriber']);
    expect((await world.verify(client, OPS)).statusCode).toBe(403);
  });

  test('a new configuration in this process (rules from the file, the public address): the next verdict follows it, kept evaluations or not', async () => {
    const { client } = await signedIn(`cache-config-${engine}@example.test`);
    await warm(client, PAGE, 200);
    await warm(undefined, PAGE, 401);
    const before = world.env.deps.options.forwardAuth;
    const publicUrl = world.env.deps.options.publicUrl;
    const denying = parseAccessRules({ defaultPolicy: 'deny', rules: [] });
    if (!denying.ok || !before) throw new Error('rules');
    try {
      world.env.deps.options.forwardAuth = { ...before, rules: denying.rules };
      expect((await world.verify(client, PAGE)).statusCode).toBe(403);
      world.env.deps.options.forwardAuth = before;
      expect((await world.verify(client, PAGE)).statusCode).toBe(200);
      world.env.deps.options.publicUrl = 'https://login.example.com';
      expect((await world.verify(undefined, PAGE)).headers.location).toMatch(
        /^https:\/\/login\.example\.com\/sign-in\?/,
      );
    } finally {
      world.env.deps.options.forwardAuth = before;
      world.env.deps.options.publicUrl = publicUrl;
    }
    expect((await world.verify(undefined, PAGE)).headers.location).toMatch(
      /^https:\/\/auth\.example\.com\/sign-in\?/,
    );
  });

  test("the console's rules changed by another instance: each change applies to the next verdict", async () => {
    const { client } = await signedIn(`cache-rules-${engine}@example.test`);
    const before = await other.store.getSetting('access_rules');
    try {
      await warm(client, WIKI, 403);
      const allow = { rules: [{ name: 'wiki', hosts: ['wiki.example.com'], policy: 'one_factor' }] };
      await other.store.putSetting('access_rules', allow, new Date());
      await warm(client, WIKI, 200);
      const deny = { rules: [{ name: 'wiki', hosts: ['wiki.example.com'], policy: 'deny' }] };
      await other.store.putSetting('access_rules', deny, new Date());
      expect((await world.verify(client, WIKI)).statusCode).toBe(403);
    } finally {
      await other.store.putSetting('access_rules', before ?? { rules: [] }, new Date());
    }
  });

  test('the settings changed by another instance (roles that must set up two-factor): the next verdict applies them', async () => {
    const { client } = await signedIn(`cache-settings-${engine}@example.test`);
    const settings = await other.store.getSetting('recovery_codes');
    try {
      await warm(client, PAGE, 200);
      await other.store.putSetting(
        'recovery_codes',
        { ...(settings as object), mfaRequiredRoles: ['subscriber'] },
        new Date(),
      );
      const owed = await world.verify(client, PAGE);
      expect(owed.statusCode).toBe(401);
      expect(owed.headers.location).toContain('/settings/two-factor');
    } finally {
      await other.store.putSetting('recovery_codes', settings, new Date());
    }
    expect((await world.verify(client, PAGE)).statusCode).toBe(200);
  });

  test("a sign-out through this instance's own pages: the next verdict asks to sign in", async () => {
    const { client } = await signedIn(`cache-own-signout-${engine}@example.test`);
    await warm(client, PAGE, 200);
    // The browser forgets the cookie on sign-out; a copy of it stands for one kept elsewhere.
    const kept = { cookies: new Map(client.cookies) } as unknown as FormClient;
    await client.get('/settings/password');
    const signedOut = await client.post('/sign-out', {});
    expect(signedOut.statusCode).toBe(303);
    expect((await world.verify(kept, PAGE)).statusCode).toBe(401);
  });

  test('the idle deadline is checked against the clock on every verdict, with no write in between', async () => {
    const { client, idHash } = await signedIn(`cache-idle-${engine}@example.test`);
    await warm(client, PAGE, 200);
    // Nothing is written from here on: only the clock moves past the idle deadline.
    world.env.clock.advance(SESSION_LIFETIMES.signedInIdleMs + 1);
    expect((await world.verify(client, PAGE)).statusCode).toBe(401);
    expect(await other.store.findSession(idHash)).toBeUndefined();
  });

  test('the once-a-minute idle refresh is still written from a cached session, and keeps the session alive', async () => {
    const { client, idHash } = await signedIn(`cache-touch-${engine}@example.test`);
    await warm(client, PAGE, 200);
    const seen = (await other.store.findSession(idHash))?.lastSeenAt.getTime() as number;
    // Twenty minutes of use, a verdict every 61 seconds: each one slides the idle deadline.
    for (let minute = 0; minute < 20; minute++) {
      world.env.clock.advance(61_000);
      expect((await world.verify(client, PAGE)).statusCode).toBe(200);
    }
    const touched = await other.store.findSession(idHash);
    expect(touched?.lastSeenAt.getTime()).toBe(world.env.clock.nowMs);
    expect(touched?.lastSeenAt.getTime()).toBeGreaterThan(seen);
    // Past the 30 minutes of idleness measured from the first verdict, still signed in (slid each time).
    world.env.clock.advance(SESSION_LIFETIMES.signedInIdleMs - 1000);
    expect((await world.verify(client, PAGE)).statusCode).toBe(200);
  });

  test.runIf(engine === 'sqlite')(
    'a session deleted by another OS process (raw SQL on the file): the next verdict asks to sign in',
    async () => {
      const { client, idHash } = await signedIn('cache-os-process@example.test');
      await warm(client, PAGE, 200);
      const script = [
        "const Database = require('better-sqlite3');",
        'const db = new Database(process.argv[1], { timeout: 5000 });',
        "const deleted = db.prepare('delete from sessions where id_hash = ?').run(process.argv[2]).changes;",
        'db.close();',
        'process.stdout.write(String(deleted));',
      ].join('\n');
      const run = spawnSync(process.execPath, ['-e', script, world.env.location, idHash], {
        encoding: 'utf8',
      });
      expect(run.stderr).toBe('');
      expect(run.stdout).toBe('1');
      expect((await world.verify(client, PAGE)).statusCode).toBe(401);
    },
  );
});
