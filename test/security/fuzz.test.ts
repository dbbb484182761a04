import { defineFuzzSuite } from './fuzz-suite.js';

// Hostile input on the public-pages routes (route-parts.ts); the other parts have fuzz*.test.ts files of their own.
defineFuzzSuite('public-pages');
