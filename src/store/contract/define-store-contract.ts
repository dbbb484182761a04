import { describe } from 'vitest';
import { defineActionTokenContract } from './action-tokens.contract.js';
import { defineAdminContract } from './admin.contract.js';
import { defineAuditSealingContract } from './audit-sealing.contract.js';
import { defineAuditAndTransactionContract } from './audit-transactions.contract.js';
import { defineConcurrencyContract } from './concurrency.contract.js';
import { defineEmailOtpAndSettingsContract } from './email-otp-settings.contract.js';
import type { MakeStore } from './fixtures.js';
import { defineHostUserContract } from './host-users.contract.js';
import { defineLockReportContract } from './lock-reports.contract.js';
import { defineMaintenanceContract } from './maintenance.contract.js';
import { defineOidcContract } from './oidc.contract.js';
import { defineRecoveryCodeContract } from './recovery-codes.contract.js';
import { defineRememberedDeviceContract } from './remembered-devices.contract.js';
import { defineSessionContract } from './sessions.contract.js';
import { defineAttemptCountersContract } from './throttle.contract.js';
import { defineUserAndFactorContract } from './users-factors.contract.js';
import { defineWebauthnContract } from './webauthn.contract.js';
import { defineWebhookContract } from './webhooks.contract.js';

/**
 * The one behaviour + concurrency suite every `Store` must pass (like Lucia's `testAdapter`), registered
 * as vitest describe blocks. `makeStore` is called once per block and must return a fresh, empty,
 * migrated store whose `close()` also disposes of it (file or schema), so blocks never see each other.
 */
export function defineStoreContract(name: string, makeStore: MakeStore): void {
  describe(`Store contract: ${name}`, () => {
    defineUserAndFactorContract(makeStore);
    defineHostUserContract(makeStore);
    defineRecoveryCodeContract(makeStore);
    defineEmailOtpAndSettingsContract(makeStore);
    defineAuditAndTransactionContract(makeStore);
    defineAuditSealingContract(makeStore);
    defineConcurrencyContract(makeStore);
    defineSessionContract(makeStore);
    defineAdminContract(makeStore);
    defineActionTokenContract(makeStore);
    defineRememberedDeviceContract(makeStore);
    defineMaintenanceContract(makeStore);
    defineWebhookContract(makeStore);
    defineLockReportContract(makeStore);
    defineOidcContract(makeStore);
    defineWebauthnContract(makeStore);
    defineAttemptCountersContract(async () => {
      const opened = await makeStore();
      return { counters: opened.store, close: opened.close };
    });
  });
}

export type { MakeStore } from './fixtures.js';
