import { expect } from 'vitest';
import { type Edge, JsonEdge, type Outcome, PagesEdge } from './edge-clients.js';
import {
  auditSince,
  lastAuditSeq,
  type ParityUser,
  type ParityWorld,
  rawState,
  stateChange,
  tokenAlive,
} from './parity-world.js';

/** One user-visible flow, run once through the pages and once through the JSON API. */
export interface FlowRow {
  flow: string;
  /** The account the flow starts from, made through the service: the same for both edges. */
  given: (world: ParityWorld, label: string) => Promise<ParityUser>;
  /**
   * Where each edge's client stands before the compared step (reached through that edge): signed out, at
   * the second step, signed in (with the authenticator if the account has one), or signed out on a
   * browser (app) that asked to skip the second step next time.
   */
  start: 'signed_out' | 'second_factor' | 'signed_in' | 'remembered_browser';
  pages: (edge: PagesEdge, user: ParityUser) => Promise<Outcome | Outcome[]>;
  json: (edge: JsonEdge, user: ParityUser) => Promise<Outcome | Outcome[]>;
  /** What both edges must answer. */
  outcome: Outcome | Outcome[];
  /** After the step, the token the client held before it is dead and the one it holds now opens a session. */
  rotatesToken?: boolean;
  /** A refusal that must leave no trace at all (otherwise a row that changed nothing is suspect). */
  changesNothing?: boolean;
  /** A drift still open, named: the row then runs as test.fails (see the row's comment). */
  knownDrift?: string;
  /** Undoes a global setting `given` changed, after both runs. */
  after?: (world: ParityWorld) => Promise<void>;
}

/** What one run of a flow on one edge did: compared between the edges. */
export interface Observed {
  outcome: Outcome | Outcome[];
  /** Rows gone ("-") and new ("+"), normalised (parity-world.ts). */
  stateChange: string[];
  /** Audit events appended: action, outcome and whose, in order. */
  audit: string[];
  token?: { before: 'alive' | 'dead'; now: 'alive' | 'dead' | 'unchanged' };
}

export async function observeFlow(
  world: ParityWorld,
  row: FlowRow,
  edgeName: Edge['name'],
): Promise<Observed> {
  const user = await row.given(world, `${slug(row.flow)}-${edgeName}`);
  const edge = edgeName === 'pages' ? new PagesEdge(world) : new JsonEdge(world);
  if (row.start === 'signed_in') await edge.signInFully(user);
  if (row.start === 'remembered_browser') await edge.rememberThisBrowser(user);
  if (row.start === 'second_factor') {
    const reached = await edge.signIn(user);
    if (reached !== 'second_factor') throw new Error(`${edgeName}: not at the second step (${reached})`);
  }
  // The compared step happens in a later time step than the sign-in, as it would for a person.
  world.env.clock.advance(30_000);
  const tokenBefore = edge.token();
  const before = await rawState(world);
  const seq = await lastAuditSeq(world);

  const outcome =
    edge instanceof PagesEdge ? await row.pages(edge, user) : await row.json(edge as JsonEdge, user);

  // A flow that created the account (sign-up): its id is known only now.
  if (!user.id) user.id = (await world.env.deps.store.findUserByEmail(user.email))?.id ?? '';
  const observed: Observed = {
    outcome,
    stateChange: stateChange(before, await rawState(world), user),
    audit: await auditSince(world, seq, user),
  };
  if (row.rotatesToken) {
    const now = edge.token();
    observed.token = {
      before: (await tokenAlive(world, tokenBefore)) ? 'alive' : 'dead',
      now: now === tokenBefore ? 'unchanged' : (await tokenAlive(world, now)) ? 'alive' : 'dead',
    };
  }
  return observed;
}

/**
 * Runs a row on both edges and expects the same outcome (the row's), the same state change, the same audit
 * events, and where the row says so a rotated token on both.
 */
export async function expectEdgesAgree(world: ParityWorld, row: FlowRow): Promise<void> {
  try {
    const pages = await observeFlow(world, row, 'pages');
    const json = await observeFlow(world, row, 'json');
    const expected: Outcome[] = [row.outcome].flat();
    expect([pages.outcome].flat(), 'pages: outcome').toEqual(expected);
    expect([json.outcome].flat(), 'JSON API: outcome').toEqual(expected);
    expect(json.stateChange, 'state change: JSON API vs pages').toEqual(pages.stateChange);
    expect(json.audit, 'audit events: JSON API vs pages').toEqual(pages.audit);
    // Two runs that changed nothing agree vacuously: only a row that says so may.
    const changed = pages.stateChange.length + pages.audit.length > 0;
    expect(changed, 'the flow changed state or appended audit events').toBe(!row.changesNothing);
    if (row.rotatesToken) {
      expect(pages.token, 'pages: token rotation').toEqual({ before: 'dead', now: 'alive' });
      expect(json.token, 'JSON API: token rotation').toEqual({ before: 'dead', now: 'alive' });
    }
  } finally {
    await row.after?.(world);
  }
}

function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 40);
}
