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
   * the second step, or signed in (with the authenticator if the account has one).
   */
  start: 'signed_out' | 'second_factor' | 'signed_in';
  pages: (edge: PagesEdge, user: ParityUser) => Promise<Outcome | Outcome[]>;
  json: (edge: JsonEdge, user: ParityUser) => Promise<Outcome | Outcome[]>;
  /** What both edges must answer. */
  outcome: Outcome | Outcome[];
  /** After the step, the token the client held before it is dead and the one it holds now opens a session. */
  rotatesToken?: boolean;
  /** A refusal that must leave no trace at all (otherwise a row that changed nothing is suspect). */
  changesNothing?: boolean;
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

function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 40);
}
