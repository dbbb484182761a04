import type { RecoveryCodeSettings } from '../../core/policy.js';
import { hashSessionToken } from '../../core/session-token.js';
import type { SessionRecord, Store, UserRecord } from '../../store/store.js';
import { loadRecoveryCodeSettings } from '../admin/settings.js';
import type { RequestContext, ServiceDeps } from '../deps.js';
import { isMfaEnabled } from '../factors/mfa-state.js';
import { type ActiveSession, checkSessionTimes, sessionTimes } from '../sessions/sessions.js';
import { type EffectiveAccessRules, loadAccessRules } from './access-rules.js';
import {
  type AccessReads,
  concludeVerdict,
  decideForwardAuth,
  directReads,
  type Evaluation,
  evaluateAccess,
  type ForwardAuthDecision,
  type ProtectedRequest,
  signedInSession,
} from './decide.js';

/**
 * What the verdicts read, kept in this process while the database has not changed: the sessions (with
 * their users and roles) asked about, whether those users have a second factor, the access rules and the
 * recovery-code settings. docs/decisions/0012-forward-auth-verdict-cache.md.
 *
 * Soundness rests on the store's change mark (`Store.getChangeMark`): it is read once at the start of each
 * verdict, BEFORE anything the verdict reads, and a snapshot answers only verdicts that read the very same
 * mark. Any write committed by any connection of any process (a sign-out, a revocation, an MFA reset, a
 * role, rule or setting change, this process's own writes included) moves the mark, so the next verdict
 * after that write was acknowledged starts an empty snapshot and reads the database. A read that raced
 * with a write can only have seen the newer state, under the older mark, which the write has already made
 * obsolete. Where the store has no mark (PostgreSQL, an in-memory SQLite database) nothing is kept: every
 * verdict reads.
 *
 * What depends on the clock is not cached: the session's idle and absolute deadlines are checked against
 * the clock on every verdict from the record's times, and the once-a-minute idle refresh is written when
 * it is due (checkSessionTimes, as for a page).
 *
 * The evaluations themselves (what the rules say for this person and this request) are kept too: they
 * follow from the snapshot's reads and the configuration alone, so a request asked about again (a page's
 * assets, an app polling one URL) skips parsing its address and matching the rules. Counting and auditing
 * (concludeVerdict) still happen on every verdict.
 */
interface Snapshot {
  readonly mark: number;
  /** By session id hash; null: no such session (an unknown or deleted token). */
  readonly sessions: Map<string, CachedSession | null>;
  readonly mfa: Map<string, boolean>;
  rules?: { configured: ServiceDeps['options']['forwardAuth']; rules: EffectiveAccessRules };
  settings?: RecoveryCodeSettings;
  evaluations?: Evaluations;
}

/** Evaluations by evaluationKey, for the configuration they were made under (it may be swapped at run time). */
interface Evaluations {
  readonly configured: ServiceDeps['options']['forwardAuth'];
  readonly publicUrl: ServiceDeps['options']['publicUrl'];
  readonly byRequest: Map<string, Evaluation>;
}

interface CachedSession {
  session: SessionRecord;
  user: UserRecord;
}

/**
 * Bounds the memory a stream of made-up cookies can take between two writes: at the bound the map
 * starts again empty (the next verdicts read the database once more).
 */
const MAX_ENTRIES = 10_000;

/**
 * Evaluations are kept for addresses up to this length only, and at most MAX_EVALUATIONS of them, so a
 * stream of long, ever-different URLs holds at most about a megabyte between two writes.
 */
const MAX_EVALUATED_URL_LENGTH = 256;
const MAX_EVALUATIONS = 4_096;

/** Per store: its mark belongs to its database. */
const snapshots = new WeakMap<Store, Snapshot>();

function snapshotFor(store: Store): Snapshot | undefined {
  const mark = store.getChangeMark();
  if (mark === undefined) return undefined;
  const current = snapshots.get(store);
  if (current?.mark === mark) return current;
  const fresh: Snapshot = { mark, sessions: new Map(), mfa: new Map() };
  snapshots.set(store, fresh);
  return fresh;
}

function remember<K, V>(map: Map<K, V>, key: K, value: V, bound = MAX_ENTRIES): void {
  if (map.size >= bound) map.clear();
  map.set(key, value);
}

/**
 * The verdict for a request to a protected app, given the session cookie's token (undefined: none): the
 * session resolved as a page resolves it (expired: deleted and ignored; the idle deadline slid once a
 * minute), then the rules. A value at once (no promise, no turn of the microtask queue) when the snapshot
 * has everything, which is nearly every verdict on SQLite; a promise when something must be read or written.
 */
export function forwardAuthVerdict(
  deps: ServiceDeps,
  input: { token: string | undefined; request: ProtectedRequest; context: RequestContext },
): ForwardAuthDecision | Promise<ForwardAuthDecision> {
  // The mark first: everything below is read after it.
  const snapshot = snapshotFor(deps.store);
  const idHash = input.token ? hashSessionToken(input.token) : undefined;
  if (!snapshot) return verdictFromDatabase(deps, input, idHash);
  const known = idHash ? snapshot.sessions.get(idHash) : null;
  if (known === undefined) {
    return readSession(deps, snapshot, idHash as string).then((found) =>
      verdictWith(deps, snapshot, input, found),
    );
  }
  return verdictWith(deps, snapshot, input, known);
}

/** PostgreSQL and in-memory SQLite: no mark, so every verdict reads. */
async function verdictFromDatabase(
  deps: ServiceDeps,
  input: { request: ProtectedRequest; context: RequestContext },
  idHash: string | undefined,
): Promise<ForwardAuthDecision> {
  const found = idHash ? await readSession(deps, undefined, idHash) : null;
  const record = found && (await checkSessionTimes(deps, found.session));
  const session = record && found ? { record, user: found.user } : undefined;
  return decideForwardAuth(deps, { ...input, session }, directReads(deps));
}

/**
 * The verdict once the session is known (null: none). The clock is asked every time; only a session with
 * something to write (expired, or its idle refresh due) goes through the write.
 */
function verdictWith(
  deps: ServiceDeps,
  snapshot: Snapshot,
  input: { request: ProtectedRequest; context: RequestContext },
  found: CachedSession | null,
): ForwardAuthDecision | Promise<ForwardAuthDecision> {
  if (found && sessionTimes(found.session, deps.clock.now()) !== 'live') {
    return checkSessionTimes(deps, found.session).then((record) =>
      verdictFor(deps, snapshot, input, record && { record, user: found.user }),
    );
  }
  return verdictFor(deps, snapshot, input, found ? { record: found.session, user: found.user } : undefined);
}

function verdictFor(
  deps: ServiceDeps,
  snapshot: Snapshot,
  input: { request: ProtectedRequest; context: RequestContext },
  session: ActiveSession | undefined,
): ForwardAuthDecision | Promise<ForwardAuthDecision> {
  const signedIn = signedInSession(session);
  const conclude = { session: signedIn, request: input.request, context: input.context };
  const evaluations = evaluationsOf(deps, snapshot);
  const key = evaluationKey(signedIn, input.request);
  const kept = key === undefined ? undefined : evaluations.get(key);
  if (kept) return concludeVerdict(deps, conclude, kept);
  return evaluateAccess(
    deps,
    { user: signedIn?.user, request: input.request },
    new SnapshotReads(deps, snapshot),
  ).then((evaluation) => {
    if (key !== undefined) remember(evaluations, key, frozen(evaluation), MAX_EVALUATIONS);
    return concludeVerdict(deps, conclude, evaluation);
  });
}

/** Later verdicts share a kept evaluation, so no caller may change it for the next. */
function frozen(evaluation: Evaluation): Evaluation {
  Object.freeze(evaluation.decision);
  return Object.freeze(evaluation);
}

function evaluationsOf(deps: ServiceDeps, snapshot: Snapshot): Map<string, Evaluation> {
  const { forwardAuth: configured, publicUrl } = deps.options;
  const kept = snapshot.evaluations;
  if (kept && kept.configured === configured && kept.publicUrl === publicUrl) return kept.byRequest;
  snapshot.evaluations = { configured, publicUrl, byRequest: new Map() };
  return snapshot.evaluations.byRequest;
}

/**
 * Who asks (the signed-in session's id hash, or nobody) and what for. Newlines cannot occur in a header's
 * value, so the parts cannot run into each other. Undefined: too long to keep.
 */
function evaluationKey(signedIn: ActiveSession | undefined, request: ProtectedRequest): string | undefined {
  if (request.url.length > MAX_EVALUATED_URL_LENGTH) return undefined;
  return `${signedIn?.record.idHash ?? ''}\n${request.method}\n${request.url}`;
}

async function readSession(
  deps: ServiceDeps,
  snapshot: Snapshot | undefined,
  idHash: string,
): Promise<CachedSession | null> {
  const read = await deps.store.findSessionWithUser(idHash);
  // The verdict needs the user's id, address and roles; the password hash is not kept in memory. Frozen:
  // later verdicts share these objects, so a change by one caller would otherwise reach the next.
  const found = read
    ? {
        session: Object.freeze(read.session),
        user: Object.freeze({
          ...read.user,
          roles: Object.freeze(read.user.roles) as string[],
          passwordHash: null,
        }),
      }
    : null;
  if (snapshot) remember(snapshot.sessions, idHash, found);
  return found;
}

/** The reads of decideForwardAuth, from the snapshot when it has them (a value, no promise). */
class SnapshotReads implements AccessReads {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly snapshot: Snapshot,
  ) {}

  accessRules(): EffectiveAccessRules | Promise<EffectiveAccessRules> {
    const configured = this.deps.options.forwardAuth;
    const kept = this.snapshot.rules;
    if (kept && kept.configured === configured) return kept.rules;
    return loadAccessRules(this.deps).then((rules) => {
      this.snapshot.rules = { configured, rules };
      return rules;
    });
  }

  recoveryCodeSettings(): RecoveryCodeSettings | Promise<RecoveryCodeSettings> {
    if (this.snapshot.settings) return this.snapshot.settings;
    return loadRecoveryCodeSettings(this.deps.store).then((settings) => {
      this.snapshot.settings = settings;
      return settings;
    });
  }

  mfaEnabled(userId: string): boolean | Promise<boolean> {
    const known = this.snapshot.mfa.get(userId);
    if (known !== undefined) return known;
    return isMfaEnabled(this.deps.store, userId).then((enabled) => {
      remember(this.snapshot.mfa, userId, enabled);
      return enabled;
    });
  }
}
