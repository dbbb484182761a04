export type { Database } from './kysely/database.js';
export type { Engine } from './kysely/engine.js';
export { createKyselyStore } from './kysely/kysely-store.js';
export { normalizeEmail } from './kysely/users.js';
export { migrations } from './migrations/index.js';
export { type DatabaseConfig, type OpenedStore, openStore } from './open-store.js';
export type * from './store.js';
