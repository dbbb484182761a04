import { defineAuditSealerSuite } from './audit-sealer-suite.js';

// SQLite; PostgreSQL runs in audit-sealer-postgres.test.ts, beside it.
defineAuditSealerSuite('sqlite');
