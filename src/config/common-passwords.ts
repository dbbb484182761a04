import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The bundled blocklist (resources/common-passwords.txt), next to src/ and dist/ alike. */
export const DEFAULT_COMMON_PASSWORDS_PATH = join(
  import.meta.dirname,
  '../../resources/common-passwords.txt',
);

const cache = new Map<string, ReadonlySet<string>>();

/** Reads a blocklist once per path: one lowercased password per line; `#` lines and blank lines skipped. */
export function loadCommonPasswords(path = DEFAULT_COMMON_PASSWORDS_PATH): ReadonlySet<string> {
  let set = cache.get(path);
  if (!set) {
    const lines = readFileSync(path, 'utf8').split('\n');
    set = new Set(
      lines.filter((line) => line.length > 0 && !line.startsWith('#')).map((line) => line.toLowerCase()),
    );
    cache.set(path, set);
  }
  return set;
}
