import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { createUser } from '../../src/service/accounts/accounts.js';
import { createFirstAdmin, needsFirstAdmin } from '../../src/service/accounts/first-admin.js';
import { updateRecoveryCodeSettings } from '../../src/service/admin/settings.js';
import { confirmEmailFactor, startEmailFactor } from '../../src/service/factors/email-factor.js';
import { resolveSession } from '../../src/service/sessions/sessions.js';
import { authenticatorCode, configureRecoveryCodes, enableTotp } from '../helpers/mfa.js';
import type { Engine, TestEnvironment } from '../helpers/service-deps.js';
import { COMPARED_TABLE_NAMES } from '../helpers/state-snapshot.js';
import { createWebTestApp, type WebTestApp } from '../helpers/web-client.js';
import { TEST_PASSWORD } from '../helpers/web-flows.js';

/** The one-time setup link the world's app is built with (drift 1 needs it outstanding). */
const SETUP_TOKEN = 'parity-setup-token-0123456789abcdef';

/**
 * One app and one database per engine for the whole file; every row gets fresh users. The app is built
 * with a setup link, so the first row can see it outstanding; `openSignUp` then completes the setup
 * (as the operator would) for every row after it.
 */
export interface ParityWorld {
  web: WebTestApp;
  env: TestEnvironment;
  app: FastifyInstance;
  openSignUp(): Promise<void>;
  close(): Promise<void>;
}

export async function createParityWorld(engine: Engine): Promise<ParityWorld> {
  const web = await createWebTestApp(engine, { setupToken: SETUP_TOKEN, notifications: false });
  return {
    web,
    env: web.env,
    app: web.app,
    openSignUp: async () => {
      if (!(await needsFirstAdmin(web.env.deps))) return;
      const admin = await createFirstAdmin(web.env.deps, {
        email: 'parity-admin@example.test',
        password: TEST_PASSWORD,
        enableRecoveryCodes: true,
        context: {},
      });
      if (!admin.ok) throw new Error(`setup refused: ${admin.error}`);
      await configureRecoveryCodes(web.env);
    },
    close: () => web.close(),
  };
}

/** A fresh account made through the service, the same for both edges; what a row starts from. */
export interface ParityUser {
  id: string;
  email: string;
  password: string;
  totpSecret?: string;
  recoveryCodes: string[];
  /** Every confirmed factor's id, by kind. */
  factors: Partial<Record<'totp' | 'email', string>>;
  /** The authenticator's code for the world's current time. */
  totpNow(): string;
}

let serial = 0;

/** A fresh account with a password; `with` adds confirmed factors (the first one brings recovery codes). */
export async function freshUser(
  world: ParityWorld,
  label: string,
  options: { with?: readonly ('totp' | 'email')[] } = {},
): Promise<ParityUser> {
  await world.openSignUp();
  serial += 1;
  const email = `${label}-${serial}@parity.test`;
  const created = await createUser(world.env.deps, { email, password: TEST_PASSWORD, context: {} });
  if (!created.ok) throw new Error(`could not create ${email}: ${created.error}`);
  const user: ParityUser = {
    id: created.value.userId,
    email,
    password: TEST_PASSWORD,
    recoveryCodes: [],
    factors: {},
    totpNow() {
      if (!user.totpSecret) throw new Error(`${email} has no authenticator`);
      return authenticatorCode(user.totpSecret, world.env.clock.nowMs);
    },
  };
  for (const kind of options.with ?? []) {
    if (kind === 'totp') {
      const totp = await enableTotp(world.env, user.id);
      user.totpSecret = totp.secret;
      user.factors.totp = totp.factorId;
      user.recoveryCodes = totp.recoveryCodes?.codes ?? user.recoveryCodes;
    } else {
      const started = await startEmailFactor(world.env.deps, { userId: user.id, context: {} });
      if (!started.ok) throw new Error(`email factor refused: ${started.error}`);
      const confirmed = await confirmEmailFactor(world.env.deps, {
        userId: user.id,
        factorId: started.value.factorId,
        code: lastEmailedCode(world, email),
        context: {},
      });
      if (!confirmed.ok) throw new Error(`email factor not confirmed: ${confirmed.error}`);
      user.factors.email = started.value.factorId;
      user.recoveryCodes = confirmed.value.recoveryCodes?.codes ?? user.recoveryCodes;
    }
  }
  return user;
}

/** The code in the last email sent to `to` (the in-process SMTP server received it before the send returned). */
export function lastEmailedCode(world: ParityWorld, to: string): string {
  const mail = world.env.smtp.messages.filter((message) => message.to.includes(to)).at(-1);
  const code = mail?.text.match(/\b(\d{6})\b/)?.[1];
  if (!code) throw new Error(`no code emailed to ${to}`);
  return code;
}

/** The operator's post-recovery policy and "roles that must set up two-factor" (global settings). */
export async function setPolicy(
  world: ParityWorld,
  update: { policy?: 'continue' | 'disable_mfa' | 'rotate'; mfaRequiredRoles?: string[] },
): Promise<void> {
  const result = await updateRecoveryCodeSettings(world.env.deps, { enabled: true, ...update }, {});
  if (!result.ok) throw new Error(`settings refused: ${result.problems?.join('; ')}`);
}

/** Whether a session token still opens a session (drift 2: a rotated-away token must not). */
export async function tokenAlive(world: ParityWorld, token: string): Promise<boolean> {
  return (await resolveSession(world.env.deps, token)) !== undefined;
}

type RawState = { table: string; row: Record<string, unknown> }[];

/** Every row of every compared table (test/helpers/state-snapshot.ts lists them), as the database holds it. */
export async function rawState(world: ParityWorld): Promise<RawState> {
  const rows: RawState = [];
  for (const table of COMPARED_TABLE_NAMES) {
    const result = await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(
      world.env.opened.db,
    );
    for (const row of result.rows) rows.push({ table, row });
  }
  return rows;
}

/**
 * Rows gone ("-") and rows new ("+") between two states, sorted, each value normalised so that two runs for
 * two different users compare: the user's id and address become placeholders, times (`*_at`) their kind,
 * and ids, tokens, hashes and TOTP steps `<id>` / `<opaque>` / `<step>`, or `<new …>` when the value was
 * not in the database before (a rotated token, a new password hash, a spent time step, a new code set).
 */
export function stateChange(before: RawState, after: RawState, user: ParityUser): string[] {
  const known = new Set(before.flatMap(({ row }) => Object.entries(row).map(([c, v]) => cellKey(c, v))));
  const tally = (state: RawState, seen: Set<string> | undefined) => {
    const rows = new Map<string, number>();
    for (const { table, row } of state) {
      // A tally across all users (sets per number of codes left): each set counts as one row.
      const [key, count] =
        table === 'recovery_code_set_counts'
          ? [`${table}: a set with ${row.remaining} left`, Number(row.sets)]
          : [`${table}: ${cells(row, user, seen)}`, 1];
      rows.set(key, (rows.get(key) ?? 0) + count);
    }
    return rows;
  };
  const was = tally(before, undefined);
  const is = tally(after, known);
  const lines: string[] = [];
  for (const key of new Set([...was.keys(), ...is.keys()])) {
    const delta = (is.get(key) ?? 0) - (was.get(key) ?? 0);
    for (let i = 0; i < Math.abs(delta); i += 1) lines.push(`${delta > 0 ? '+' : '-'} ${key}`);
  }
  return lines.sort();
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const OPAQUE = /^[A-Za-z0-9_\-+/=.:,$]{20,}$/;
const cellKey = (column: string, value: unknown) => `${column}\u0000${String(value)}`;

function cells(row: Record<string, unknown>, user: ParityUser, known: Set<string> | undefined): string {
  return Object.entries(row)
    .map(([column, value]) => {
      const kind = normalise(column, value, user);
      const isNew = kind.startsWith('<') && known !== undefined && !known.has(cellKey(column, value));
      return `${column}=${isNew && !['<user>', '<time>', '<slot>', '<shard>'].includes(kind) ? `<new ${kind.slice(1)}` : kind}`;
    })
    .join(' ');
}

function normalise(column: string, value: unknown, user: ParityUser): string {
  if (value === null || value === undefined) return 'null';
  if (column.endsWith('_at') || value instanceof Date) return '<time>';
  if (column.endsWith('_step')) return '<step>';
  if (value instanceof Uint8Array) return '<bytes>';
  // A recovery code's slot is drawn at random (decision 0001).
  if (column === 'slot') return '<slot>';
  // The counter shard a set is counted in follows from its owner's id (decision 0011), which each run draws anew.
  if (column === 'count_shard') return '<shard>';
  if (typeof value !== 'string') return String(value);
  if (user.id && value === user.id) return '<user>';
  if (UUID.test(value)) return '<id>';
  if (OPAQUE.test(value)) return '<opaque>';
  const named = user.id ? value.split(user.id).join('<user>') : value;
  return JSON.stringify(named.split(user.email).join('<email>'));
}

/** The number of the last audit event, to read what a flow appended after it. */
export async function lastAuditSeq(world: ParityWorld): Promise<number> {
  const [last] = await world.env.deps.store.listAuditEvents({ limit: 1 });
  return last?.seq ?? 0;
}

/** The audit events after `seq`, in order: action, outcome and whose (this row's user or someone else). */
export async function auditSince(world: ParityWorld, seq: number, user: ParityUser): Promise<string[]> {
  const events = await world.env.deps.store.listAuditEventsAscending({ afterSeq: seq, limit: 100 });
  return events.map((event) => {
    const who = event.userId === user.id ? 'user' : event.userId === null ? 'nobody' : 'someone else';
    return `${event.action} ${event.outcome} (${who})`;
  });
}
