import { defineFuzzSuite } from './fuzz-suite.js';

// Hostile input on the account-pages routes (route-parts.ts); the other parts have fuzz*.test.ts files of their own.
defineFuzzSuite('account-pages');
