import { definePostgresContractPart } from './postgres-contract-parts.js';

// The audit log, its sealing, transactions and the concurrency races; see postgres.contract.test.ts.
definePostgresContractPart('audit and concurrency');
