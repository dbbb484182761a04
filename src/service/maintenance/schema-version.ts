import { migrations } from '../../store/migrations/index.js';

/** How many schema migrations this version of SpareKey has (opening the store applies every one). */
export function schemaMigrationCount(): number {
  return Object.keys(migrations).length;
}
