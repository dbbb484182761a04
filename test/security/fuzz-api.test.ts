import { defineFuzzSuite } from './fuzz-suite.js';

// Hostile input on the json-api routes (route-parts.ts); the other parts have fuzz*.test.ts files of their own.
defineFuzzSuite('json-api');
