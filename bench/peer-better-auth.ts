/**
 * Issue 7.3: the same operations on better-auth's two-factor plugin (a dev dependency of this bench only),
 * both on SQLite files, in one process, one operation at a time:
 *   generate a set of 10 codes, verify a valid code, verify an invalid code,
 * with the ratio SpareKey/better-auth, and the bytes one user's set takes in each database (the stored
 * form of the codes, and the table and index pages on disk, from SQLite's dbstat).
 *
 * SpareKey runs twice: with its production KDF (argon2id, OWASP parameters) and with argon2's minimum cost,
 * which separates the machinery from the hash. better-auth stores a user's codes as one encrypted JSON
 * list (reversible with the server secret) and compares in plain text, so it runs no KDF at all.
 *
 *   npm run bench:peer
 *   BENCH_QUICK=1 npm run bench:peer
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { betterAuth } from 'better-auth';
import { getMigrations } from 'better-auth/db/migration';
import { twoFactor } from 'better-auth/plugins';
import SqliteDatabase from 'better-sqlite3';
import {
  type Argon2idParams,
  MINIMUM_TEST_ARGON2ID_PARAMS,
  OWASP_ARGON2ID_PARAMS,
} from '../src/core/recovery-code-digest.js';
import { updateRecoveryCodeSettings } from '../src/service/admin/settings.js';
import { generateRecoveryCodes } from '../src/service/recovery-codes/generate-recovery-codes.js';
import { verifyRecoveryCode } from '../src/service/recovery-codes/verify-recovery-code.js';
import { backendAuthority } from '../src/service/sign-in/change-authority.js';
import { openStore } from '../src/store/open-store.js';
import { benchDeps, userWithCodes } from './support/bench-deps.js';

const QUICK = process.env.BENCH_QUICK === '1' || process.argv.includes('--quick');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (QUICK ? 10 : 60));
const SET_SIZE = 10;
const PASSWORD = 'correct horse battery staple';

interface Figures {
  generate: number;
  valid: number;
  invalid: number;
  /** The codes' stored form for one user (digests, or better-auth's encrypted list). */
  payloadBytes: number;
  /** Table and index pages per user, from dbstat. */
  diskBytes: number;
}

/** A well-formed code that is wrong: one character of a real one changed (a malformed one would be refused before any work). */
const altered = (code: string) => `${code.slice(0, -1)}${code.endsWith('A') ? 'B' : 'A'}`;

async function perSecond(rounds: number, run: (i: number) => Promise<unknown>): Promise<number> {
  await run(-1);
  const started = performance.now();
  for (let i = 0; i < rounds; i++) await run(i);
  return rounds / ((performance.now() - started) / 1000);
}

/** Bytes of the named tables and their indexes, over `users` users. */
function pagesPerUser(path: string, tables: string[], users: number): number {
  const database = new SqliteDatabase(path, { readonly: true });
  try {
    const placeholders = tables.map(() => '?').join(', ');
    const row = database
      .prepare(
        `select sum(pgsize) as bytes from dbstat where name in (${placeholders})
           or name in (select name from sqlite_schema where type = 'index' and tbl_name in (${placeholders}))`,
      )
      .get(...tables, ...tables) as { bytes: number };
    return row.bytes / users;
  } finally {
    database.close();
  }
}

async function sparekey(params: Argon2idParams): Promise<Figures> {
  const dir = mkdtempSync(join(tmpdir(), 'sparekey-peer-'));
  const path = join(dir, 'sparekey.db');
  const opened = await openStore({ kind: 'sqlite', path });
  try {
    const deps = benchDeps(opened.store, params);
    const updated = await updateRecoveryCodeSettings(deps, { enabled: true, codesPerSet: SET_SIZE }, {});
    if (!updated.ok) throw new Error(updated.problems?.join('; '));
    const users: { userId: string; codes: string[] }[] = [];
    for (let i = 0; i <= ROUNDS + 1; i++) users.push(await userWithCodes(deps, `user${i}@peer.test`));
    const owner = users[0] as (typeof users)[number];
    const generate = await perSecond(ROUNDS, async () => {
      const set = await generateRecoveryCodes(deps, {
        authority: backendAuthority({ kind: 'library', actorId: 'bench' }),
        userId: owner.userId,
        context: {},
      });
      if (!set.ok) throw new Error(set.error);
    });
    const valid = await perSecond(ROUNDS, async (i) => {
      const user = users[i + 2] as (typeof users)[number]; // users[0] regenerates above
      const result = await verifyRecoveryCode(deps, {
        userId: user.userId,
        code: user.codes[3] as string,
        context: {},
      });
      if (!result.ok) throw new Error(result.error);
    });
    const invalid = await perSecond(ROUNDS, async (i) => {
      const user = users[(i + 1) % users.length] as (typeof users)[number];
      const result = await verifyRecoveryCode(deps, {
        userId: user.userId,
        code: altered(user.codes[3] as string),
        context: {},
      });
      if (result.ok) throw new Error('a wrong code was accepted');
    });
    const payload = (await opened.db
      .selectFrom('recovery_codes')
      .select((eb) => eb.fn.sum<number>(eb.fn('length', ['digest'])).as('bytes'))
      .executeTakeFirstOrThrow()) as { bytes: number };
    await opened.close();
    return {
      generate,
      valid,
      invalid,
      payloadBytes: Number(payload.bytes) / users.length,
      diskBytes: pagesPerUser(path, ['recovery_codes', 'recovery_code_sets'], users.length),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The session cookie (name=value) a better-auth response sets. */
function sessionCookie(headers: Headers): string {
  return (headers.get('set-cookie') ?? '').split(';')[0] as string;
}

async function peer(): Promise<Figures> {
  const dir = mkdtempSync(join(tmpdir(), 'better-auth-peer-'));
  const path = join(dir, 'better-auth.db');
  try {
    const auth = betterAuth({
      database: new SqliteDatabase(path),
      secret: 'bench-secret-bench-secret-bench-secret-0123456789',
      baseURL: 'http://127.0.0.1:3000',
      emailAndPassword: { enabled: true },
      rateLimit: { enabled: false },
      logger: { disabled: true },
      plugins: [twoFactor({ skipVerificationOnEnable: true, backupCodeOptions: { amount: SET_SIZE } })],
    });
    const { runMigrations } = await getMigrations(auth.options);
    await runMigrations();
    const users: { headers: Headers; codes: string[] }[] = [];
    for (let i = 0; i <= ROUNDS + 1; i++) {
      const signedUp = await auth.api.signUpEmail({
        body: { email: `user${i}@peer.test`, password: PASSWORD, name: `User ${i}` },
        returnHeaders: true,
      });
      const signUpCookie = new Headers({ cookie: sessionCookie(signedUp.headers) });
      // Turning two-factor on replaces the session: the new cookie is the one to use from then on.
      const { headers: enabledHeaders, response: enabled } = await auth.api.enableTwoFactor({
        body: { password: PASSWORD },
        headers: signUpCookie,
        returnHeaders: true,
      });
      const headers = new Headers({ cookie: sessionCookie(enabledHeaders) });
      if (!('backupCodes' in enabled)) throw new Error('better-auth issued no backup codes');
      users.push({ headers, codes: enabled.backupCodes });
    }
    const owner = users[0] as (typeof users)[number];
    const generate = await perSecond(ROUNDS, () =>
      auth.api.generateBackupCodes({ body: { password: PASSWORD }, headers: owner.headers }),
    );
    const valid = await perSecond(ROUNDS, async (i) => {
      const user = users[i + 2] as (typeof users)[number]; // users[0] regenerates above
      await auth.api.verifyBackupCode({
        body: { code: user.codes[3] as string, disableSession: true },
        headers: user.headers,
      });
    });
    const invalid = await perSecond(ROUNDS, async (i) => {
      const user = users[(i + 1) % users.length] as (typeof users)[number];
      const refused = await auth.api
        .verifyBackupCode({
          body: { code: altered(user.codes[3] as string), disableSession: true },
          headers: user.headers,
        })
        .then(
          () => false,
          () => true,
        );
      if (!refused) throw new Error('better-auth accepted a wrong code');
    });
    const database = new SqliteDatabase(path, { readonly: true });
    const payload = database.prepare('select sum(length(backupCodes)) as bytes from twoFactor').get() as {
      bytes: number;
    };
    database.close();
    return {
      generate,
      valid,
      invalid,
      payloadBytes: payload.bytes / users.length,
      // The twoFactor row also holds the TOTP secret: its pages are an upper bound for the codes alone.
      diskBytes: pagesPerUser(path, ['twoFactor'], users.length),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const production = await sparekey(OWASP_ARGON2ID_PARAMS);
const machinery = await sparekey(MINIMUM_TEST_ARGON2ID_PARAMS);
const theirs = await peer();
const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
console.log(
  `\nSpareKey vs better-auth two-factor (SQLite files, one process, ${ROUNDS} sequential operations each, sets of ${SET_SIZE})\n`,
);
console.log(
  '| operation | SpareKey (argon2id OWASP) | SpareKey (minimum KDF) | better-auth | ratio SpareKey/better-auth (OWASP / minimum) |',
);
console.log('|---|---|---|---|---|');
for (const [label, key] of [
  ['generate a set', 'generate'],
  ['verify a valid code', 'valid'],
  ['verify an invalid code', 'invalid'],
] as const) {
  console.log(
    `| ${label} | ${fmt(production[key])}/s | ${fmt(machinery[key])}/s | ${fmt(theirs[key])}/s | ${(production[key] / theirs[key]).toFixed(3)} / ${(machinery[key] / theirs[key]).toFixed(2)} |`,
  );
}
console.log(
  `| stored form of one user's codes | ${production.payloadBytes.toFixed(0)} B (argon2id digests) | | ${theirs.payloadBytes.toFixed(0)} B (one encrypted list) | ${(production.payloadBytes / theirs.payloadBytes).toFixed(1)} |`,
);
console.log(
  `| table + index pages per user | ${production.diskBytes.toFixed(0)} B | | ${theirs.diskBytes.toFixed(0)} B (with the TOTP secret) | ${(production.diskBytes / theirs.diskBytes).toFixed(1)} |`,
);
