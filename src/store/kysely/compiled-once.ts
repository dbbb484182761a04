import type { Compilable, CompiledQuery, Kysely, QueryResult } from 'kysely';
import type { Database } from './database.js';

/**
 * The SQL of every statement compiled here whose result columns are named (no `*`), with a name for it as
 * a prepared statement. A PostgreSQL connection prepares such a statement the first time it runs it and
 * afterwards only binds and executes it (open-postgres.ts): the database no longer parses and plans each
 * execution, most of what it spends on these small indexed statements. A `*` is left out because a
 * migration that adds a column (another instance's, during a rolling upgrade) would change the prepared
 * result and PostgreSQL refuses to run it then ("cached plan must not change result type").
 */
const preparedNames = new Map<string, string>();
const SELECTS_EVERY_COLUMN = /\bselect\s+\*|\breturning\s+\*|\.\*/i;

/** The prepared statement's name for this SQL, when it is one of the statements compiled here. */
export function preparedStatementName(sqlText: string): string | undefined {
  return preparedNames.get(sqlText);
}

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
  // Per dialect adapter: the SQL depends only on the engine's dialect (and on plugins, which our handles
  // have none of). A transaction's handle is another Kysely instance but shares its root's adapter, so the
  // statements a transaction runs are compiled once too, not once per transaction. A handle with plugins
  // is keyed by itself, as every handle was before.
  const compiled = new WeakMap<object, CompiledQuery<Row>>();
  return async (db, parameters) => {
    const executor = db.getExecutor();
    const key = executor.plugins.length === 0 ? executor.adapter : db;
    let query = compiled.get(key);
    if (!query) {
      query = build(db).compile();
      if (query.parameters.length !== parameterCount) {
        throw new Error(
          `${name}: ${parameterCount} parameter(s) expected, ${query.parameters.length} compiled`,
        );
      }
      compiled.set(key, query);
      if (!SELECTS_EVERY_COLUMN.test(query.sql) && !preparedNames.has(query.sql)) {
        preparedNames.set(query.sql, `sparekey_${preparedNames.size}_${name}`.slice(0, 63));
      }
    }
    if (parameters.length !== parameterCount) {
      throw new Error(`${name}: ${parameterCount} parameter(s) expected, ${parameters.length} given`);
    }
    return db.executeQuery<Row>({ ...query, parameters });
  };
}
