import { listAccounts } from './accounts/account-directory.js';
import { createUser, signInWithPassword } from './accounts/accounts.js';
import { changePassword } from './accounts/change-password.js';
import { createFirstAdmin, needsFirstAdmin } from './accounts/first-admin.js';
import { changeEmail, deleteUser, ensureUser, resolveUserRef } from './accounts/host-users.js';
import { inspectResetLink, requestPasswordReset, resetPassword } from './accounts/password-reset.js';
import { awaitingFirstAdminSetup, signUp } from './accounts/sign-up.js';
import { findUserByEmail, findUserByExternalId, findUserById } from './accounts/user-lookup.js';
import { createApiKey, listApiKeys, revokeApiKey } from './admin/api-keys.js';
import { authorizeApiKey } from './admin/authorize-api-key.js';
import { countSealedSecretsByKey, resealSecrets } from './admin/reseal-secrets.js';
import { resetUserMfa } from './admin/reset-mfa.js';
import { addRole, assignRoles, listRoles } from './admin/roles.js';
import { getRecoveryCodeSettings, updateRecoveryCodeSettings } from './admin/settings.js';
import { getRecoveryCodeStatistics } from './admin/statistics.js';
import { listUsersWithCodes } from './admin/users-with-codes.js';
import {
  exportAuditLog,
  listAuditEvents,
  purgeAuditLog,
  readAuditLog,
  verifyAuditLog,
} from './audit/audit-log.js';
import { writeCarriedAuditEvents } from './audit/carried-audit.js';
import type { ServiceDeps, ServiceOptions } from './deps.js';
import { confirmTotp } from './factors/confirm-totp.js';
import { confirmEmailFactor, resendEmailFactorCode, startEmailFactor } from './factors/email-factor.js';
import { sendEmailOtp, verifyEmailOtp } from './factors/email-otp.js';
import { enrollTotp, pendingTotpEnrollment } from './factors/enroll-totp.js';
import { disableMfa, getMfaOverview, removeFactor, secondFactorChoices } from './factors/manage-mfa.js';
import { listUserFactors } from './factors/mfa-state.js';
import { sealingKeyRing } from './factors/totp-factor-secret.js';
import { verifyTotp } from './factors/verify-totp.js';
import {
  passkeySignInOptions,
  securityKeyAuthenticationOptions,
} from './factors/webauthn/authenticate-key.js';
import {
  finishHostKeyRegistration,
  startHostKeyAuthentication,
  startHostKeyRegistration,
  startPasskeySignIn,
  verifyHostKeyAuthentication,
} from './factors/webauthn/host-ceremonies.js';
import { listSecurityKeys, renameSecurityKey } from './factors/webauthn/manage-keys.js';
import { registerSecurityKey, securityKeyRegistrationOptions } from './factors/webauthn/register-key.js';
import { loadAccessRules, saveConsoleAccessRules } from './forward-auth/access-rules.js';
import { previewAccess } from './forward-auth/preview.js';
import { checkReturnAddress, landAfterSignIn } from './forward-auth/return-address.js';
import { forwardAuthVerdict } from './forward-auth/verdict-reads.js';
import { purgeExpiredRecords } from './maintenance/purge.js';
import { isReady } from './maintenance/readiness.js';
import { oidcAdapterFor } from './oidc/adapter.js';
import {
  deleteOidcClient,
  findOidcClient,
  listOidcClients,
  registerOidcClient,
  rotateOidcClientSecret,
  setOidcClientDisabled,
  updateOidcClient,
} from './oidc/clients.js';
import { accountClaims, twoFactorsRequired } from './oidc/sign-in-evidence.js';
import { loadSigningKeys, rotateSigningKeys, signingKeyVersion } from './oidc/signing-keys.js';
import { generateRecoveryCodes } from './recovery-codes/generate-recovery-codes.js';
import { getRecoveryCodeStatus } from './recovery-codes/recovery-code-status.js';
import { verifyRecoveryCode } from './recovery-codes/verify-recovery-code.js';
import { forgetDevices, identifyDevice } from './sessions/remembered-devices.js';
import { endSession, resolveSession, rotateSession, startSession } from './sessions/sessions.js';
import { beginPasskeySignIn, beginSignIn, twoFactorSetupOwed } from './sign-in/begin-sign-in.js';
import {
  completeSecondFactor,
  secondFactorKeyOptions,
  sendSignInEmailCode,
} from './sign-in/complete-second-factor.js';
import { verifyStepUp } from './sign-in/step-up.js';
import {
  disableMfaWithStepUp,
  regenerateRecoveryCodesWithStepUp,
  removeFactorWithStepUp,
} from './sign-in/step-up-actions.js';
import { isSecondFactorLocked } from './throttle/throttle-counters.js';
import { isUnlockLinkLive, unlockSecondFactor } from './throttle/unlock.js';
import { getWebhookOverview } from './webhooks/webhook-overview.js';
import { redeliverWebhook } from './webhooks/webhook-redeliver.js';
import { sendWebhookTestEvent } from './webhooks/webhook-test-event.js';
import { addWebhookEndpoint, removeWebhookEndpoint, webhookUrlPolicy } from './webhooks/webhooks.js';

/** Binds a use case to the dependencies: `(deps, ...args) => result` becomes `(...args) => result`. */
function bound<Args extends unknown[], Result>(
  deps: ServiceDeps,
  useCase: (deps: ServiceDeps, ...args: Args) => Result,
): (...args: Args) => Result {
  return (...args) => useCase(deps, ...args);
}

/**
 * Everything the edges (pages, JSON API, CLI, library, OpenID Connect interactions, forward auth) may do,
 * bound to one set of dependencies. Edges get this object, never the store or the dependencies themselves.
 */
export function createUseCases(deps: ServiceDeps) {
  return {
    // accounts/account-directory
    listAccounts: bound(deps, listAccounts),
    // accounts/accounts
    createUser: bound(deps, createUser),
    signInWithPassword: bound(deps, signInWithPassword),
    // accounts/change-password
    changePassword: bound(deps, changePassword),
    // accounts/first-admin
    createFirstAdmin: bound(deps, createFirstAdmin),
    needsFirstAdmin: bound(deps, needsFirstAdmin),
    // accounts/host-users
    changeEmail: bound(deps, changeEmail),
    deleteUser: bound(deps, deleteUser),
    ensureUser: bound(deps, ensureUser),
    resolveUserRef: bound(deps, resolveUserRef),
    // accounts/password-reset
    inspectResetLink: bound(deps, inspectResetLink),
    requestPasswordReset: bound(deps, requestPasswordReset),
    resetPassword: bound(deps, resetPassword),
    // accounts/sign-up
    awaitingFirstAdminSetup: bound(deps, awaitingFirstAdminSetup),
    signUp: bound(deps, signUp),
    // accounts/user-lookup
    findUserByEmail: bound(deps, findUserByEmail),
    findUserByExternalId: bound(deps, findUserByExternalId),
    findUserById: bound(deps, findUserById),
    // admin/api-keys
    createApiKey: bound(deps, createApiKey),
    listApiKeys: bound(deps, listApiKeys),
    revokeApiKey: bound(deps, revokeApiKey),
    // admin/authorize-api-key
    authorizeApiKey: bound(deps, authorizeApiKey),
    // audit/carried-audit: what an edge carried for an operation that did not write it
    writeCarriedAuditEvents: bound(deps, writeCarriedAuditEvents),
    // admin/reseal-secrets
    countSealedSecretsByKey: bound(deps, countSealedSecretsByKey),
    resealSecrets: bound(deps, resealSecrets),
    // admin/reset-mfa
    resetUserMfa: bound(deps, resetUserMfa),
    // admin/roles
    addRole: bound(deps, addRole),
    assignRoles: bound(deps, assignRoles),
    listRoles: bound(deps, listRoles),
    // admin/settings
    getRecoveryCodeSettings: bound(deps, getRecoveryCodeSettings),
    updateRecoveryCodeSettings: bound(deps, updateRecoveryCodeSettings),
    // admin/statistics
    getRecoveryCodeStatistics: bound(deps, getRecoveryCodeStatistics),
    // admin/users-with-codes
    listUsersWithCodes: bound(deps, listUsersWithCodes),
    // audit/audit-log
    exportAuditLog: bound(deps, exportAuditLog),
    listAuditEvents: bound(deps, listAuditEvents),
    purgeAuditLog: bound(deps, purgeAuditLog),
    readAuditLog: bound(deps, readAuditLog),
    verifyAuditLog: bound(deps, verifyAuditLog),
    // factors/confirm-totp
    confirmTotp: bound(deps, confirmTotp),
    // factors/email-factor
    confirmEmailFactor: bound(deps, confirmEmailFactor),
    resendEmailFactorCode: bound(deps, resendEmailFactorCode),
    startEmailFactor: bound(deps, startEmailFactor),
    // factors/email-otp
    sendEmailOtp: bound(deps, sendEmailOtp),
    verifyEmailOtp: bound(deps, verifyEmailOtp),
    // factors/enroll-totp
    enrollTotp: bound(deps, enrollTotp),
    pendingTotpEnrollment: bound(deps, pendingTotpEnrollment),
    // factors/manage-mfa
    disableMfa: bound(deps, disableMfa),
    getMfaOverview: bound(deps, getMfaOverview),
    removeFactor: bound(deps, removeFactor),
    secondFactorChoices: bound(deps, secondFactorChoices),
    // factors/mfa-state
    listUserFactors: bound(deps, listUserFactors),
    // factors/totp-factor-secret
    sealingKeyRing: bound(deps, sealingKeyRing),
    // factors/verify-totp
    verifyTotp: bound(deps, verifyTotp),
    // factors/webauthn/authenticate-key
    passkeySignInOptions: bound(deps, passkeySignInOptions),
    securityKeyAuthenticationOptions: bound(deps, securityKeyAuthenticationOptions),
    // factors/webauthn/host-ceremonies
    finishHostKeyRegistration: bound(deps, finishHostKeyRegistration),
    startHostKeyAuthentication: bound(deps, startHostKeyAuthentication),
    startHostKeyRegistration: bound(deps, startHostKeyRegistration),
    startPasskeySignIn: bound(deps, startPasskeySignIn),
    verifyHostKeyAuthentication: bound(deps, verifyHostKeyAuthentication),
    // factors/webauthn/manage-keys
    listSecurityKeys: bound(deps, listSecurityKeys),
    renameSecurityKey: bound(deps, renameSecurityKey),
    // factors/webauthn/register-key
    registerSecurityKey: bound(deps, registerSecurityKey),
    securityKeyRegistrationOptions: bound(deps, securityKeyRegistrationOptions),
    // forward-auth/access-rules
    loadAccessRules: bound(deps, loadAccessRules),
    saveConsoleAccessRules: bound(deps, saveConsoleAccessRules),
    // forward-auth/verdict-reads
    forwardAuthVerdict: bound(deps, forwardAuthVerdict),
    // forward-auth/preview
    previewAccess: bound(deps, previewAccess),
    // forward-auth/return-address
    checkReturnAddress: bound(deps, checkReturnAddress),
    landAfterSignIn: bound(deps, landAfterSignIn),
    // maintenance/purge
    purgeExpiredRecords: bound(deps, purgeExpiredRecords),
    // maintenance/readiness
    isReady: bound(deps, isReady),
    // oidc/adapter
    oidcAdapterFor: bound(deps, oidcAdapterFor),
    // oidc/clients
    deleteOidcClient: bound(deps, deleteOidcClient),
    findOidcClient: bound(deps, findOidcClient),
    listOidcClients: bound(deps, listOidcClients),
    registerOidcClient: bound(deps, registerOidcClient),
    rotateOidcClientSecret: bound(deps, rotateOidcClientSecret),
    setOidcClientDisabled: bound(deps, setOidcClientDisabled),
    updateOidcClient: bound(deps, updateOidcClient),
    // oidc/sign-in-evidence
    accountClaims: bound(deps, accountClaims),
    twoFactorsRequired: bound(deps, twoFactorsRequired),
    // oidc/signing-keys
    loadSigningKeys: bound(deps, loadSigningKeys),
    rotateSigningKeys: bound(deps, rotateSigningKeys),
    signingKeyVersion: bound(deps, signingKeyVersion),
    // recovery-codes/generate-recovery-codes
    generateRecoveryCodes: bound(deps, generateRecoveryCodes),
    // recovery-codes/recovery-code-status
    getRecoveryCodeStatus: bound(deps, getRecoveryCodeStatus),
    // recovery-codes/verify-recovery-code
    verifyRecoveryCode: bound(deps, verifyRecoveryCode),
    // sessions/remembered-devices
    forgetDevices: bound(deps, forgetDevices),
    identifyDevice: bound(deps, identifyDevice),
    // sessions/sessions
    endSession: bound(deps, endSession),
    resolveSession: bound(deps, resolveSession),
    rotateSession: bound(deps, rotateSession),
    startSession: bound(deps, startSession),
    // sign-in/begin-sign-in
    beginPasskeySignIn: bound(deps, beginPasskeySignIn),
    beginSignIn: bound(deps, beginSignIn),
    twoFactorSetupOwed: bound(deps, twoFactorSetupOwed),
    // sign-in/complete-second-factor
    completeSecondFactor: bound(deps, completeSecondFactor),
    secondFactorKeyOptions: bound(deps, secondFactorKeyOptions),
    sendSignInEmailCode: bound(deps, sendSignInEmailCode),
    // sign-in/step-up-actions
    disableMfaWithStepUp: bound(deps, disableMfaWithStepUp),
    regenerateRecoveryCodesWithStepUp: bound(deps, regenerateRecoveryCodesWithStepUp),
    removeFactorWithStepUp: bound(deps, removeFactorWithStepUp),
    // sign-in/step-up
    verifyStepUp: bound(deps, verifyStepUp),
    // throttle/throttle-counters
    isSecondFactorLocked: bound(deps, isSecondFactorLocked),
    // throttle/unlock
    isUnlockLinkLive: bound(deps, isUnlockLinkLive),
    unlockSecondFactor: bound(deps, unlockSecondFactor),
    // webhooks/webhook-overview
    getWebhookOverview: bound(deps, getWebhookOverview),
    // webhooks/webhook-redeliver
    redeliverWebhook: bound(deps, redeliverWebhook),
    // webhooks/webhook-test-event
    sendWebhookTestEvent: bound(deps, sendWebhookTestEvent),
    // webhooks/webhooks
    addWebhookEndpoint: bound(deps, addWebhookEndpoint),
    removeWebhookEndpoint: bound(deps, removeWebhookEndpoint),
    webhookUrlPolicy: bound(deps, webhookUrlPolicy),
    /** Start-up settings the edges render from (issuer, offered features); read-only. */
    options: deps.options as Readonly<ServiceOptions>,
    /** "Now" for what the edges show and the cookies' lifetimes. */
    clock: deps.clock,
    /** The CSPRNG, for the edges' own tokens (CSRF, OpenID Connect cookies). */
    random: deps.random,
    /** The keys the edges sign their own cookies with; never the sealing or pepper keys. */
    cookieKeys: { csrfKey: deps.keys.csrfKey, oidcCookieKey: deps.keys.oidcCookieKey },
  };
}

export type UseCases = ReturnType<typeof createUseCases>;
