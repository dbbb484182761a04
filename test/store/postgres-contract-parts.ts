import { sql } from 'kysely';
import { describe } from 'vitest';
import { defineActionTokenContract } from '../../src/store/contract/action-tokens.contract.js';
import { defineAdminContract } from '../../src/store/contract/admin.contract.js';
import { defineAuditSealingContract } from '../../src/store/contract/audit-sealing.contract.js';
import { defineAuditAndTransactionContract } from '../../src/store/contract/audit-transactions.contract.js';
import { defineConcurrencyContract } from '../../src/store/contract/concurrency.contract.js';
import { defineEmailOtpAndSettingsContract } from '../../src/store/contract/email-otp-settings.contract.js';
import type { MakeStore } from '../../src/store/contract/fixtures.js';
import { defineHostUserContract } from '../../src/store/contract/host-users.contract.js';
import { defineLockReportContract } from '../../src/store/contract/lock-reports.contract.js';
import { defineMaintenanceContract } from '../../src/store/contract/maintenance.contract.js';
import { defineOidcContract } from '../../src/store/contract/oidc.contract.js';
import { defineRecoveryCodeContract } from '../../src/store/contract/recovery-codes.contract.js';
import { defineRememberedDeviceContract } from '../../src/store/contract/remembered-devices.contract.js';
import { defineSessionContract } from '../../src/store/contract/sessions.contract.js';
import { defineAttemptCountersContract } from '../../src/store/contract/throttle.contract.js';
import { defineUserAndFactorContract } from '../../src/store/contract/users-factors.contract.js';
import { defineWebauthnContract } from '../../src/store/contract/webauthn.contract.js';
import { defineWebhookContract } from '../../src/store/contract/webhooks.contract.js';
import { openStore } from '../../src/store/open-store.js';
import { postgresAvailable, testDatabaseUrl, uniqueSchemaName } from '../helpers/postgres.js';

/** A schema of its own per block, dropped afterwards. A pool of 10 so the races run on parallel connections. */
const makePostgresStore: MakeStore = async () => {
  const schema = uniqueSchemaName('store_contract');
  const opened = await openStore({ kind: 'postgres', url: testDatabaseUrl, schema, poolSize: 10 });
  return {
    ...opened,
    close: async () => {
      try {
        await sql`drop schema ${sql.id(schema)} cascade`.execute(opened.db);
      } finally {
        await opened.close();
      }
    },
  };
};

/**
 * The store contract (src/store/contract/define-store-contract.ts) on PostgreSQL, in three files that run
 * in parallel: each block migrates a schema of its own, which is most of the time on PostgreSQL. Every
 * block defineStoreContract registers is in exactly one part; postgres.contract.test.ts checks that.
 */
export const POSTGRES_CONTRACT_PARTS = {
  accounts: {
    defineUserAndFactorContract,
    defineHostUserContract,
    defineRecoveryCodeContract,
    defineEmailOtpAndSettingsContract,
    defineSessionContract,
    defineAdminContract,
    defineActionTokenContract,
    defineRememberedDeviceContract,
  },
  'audit and concurrency': {
    defineAuditAndTransactionContract,
    defineAuditSealingContract,
    defineConcurrencyContract,
  },
  operations: {
    defineMaintenanceContract,
    defineWebhookContract,
    defineLockReportContract,
    defineOidcContract,
    defineWebauthnContract,
    defineAttemptCountersContract: () =>
      defineAttemptCountersContract(async () => {
        const opened = await makePostgresStore();
        return { counters: opened.store, close: opened.close };
      }),
  },
} satisfies Record<string, Record<string, (makeStore: MakeStore) => void>>;

export function definePostgresContractPart(part: keyof typeof POSTGRES_CONTRACT_PARTS): void {
  describe.skipIf(!postgresAvailable())('PostgreSQL', () => {
    describe(`Store contract: postgres (${part})`, () => {
      for (const define of Object.values(POSTGRES_CONTRACT_PARTS[part])) define(makePostgresStore);
    });
  });
}
