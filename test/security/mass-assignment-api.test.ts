import { defineMassAssignmentSuite } from './mass-assignment-suite.js';

// The json-api routes (route-parts.ts); the other parts have mass-assignment*.test.ts files of their own.
defineMassAssignmentSuite('json-api');
