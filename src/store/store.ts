import type { ActionTokensStore } from './domains/action-tokens-store.js';
import type { ApiKeysStore } from './domains/api-keys-store.js';
import type { AuditStore } from './domains/audit-store.js';
import type { EmailOtpStore } from './domains/email-otp-store.js';
import type { FactorsStore } from './domains/factors-store.js';
import type { MaintenanceStore } from './domains/maintenance-store.js';
import type { RecoveryCodesStore } from './domains/recovery-codes-store.js';
import type { RememberedDevicesStore } from './domains/remembered-devices-store.js';
import type { SessionsStore } from './domains/sessions-store.js';
import type { SettingsStore } from './domains/settings-store.js';
import type { AttemptCounters, LockReportsStore } from './domains/throttle-store.js';
import type { UsersStore } from './domains/users-store.js';
import type { WebauthnStore } from './domains/webauthn-store.js';
import type { WebhooksStore } from './domains/webhooks-store.js';
import type { OidcStore } from './oidc-store.js';

/**
 * The storage interface, in domain terms: one interface per domain (./domains/*-store.ts, and
 * ./oidc-store.ts), each with its record types. Every write that can lose a race reports whether it won,
 * so the service layer never needs a read-check-write of its own (see ../../shared/FIELD-DEFECTS.md).
 *
 * Each method is atomic on its own. `transaction` groups several calls into one atomic unit; inside
 * it, the methods of the `Store` handed to the callback run in that transaction.
 */
export interface Store
  extends UsersStore,
    FactorsStore,
    WebauthnStore,
    RecoveryCodesStore,
    EmailOtpStore,
    SettingsStore,
    SessionsStore,
    ApiKeysStore,
    AttemptCounters,
    LockReportsStore,
    ActionTokensStore,
    RememberedDevicesStore,
    WebhooksStore,
    MaintenanceStore,
    AuditStore,
    OidcStore {
  transaction<T>(work: (tx: Store) => Promise<T>): Promise<T>;
  /**
   * A mark of the database's committed state, for caches of what was read: two equal marks, read one
   * after the other, mean no connection of any process committed a write in between (the other way round
   * is not promised: a mark may move without a change that matters). Synchronous and cheap (SQLite: a
   * `PRAGMA data_version` on a connection of its own that never writes, about 2 µs). Undefined when the
   * engine cannot tell (PostgreSQL, an in-memory SQLite database), inside a transaction, or when the read
   * failed: then nothing read may be reused. Read the mark BEFORE the reads it vouches for.
   */
  getChangeMark(): number | undefined;
}

export type * from './domains/action-tokens-store.js';
export type * from './domains/api-keys-store.js';
export * from './domains/audit-store.js';
export type * from './domains/email-otp-store.js';
export type * from './domains/factors-store.js';
export type * from './domains/maintenance-store.js';
export type * from './domains/recovery-codes-store.js';
export type * from './domains/remembered-devices-store.js';
export type * from './domains/sessions-store.js';
export type * from './domains/settings-store.js';
export type * from './domains/throttle-store.js';
export type * from './domains/users-store.js';
export type * from './domains/webauthn-store.js';
export type * from './domains/webhooks-store.js';
export type * from './oidc-store.js';
// Every domain's types stay importable from here, as they were before the split.
export type { WriteOutcome } from './write-outcome.js';
