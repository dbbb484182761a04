import { appendFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * One line of `npm run stress`'s summary table. The stress-relevant tests each report what they measured,
 * so the runner (scripts/stress.ts) can print one table for the whole run instead of one per file.
 */
export interface StressRow {
  suite: string;
  /** The test file that measured it (`import.meta.url`), so the runner can show whether it passed. */
  file: string;
  attempts: number;
  /** What got through: accepted uses, acknowledged requests, or evaluated guesses; the label says which. */
  accepted: number;
  acceptedLabel?: string;
  /** A used code accepted again, or (throttle) an attempt evaluated beyond the allowance. */
  doubleAccepts: number;
  /** An acknowledged answer whose audit event (or row) is missing afterwards; null where not measured. */
  lostEvents: number | null;
  /** Answers of 500 or more; null for races run below HTTP. */
  serverErrors: number | null;
}

/**
 * Appends `row` to the file named by SPAREKEY_STRESS_REPORT (JSON lines; several test files append to it).
 * Does nothing in `npm test`, where the variable is unset. Called before the assertions, so a failing test
 * still reports the numbers that explain its failure.
 */
export function reportStressRow(row: Omit<StressRow, 'file'> & { file: string }): void {
  const target = process.env.SPAREKEY_STRESS_REPORT;
  if (!target) return;
  const file = row.file.startsWith('file:') ? relative(process.cwd(), fileURLToPath(row.file)) : row.file;
  appendFileSync(target, `${JSON.stringify({ ...row, file })}\n`);
}

/** The rows a report file holds, in the order they were appended. */
export function parseStressRows(text: string): StressRow[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as StressRow);
}

/** Whether a row shows a broken guarantee (independent of the test's own assertions). */
export function stressRowFailed(row: StressRow): boolean {
  return row.doubleAccepts > 0 || (row.lostEvents ?? 0) > 0 || (row.serverErrors ?? 0) > 0;
}

const count = (value: number | null) => (value === null ? '—' : value.toLocaleString('en-US'));

/**
 * The summary as a Markdown table (it is pasted into docs/security.md). `results` maps a test file to
 * "passed"/"failed"; files that ran but reported no row get a line of their own.
 */
export function formatStressTable(rows: readonly StressRow[], results: ReadonlyMap<string, string>): string {
  const lines = [
    '| suite | attempts | accepted | double-accepts | lost events | 5xx | result |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const row of rows) {
    const accepted = `${count(row.accepted)}${row.acceptedLabel ? ` ${row.acceptedLabel}` : ''}`;
    lines.push(
      `| ${row.suite} | ${count(row.attempts)} | ${accepted} | ${count(row.doubleAccepts)} | ` +
        `${count(row.lostEvents)} | ${count(row.serverErrors)} | ${results.get(row.file) ?? 'not run'} |`,
    );
  }
  const reported = new Set(rows.map((row) => row.file));
  for (const [file, result] of results) {
    if (!reported.has(file)) lines.push(`| ${file} | — | — | — | — | — | ${result} |`);
  }
  return lines.join('\n');
}
