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
  decideForwardAuth,
  directReads,
  type ForwardAuthDecision,
  type ProtectedRequest,
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
 */
interface Snapshot {
  readonly mark: number;
  /** By session id hash; null: no such session (an unknown or deleted token). */
  readonly sessions: Map<string, CachedSession | null>;
  readonly mfa: Map<string, boolean>;
  rules?: { configured: ServiceDeps['options']['forwardAuth']; rules: EffectiveAccessRules };
  settings?: RecoveryCodeSettings;
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

function remember<K, V>(map: Map<K, V>, key: K, value: V): void {
  if (map.size >= MAX_ENTRIES) map.clear();
  map.set(key, value);
}

/**
 * The verdict for a request to a protected app, given the session cookie's token (undefined: none): the
 * session resolved as a page resolves it (expired: deleted and ignored; the idle deadline slid once a
 * minute), then decideForwardAuth.
 */
export async function forwardAuthVerdict(
  deps: ServiceDeps,
  input: { token: string | undefined; request: ProtectedRequest; context: RequestContext },
): Promise<ForwardAuthDecision> {
  // The mark first: everything below is read after it.
  const snapshot = snapshotFor(deps.store);
  let session: ActiveSession | undefined;
  const idHash = input.token && hashSessionToken(input.token);
  if (idHash) {
    let found = snapshot?.sessions.get(idHash);
    if (found === undefined) found = await readSession(deps, snapshot, idHash);
    if (found) {
      // The clock is asked every time; only a session with something to write (expired, or its idle
      // refresh due) goes through the write.
      const record =
        sessionTimes(found.session, deps.clock.now()) === 'live'
          ? found.session
          : await checkSessionTimes(deps, found.session);
      session = record && { record, user: found.user };
    }
  }
  return decideForwardAuth(
    deps,
    { session, request: input.request, context: input.context },
    snapshot ? new SnapshotReads(deps, snapshot) : directReads(deps),
  );
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
