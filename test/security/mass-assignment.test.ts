import { defineMassAssignmentSuite } from './mass-assignment-suite.js';

// The public-pages routes (route-parts.ts); the other parts have mass-assignment*.test.ts files of their own.
defineMassAssignmentSuite('public-pages');
