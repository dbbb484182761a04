import { definePostgresContractPart } from './postgres-contract-parts.js';

// Purging, webhooks, lock reports, OpenID Connect, security keys and attempt counters; see
// postgres.contract.test.ts.
definePostgresContractPart('operations');
