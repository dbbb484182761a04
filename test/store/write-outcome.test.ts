/**
 * Every write of `Store` that can lose (a race, a condition, a row that is gone) answers with the one
 * shape, `WriteOutcome<verb>` (src/store/write-outcome.ts): never a bare boolean, never "a value or
 * undefined". The tables below classify every write; a new one must be added to one of them, and a
 * win-or-lose write that answers anything else fails here.
 *
 * These are type-level checks: they fail `npm run typecheck` (the first step of `npm test`), not the
 * vitest run itself. The last test shows the check catching a bare-boolean write.
 */
import { describe, expectTypeOf, test } from 'vitest';
import type { Store } from '../../src/store/store.js';

/** Writes that can lose, and the verb their outcome reports. */
const winOrLose = {
  addCustomRole: 'added',
  chargeEmailOtpAttempt: 'charged',
  claimLockReport: 'claimed',
  claimSetting: 'claimed',
  confirmFactor: 'confirmed',
  consumeActionToken: 'consumed',
  consumeEmailOtpChallenge: 'consumed',
  consumeOidcModel: 'consumed',
  consumeRecoveryCode: 'consumed',
  consumeWebauthnChallenge: 'consumed',
  createActionTokenUnlessLive: 'created',
  createUser: 'created',
  createWebauthnCredential: 'created',
  deleteFactor: 'removed',
  deleteOidcClient: 'deleted',
  deleteRecoveryCodeSet: 'deleted',
  deleteSession: 'deleted',
  deleteUser: 'deleted',
  deleteWebhookEndpoint: 'deleted',
  enqueueWebhookDeliveryTo: 'enqueued',
  recordTotpStep: 'recorded',
  recordWebauthnUse: 'recorded',
  recordWebhookAttempt: 'recorded',
  renameWebauthnCredential: 'renamed',
  replaceSealedSecret: 'replaced',
  replaceSealedOidcSigningKey: 'replaced',
  replaceSession: 'replaced',
  requeueWebhookDelivery: 'requeued',
  revokeApiKey: 'revoked',
  setPasswordHash: 'updated',
  setUserEmail: 'updated',
  setUserRoles: 'updated',
  updateOidcClient: 'updated',
} as const;
type WinOrLose = typeof winOrLose;

/** Writes that always take effect (or throw): they answer nothing. */
type AlwaysTakesEffect =
  | 'addOidcSigningKey'
  | 'clearAttempts'
  | 'createActionToken'
  | 'createApiKey'
  | 'createFactor'
  | 'createOidcClient'
  | 'createSession'
  | 'createWebauthnChallenge'
  | 'createWebhookEndpoint'
  | 'destroyOidcModel'
  | 'putSetting'
  | 'releaseAuditSealer'
  | 'rememberDevice'
  | 'replaceEmailOtpChallenge'
  | 'replaceRecoveryCodeSet'
  | 'settleAttempt'
  | 'touchApiKey'
  | 'touchRememberedDevice'
  | 'touchSession'
  | 'upsertOidcModel';

/** Bulk writes: they answer how many rows they touched, a count rather than "did this win". */
type Counts =
  | 'deleteAllFactors'
  | 'deleteExpiredSessions'
  | 'deleteUserSessions'
  | 'enqueueWebhookDeliveries'
  | 'forgetRememberedDevices'
  | 'revokeActionTokens'
  | 'revokeOidcGrant';

/** Writes whose answer is a result of their own: the event appended, a throttle verdict, claims, tallies. */
type OwnResults =
  | 'appendAuditEvent'
  | 'appendAuditEvents'
  | 'chargeAttempt'
  | 'claimDueWebhookDeliveries'
  | 'purgeAuditEventsBefore'
  | 'purgeExpired'
  | 'sealAuditEvents';

type Read = `${'find' | 'get' | 'list' | 'count' | 'has' | 'is'}${string}`;
type Writes<S> = Exclude<keyof S & string, Read | 'transaction' | 'close'>;
type Answer<F> = F extends (...args: never[]) => Promise<infer R> ? R : never;
/** The one shape, whatever its reasons and whatever a win carries. */
type AnyWriteOutcome<Verb extends string> =
  | { [K in Verb]: true }
  | ({ [K in Verb]: false } & { reason?: string });

/** The writes of `S` that break the rules above (never when there are none). */
type Violations<S> = {
  [K in Writes<S>]: K extends keyof WinOrLose
    ? [Answer<S[K]>] extends [AnyWriteOutcome<WinOrLose[K]>]
      ? never
      : K
    : K extends AlwaysTakesEffect
      ? // biome-ignore lint/suspicious/noConfusingVoidType: a Promise<void> method answers void itself
        [Answer<S[K]>] extends [void]
        ? never
        : K
      : K extends Counts
        ? [Answer<S[K]>] extends [number]
          ? never
          : K
        : K extends OwnResults
          ? never
          : K; // a write nobody classified
}[Writes<S>];

describe('store writes report whether they won in one shape', () => {
  test('every write of Store is classified, and each win-or-lose write answers WriteOutcome<verb>', () => {
    expectTypeOf<Violations<Store>>().toEqualTypeOf<never>();
    // No table names a method Store does not have (a rename must update the table).
    expectTypeOf<
      Exclude<keyof WinOrLose | AlwaysTakesEffect | Counts | OwnResults, keyof Store>
    >().toEqualTypeOf<never>();
  });

  test('examples of the shape: a loss with its reason, a win with what it hands back', () => {
    expectTypeOf<Answer<Store['createUser']>>().toEqualTypeOf<
      { created: true } | { created: false; reason: 'email_taken' | 'external_id_taken' }
    >();
    expectTypeOf<Answer<Store['consumeActionToken']>>().toEqualTypeOf<
      { consumed: true; userId: string } | { consumed: false }
    >();
    expectTypeOf<Answer<Store['deleteWebhookEndpoint']>>().toEqualTypeOf<
      { deleted: true } | { deleted: false }
    >();
  });

  test('the check catches a bare-boolean write, a "value or undefined" write and an unclassified one', () => {
    type WithDefects = Store & {
      requeueWebhookDelivery(id: string, at: Date): Promise<boolean>;
      consumeActionToken(idHash: string): Promise<{ userId: string } | undefined>;
      archiveWidget(id: string): Promise<boolean>;
    };
    expectTypeOf<Violations<WithDefects>>().toEqualTypeOf<
      'requeueWebhookDelivery' | 'consumeActionToken' | 'archiveWidget'
    >();
  });
});
