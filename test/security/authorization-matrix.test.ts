import { defineAuthorizationMatrix } from './authorization-matrix-suite.js';

// Sign-in, sign-up, recovery, setup, OpenID Connect, docs, assets and operations; the other parts run in
// authorization-matrix-api.test.ts and authorization-matrix-account-pages.test.ts.
defineAuthorizationMatrix('public-pages');
