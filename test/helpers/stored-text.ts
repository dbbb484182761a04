import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { sql } from 'kysely';
import type { TestEnvironment } from './service-deps.js';

/**
 * Everything the database holds, as text to search: on SQLite the raw bytes of the file and its write-ahead
 * log (so deleted rows and old page versions still there are searched too); on PostgreSQL every row of
 * every table of the test's schema, as `row_to_json`.
 *
 * Why not PostgreSQL's raw files: they belong to the server's own user (not readable by the tests, and not
 * on this machine at all when SPAREKEY_TEST_DATABASE_URL points elsewhere), recent writes sit in the WAL
 * and shared buffers until a checkpoint, and long values are TOAST-compressed, so a byte search would miss
 * them anyway. `row_to_json` reads every live value of every column, decompressed. What it cannot see is a
 * dead row version (an UPDATE's or DELETE's old tuple before VACUUM); both engines run the same queries
 * (store/kysely), so a value written in clear and then overwritten would be found in SQLite's raw bytes.
 */
export async function storedText(env: TestEnvironment): Promise<string> {
  if (env.engine === 'sqlite') {
    const dir = dirname(env.location);
    return readdirSync(dir)
      .map((name) => readFileSync(join(dir, name)).toString('latin1'))
      .join('\n');
  }
  return storedRows(env);
}

/**
 * Every row of every table, one JSON document per table, read through SQL on either engine: integer
 * columns as their digits (SQLite stores them in binary, so its raw bytes do not show them).
 */
export async function storedRows(env: TestEnvironment): Promise<string> {
  const tables =
    env.engine === 'sqlite'
      ? await sql<{ table_name: string }>`
          select name as table_name from sqlite_master where type = 'table' and name not like 'sqlite_%'`.execute(
          env.opened.db,
        )
      : await sql<{ table_name: string }>`
          select table_name from information_schema.tables where table_schema = ${env.location}`.execute(
          env.opened.db,
        );
  if (tables.rows.length < 5) throw new Error(`only ${tables.rows.length} tables in ${env.location}`);
  const dumps = await Promise.all(
    tables.rows.map(async ({ table_name }) => {
      const rows =
        env.engine === 'sqlite'
          ? await sql<Record<string, unknown>>`select * from ${sql.table(table_name)}`.execute(env.opened.db)
          : await sql<{
              row: unknown;
            }>`select row_to_json(t) as row from ${sql.table(table_name)} t`.execute(env.opened.db);
      return JSON.stringify(rows.rows, (_key, value) =>
        typeof value === 'bigint' ? value.toString() : value,
      );
    }),
  );
  return dumps.join('\n');
}

/**
 * Whether `text` holds `code` as a whole token: not next to another letter or digit, nor the other side of a
 * decimal point (a log's `"responseTime":3.141592` holds no code). A 6-digit code is too
 * short to search for as a substring (any timestamp, sequence number or hex id may contain its digits), but
 * as a token it is unambiguous: an exact column value (`:123456,` or `"123456"` in storedRows' JSON), a
 * value inside an audit event's JSON details, a word in a text, a text value in SQLite's raw bytes. Our ids
 * are hex runs of 4, 8 or 12 and base64url runs, timestamps are 13 digits, so none is such a token. (A
 * code glued to other letters or digits, `code123456`, would be missed; nothing writes one that way.)
 */
export function holdsToken(text: string, code: string): boolean {
  return new RegExp(`(?<![A-Za-z0-9])(?<!\\d\\.)${escapeRegExp(code)}(?![A-Za-z0-9])(?!\\.\\d)`).test(text);
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
