import type { Kysely } from 'kysely';
import type { Store } from '../store.js';
import * as apiKeys from './api-keys.js';
import * as audit from './audit.js';
import * as auditSealing from './audit-sealing.js';
import type { StoreContext } from './context.js';
import type { Database } from './database.js';
import * as emailOtp from './email-otp.js';
import type { Engine } from './engine.js';
import * as factors from './factors.js';
import * as maintenance from './maintenance.js';
import * as oidc from './oidc.js';
import * as recoveryCodes from './recovery-codes.js';
import * as devices from './remembered-devices.js';
import * as sessions from './sessions.js';
import * as settings from './settings.js';
import * as throttle from './throttle.js';
import * as users from './users.js';
import * as webauthn from './webauthn.js';
import * as webhookLog from './webhook-log.js';
import * as webhooks from './webhooks.js';

/**
 * The one implementation of `Store`, for both engines; `engine` supplies the few differences.
 * Inside `transaction(work)`, use only the `tx` store handed to `work`: the root store would wait for a
 * connection the transaction holds (SQLite has one) and its writes would not be part of the transaction.
 */
export function createKyselyStore(db: Kysely<Database>, engine: Engine): Store {
  return bind(db, engine, false);
}

function bind(db: Kysely<Database>, engine: Engine, inTransaction: boolean): Store {
  const ctx: StoreContext = {
    db,
    engine,
    atomic: (work) => (inTransaction ? work(db) : engine.transaction(db, work)),
  };
  const store: Store = {
    // Nested calls run in the enclosing transaction: one commit, one rollback, for the whole unit.
    transaction: (work) =>
      inTransaction ? work(store) : engine.transaction(db, (trx) => work(bind(trx, engine, true))),
    // Inside a transaction its own uncommitted writes would not move the mark: nothing to cache there.
    getChangeMark: () => (inTransaction ? undefined : engine.changeMark()),

    createUser: (user) => users.createUser(ctx, user),
    findUserByEmail: (email) => users.findUserByEmail(ctx, email),
    findUserById: (userId) => users.findUserById(ctx, userId),
    findUserByExternalId: (externalId) => users.findUserByExternalId(ctx, externalId),
    findUserId: (ref) => users.findUserId(ctx, ref),
    setUserEmail: (userId, email) => users.setUserEmail(ctx, userId, email),
    deleteUser: (userId) => users.deleteUser(ctx, userId),
    setPasswordHash: (userId, hash) => users.setPasswordHash(ctx, userId, hash),
    setUserRoles: (userId, roles) => users.setUserRoles(ctx, userId, roles),
    countUsers: () => users.countUsers(ctx),
    listUsers: (query) => users.listUsers(ctx, query),
    listCustomRoles: () => users.listCustomRoles(ctx),
    addCustomRole: (name, at) => users.addCustomRole(ctx, name, at),
    listUsersWithCodes: (query) => users.listUsersWithCodes(ctx, query),

    createFactor: (factor) => factors.createFactor(ctx, factor),
    findFactor: (userId, factorId) => factors.findFactor(ctx, userId, factorId),
    listFactors: (userId) => factors.listFactors(ctx, userId),
    confirmFactor: (userId, factorId, at) => factors.confirmFactor(ctx, userId, factorId, at),
    deleteFactor: (userId, factorId) => factors.deleteFactor(ctx, userId, factorId),
    deleteAllFactors: (userId) => factors.deleteAllFactors(ctx, userId),
    countFactorsByKind: () => factors.countFactorsByKind(ctx),
    createWebauthnCredential: (credential) => webauthn.createWebauthnCredential(ctx, credential),
    listWebauthnCredentials: (userId) => webauthn.listWebauthnCredentials(ctx, userId),
    findWebauthnCredential: (credentialId) => webauthn.findWebauthnCredential(ctx, credentialId),
    recordWebauthnUse: (id, use) => webauthn.recordWebauthnUse(ctx, id, use),
    renameWebauthnCredential: (userId, id, name) => webauthn.renameWebauthnCredential(ctx, userId, id, name),
    createWebauthnChallenge: (challenge) => webauthn.createWebauthnChallenge(ctx, challenge),
    consumeWebauthnChallenge: (input) => webauthn.consumeWebauthnChallenge(ctx, input),
    recordTotpStep: (factorId, step, at) => factors.recordTotpStep(ctx, factorId, step, at),
    listSealedSecrets: (afterId, limit) => factors.listSealedSecrets(ctx, afterId, limit),
    replaceSealedSecret: (factorId, expected, next) =>
      factors.replaceSealedSecret(ctx, factorId, expected, next),

    replaceRecoveryCodeSet: (userId, set) => recoveryCodes.replaceRecoveryCodeSet(ctx, userId, set),
    findRecoveryCode: (userId, slot) => recoveryCodes.findRecoveryCode(ctx, userId, slot),
    consumeRecoveryCode: (setId, slot, at) => recoveryCodes.consumeRecoveryCode(ctx, setId, slot, at),
    getRecoveryCodeSummary: (userId) => recoveryCodes.getRecoveryCodeSummary(ctx, userId),
    listRecoveryCodeSlots: (userId) => recoveryCodes.listRecoveryCodeSlots(ctx, userId),
    deleteRecoveryCodeSet: (userId) => recoveryCodes.deleteRecoveryCodeSet(ctx, userId),
    getRecoveryCodeSetCounts: () => recoveryCodes.getRecoveryCodeSetCounts(ctx),

    replaceEmailOtpChallenge: (challenge) => emailOtp.replaceEmailOtpChallenge(ctx, challenge),
    findEmailOtpChallenge: (attemptId) => emailOtp.findEmailOtpChallenge(ctx, attemptId),
    chargeEmailOtpAttempt: (challengeId, max) => emailOtp.chargeEmailOtpAttempt(ctx, challengeId, max),
    consumeEmailOtpChallenge: (challengeId, at) => emailOtp.consumeEmailOtpChallenge(ctx, challengeId, at),

    getSetting: (key) => settings.getSetting(ctx, key),
    putSetting: (key, value, at) => settings.putSetting(ctx, key, value, at),
    claimSetting: (key, value, at) => settings.claimSetting(ctx, key, value, at),

    createSession: (session) => sessions.createSession(ctx, session),
    findSession: (idHash) => sessions.findSession(ctx, idHash),
    findSessionWithUser: (idHash) => sessions.findSessionWithUser(ctx, idHash),
    replaceSession: (oldIdHash, next) => sessions.replaceSession(ctx, oldIdHash, next),
    touchSession: (idHash, lastSeenAt, expiresAt) =>
      sessions.touchSession(ctx, idHash, lastSeenAt, expiresAt),
    deleteSession: (idHash) => sessions.deleteSession(ctx, idHash),
    deleteUserSessions: (userId, exceptIdHash) => sessions.deleteUserSessions(ctx, userId, exceptIdHash),
    deleteExpiredSessions: (now) => sessions.deleteExpiredSessions(ctx, now),

    chargeAttempt: (key, policy, kind, at) => throttle.chargeAttempt(ctx, key, policy, kind, at),
    settleAttempt: (key, policy, mode, at) => throttle.settleAttempt(ctx, key, policy, mode, at),
    findActionToken: (idHash, purpose, at) => throttle.findActionToken(ctx, idHash, purpose, at),
    clearAttempts: (key) => throttle.clearAttempts(ctx, key),
    findAttempts: (key) => throttle.findAttempts(ctx, key),
    claimLockReport: (key, lockedAt, at) => throttle.claimLockReport(ctx, key, lockedAt, at),
    isLockReported: (key, lockedAt) => throttle.isLockReported(ctx, key, lockedAt),
    createActionToken: (token) => throttle.createActionToken(ctx, token),
    createActionTokenUnlessLive: (token) => throttle.createActionTokenUnlessLive(ctx, token),
    consumeActionToken: (idHash, purpose, at) => throttle.consumeActionToken(ctx, idHash, purpose, at),
    hasLiveActionToken: (userId, purpose, at) => throttle.hasLiveActionToken(ctx, userId, purpose, at),
    revokeActionTokens: (userId, purpose, at) => throttle.revokeActionTokens(ctx, userId, purpose, at),
    rememberDevice: (device) => devices.rememberDevice(ctx, device),
    findRememberedDevice: (tokenHash, at) => devices.findRememberedDevice(ctx, tokenHash, at),
    touchRememberedDevice: (id, at) => devices.touchRememberedDevice(ctx, id, at),
    listRememberedDevices: (userId, at) => devices.listRememberedDevices(ctx, userId, at),
    forgetRememberedDevices: (userId, id) => devices.forgetRememberedDevices(ctx, userId, id),
    createWebhookEndpoint: (endpoint) => webhooks.createWebhookEndpoint(ctx, endpoint),
    listWebhookEndpoints: () => webhooks.listWebhookEndpoints(ctx),
    deleteWebhookEndpoint: (id) => webhooks.deleteWebhookEndpoint(ctx, id),
    purgeExpired: (rules) => maintenance.purgeExpired(ctx, rules),
    enqueueWebhookDeliveries: (event, newId) => webhooks.enqueueWebhookDeliveries(ctx, event, newId),
    claimDueWebhookDeliveries: (at, leaseUntil, limit) =>
      webhooks.claimDueWebhookDeliveries(ctx, at, leaseUntil, limit),
    recordWebhookAttempt: (id, result) => webhooks.recordWebhookAttempt(ctx, id, result),
    enqueueWebhookDeliveryTo: (endpointId, delivery) =>
      webhooks.enqueueWebhookDeliveryTo(ctx, endpointId, delivery),
    listWebhookDeliveries: (limit) => webhookLog.listWebhookDeliveries(ctx, limit),
    findWebhookDelivery: (id) => webhookLog.findWebhookDelivery(ctx, id),
    requeueWebhookDelivery: (id, at) => webhookLog.requeueWebhookDelivery(ctx, id, at),

    createApiKey: (key) => apiKeys.createApiKey(ctx, key),
    findApiKey: (id) => apiKeys.findApiKey(ctx, id),
    listApiKeys: () => apiKeys.listApiKeys(ctx),
    revokeApiKey: (id, at) => apiKeys.revokeApiKey(ctx, id, at),
    touchApiKey: (id, at) => apiKeys.touchApiKey(ctx, id, at),

    upsertOidcModel: (model, id, row) => oidc.upsertOidcModel(ctx, model, id, row),
    findOidcModel: (model, id) => oidc.findOidcModel(ctx, model, id),
    findOidcModelByUid: (model, uid) => oidc.findOidcModelByUid(ctx, model, uid),
    findOidcModelByUserCode: (model, userCode) => oidc.findOidcModelByUserCode(ctx, model, userCode),
    consumeOidcModel: (model, id, at) => oidc.consumeOidcModel(ctx, model, id, at),
    destroyOidcModel: (model, id) => oidc.destroyOidcModel(ctx, model, id),
    revokeOidcGrant: (grantId) => oidc.revokeOidcGrant(ctx, grantId),
    createOidcClient: (client) => oidc.createOidcClient(ctx, client),
    findOidcClient: (id) => oidc.findOidcClient(ctx, id),
    listOidcClients: () => oidc.listOidcClients(ctx),
    updateOidcClient: (id, changes, at) => oidc.updateOidcClient(ctx, id, changes, at),
    deleteOidcClient: (id) => oidc.deleteOidcClient(ctx, id),
    countOidcSignIn: (clientId, userId, at) => oidc.countOidcSignIn(ctx, clientId, userId, at),
    listOidcSignInCounts: (query) => oidc.listOidcSignInCounts(ctx, query),
    listOidcSigningKeys: (at) => oidc.listOidcSigningKeys(ctx, at),
    addOidcSigningKey: (key, retireAt) => oidc.addOidcSigningKey(ctx, key, retireAt),
    replaceSealedOidcSigningKey: (kid, expected, next) =>
      oidc.replaceSealedOidcSigningKey(ctx, kid, expected, next),

    appendAuditEvent: (event) => audit.appendAuditEvent(ctx, event),
    appendAuditEvents: (events) => audit.appendAuditEvents(ctx, events),
    listAuditEvents: (query) => audit.listAuditEvents(ctx, query),
    listAuditEventsAscending: (query) => audit.listAuditEventsAscending(ctx, query),
    listSealedAuditEvents: (query) => auditSealing.listSealedAuditEvents(ctx, query),
    findAuditChainSeqByHash: (hash) => auditSealing.findAuditChainSeqByHash(ctx, hash),
    getAuditChainHead: () => auditSealing.getAuditChainHead(ctx),
    getAuditSealingState: () => auditSealing.getAuditSealingState(ctx),
    sealAuditEvents: (input) => auditSealing.sealAuditEvents(ctx, input),
    releaseAuditSealer: (holder) => auditSealing.releaseAuditSealer(ctx, holder),
    purgeAuditEventsBefore: (before) => auditSealing.purgeAuditEventsBefore(ctx, before),
    countAuditEventsByBucket: (query) => audit.countAuditEventsByBucket(ctx, query),
  };
  return store;
}
