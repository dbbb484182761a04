import { defineAuthorizationMatrix } from './authorization-matrix-suite.js';

// /settings and /admin; the rest runs in authorization-matrix.test.ts and -api.test.ts.
defineAuthorizationMatrix('account-pages');
