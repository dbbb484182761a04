import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { sql } from 'kysely';
import type { TestEnvironment } from './service-deps.js';

/**
 * Everything the database holds, as text to search: on SQLite the raw bytes of the file and its write-ahead
 * log; on PostgreSQL every row of every table of the test's schema.
 */
export async function storedText(env: TestEnvironment): Promise<string> {
  if (env.engine === 'sqlite') {
    const dir = dirname(env.location);
    return readdirSync(dir)
      .map((name) => readFileSync(join(dir, name)).toString('latin1'))
      .join('\n');
  }
  const tables = await sql<{ table_name: string }>`
    select table_name from information_schema.tables where table_schema = ${env.location}`.execute(
    env.opened.db,
  );
  if (tables.rows.length < 5) throw new Error(`only ${tables.rows.length} tables in ${env.location}`);
  const dumps = await Promise.all(
    tables.rows.map(async ({ table_name }) => {
      const rows = await sql<{
        row: unknown;
      }>`select row_to_json(t) as row from ${sql.table(table_name)} t`.execute(env.opened.db);
      return JSON.stringify(rows.rows);
    }),
  );
  return dumps.join('\n');
}
