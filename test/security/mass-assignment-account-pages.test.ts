import { defineMassAssignmentSuite } from './mass-assignment-suite.js';

// The account-pages routes (route-parts.ts); the other parts have mass-assignment*.test.ts files of their own.
defineMassAssignmentSuite('account-pages');
