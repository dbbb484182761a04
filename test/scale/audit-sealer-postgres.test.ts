import { defineAuditSealerSuite } from './audit-sealer-suite.js';

// PostgreSQL (skipped when unreachable, never under CI=true); SQLite runs in audit-sealer.test.ts.
defineAuditSealerSuite('postgres');
