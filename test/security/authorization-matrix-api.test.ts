import { defineAuthorizationMatrix } from './authorization-matrix-suite.js';

// The JSON API (/api/); the pages run in authorization-matrix.test.ts and -account-pages.test.ts.
defineAuthorizationMatrix('json-api');
