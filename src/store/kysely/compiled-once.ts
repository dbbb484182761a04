import type { Compilable, CompiledQuery, Kysely, QueryResult } from 'kysely';
import type { Database } from './database.js';

/**
 * A statement Kysely builds and compiles once per database handle, then runs with fresh parameters. For
 * the statements every request may run (the session behind a cookie, the settings a forward-auth verdict
 * reads): building and compiling Kysely's query tree costs more than the database's answer to such a
 * small indexed read. `build` gets placeholder values; `parameterCount` says how many parameters its
 * compiled form must have, in the order the caller passes them, so a change to the query that adds or
 * drops one fails at once instead of binding values to the wrong placeholders.
 */
export function compiledOnce<Row>(
  name: string,
  build: (db: Kysely<Database>) => Compilable<Row>,
  parameterCount: number,
): (db: Kysely<Database>, parameters: readonly unknown[]) => Promise<QueryResult<Row>> {
  // Per handle: a transaction's handle is another Kysely instance, and an engine compiles its own SQL.
  const compiled = new WeakMap<Kysely<Database>, CompiledQuery<Row>>();
  return async (db, parameters) => {
    let query = compiled.get(db);
    if (!query) {
      query = build(db).compile();
      if (query.parameters.length !== parameterCount) {
        throw new Error(
          `${name}: ${parameterCount} parameter(s) expected, ${query.parameters.length} compiled`,
        );
      }
      compiled.set(db, query);
    }
    if (parameters.length !== parameterCount) {
      throw new Error(`${name}: ${parameterCount} parameter(s) expected, ${parameters.length} given`);
    }
    return db.executeQuery<Row>({ ...query, parameters });
  };
}
