import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, test } from 'vitest';

/**
 * ARCHITECTURE.md: dependencies point down only. core is pure; store is the only place with SQL;
 * service composes them; the edges (http, web, cli) are thin; config is the only reader of process.env.
 */
const srcDir = join(import.meta.dirname, '../../src');

const allowedLayers: Record<string, string[]> = {
  core: ['core'],
  store: ['store', 'core'],
  service: ['service', 'core', 'store'],
  config: ['config', 'core', 'store'],
  // The edges never reach the store: what they read is a use case (see the edge rules below).
  http: ['http', 'service', 'core', 'config'],
  web: ['web', 'http', 'service', 'core', 'config'],
  // The CLI is an entry point too: it reuses the composition root (compose.ts, main.ts for `serve`).
  cli: ['cli', 'service', 'core', 'store', 'config', 'http', 'root'],
  mail: ['mail', 'service', 'core'],
  // Adapters of service ports to the outside world (webhook POSTs).
  outbound: ['outbound', 'service', 'core'],
  // The OpenID Connect edge: oidc-provider mounted, its interactions as SpareKey pages (web helpers).
  oidc: ['oidc', 'web', 'http', 'service', 'core', 'config'],
};

/** Packages that do I/O or carry infrastructure; core must stay free of them. */
const corePackages = ['node:crypto', 'otpauth', '@node-rs/argon2'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

function importsOf(source: string): string[] {
  return [...source.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+'([^']+)'/g)].map(
    (match) => match[1]!,
  );
}

const files = sourceFiles(srcDir).map((path) => {
  const rel = relative(srcDir, path);
  const layer = rel.includes('/') ? rel.split('/')[0]! : 'root';
  return { path, rel, layer, source: readFileSync(path, 'utf8') };
});

/**
 * The edges: they parse input, call a use case and render its result (issue 20). The library's entry
 * points and the server's builder (build-server.ts) are edges too; compose.ts and main.ts are the composition roots,
 * which open the store and build the dependencies.
 */
const isEdge = (rel: string) =>
  ['web', 'http', 'oidc', 'cli'].includes(rel.split('/')[0]!) ||
  ['library.ts', 'library-options.ts', 'library-security-keys.ts', 'index.ts', 'build-server.ts'].includes(
    rel,
  );

/** A layer-qualified path of what `specifier`, imported by `file`, names (relative to src/). */
const importTarget = (file: { path: string }, specifier: string) =>
  relative(srcDir, join(file.path, '..', specifier));

/** Every specifier a file imports or re-exports, type-only ones included, and dynamic imports. */
const allImportsOf = (source: string) => [
  ...importsOf(source),
  ...[...source.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)].map((match) => match[1]!),
];

describe('layering (ARCHITECTURE.md)', () => {
  test.each(files.filter((file) => file.layer in allowedLayers).map((file) => [file.rel, file] as const))(
    '%s imports only from the layers below it',
    (_rel, file) => {
      for (const specifier of importsOf(file.source).filter((s) => s.startsWith('.'))) {
        const target = relative(srcDir, join(file.path, '..', specifier));
        const targetLayer = target.includes('/') ? target.split('/')[0]! : 'root';
        expect(allowedLayers[file.layer], `${file.rel} imports ${specifier}`).toContain(targetLayer);
      }
    },
  );

  test('core does no I/O: only crypto and the OTP/KDF libraries, no clock, no environment, no randomness of its own', () => {
    for (const file of files.filter((f) => f.layer === 'core')) {
      for (const specifier of importsOf(file.source).filter((s) => !s.startsWith('.'))) {
        expect(corePackages, `${file.rel} imports ${specifier}`).toContain(specifier);
      }
      expect(file.source, file.rel).not.toMatch(
        /Date\.now\(|new Date\(\)|process\.env|Math\.random|randomBytes|randomInt|randomUUID|getRandomValues/,
      );
    }
  });

  test('only config/ and the composition roots (server and CLI entry points) read process.env', () => {
    const readers = files.filter((f) => /process\.env/.test(f.source)).map((f) => f.rel);
    const roots = ['main.ts', 'cli/main.ts'];
    expect(readers.filter((rel) => !rel.startsWith('config/') && !roots.includes(rel))).toEqual([]);
  });

  test('only adapters talk to other servers: service/ sends through its ports (no global fetch)', () => {
    const callers = files.filter((f) => /\bfetch\(/.test(f.source)).map((f) => f.rel);
    expect(callers).toEqual(['outbound/fetch-outbound-http.ts']);
  });

  test('SQL is written only in store/', () => {
    const withSql = files.filter((f) => /from 'kysely'|from 'pg'|from 'better-sqlite3'/.test(f.source));
    expect(withSql.map((f) => f.rel).filter((rel) => !rel.startsWith('store/'))).toEqual([]);
  });

  test('no edge imports store/, not even a type: what an edge needs is re-exported by the service module', () => {
    const found = files
      .filter((file) => isEdge(file.rel))
      .flatMap((file) =>
        allImportsOf(file.source)
          .filter((specifier) => specifier.startsWith('.'))
          .filter((specifier) => importTarget(file, specifier).split('/')[0] === 'store')
          .map((specifier) => `${file.rel} imports ${specifier}`),
      );
    expect(found).toEqual([]);
  });

  test('no edge reaches the store through the dependencies (deps.store, anything.store.)', () => {
    const found = files
      .filter((file) => isEdge(file.rel))
      .flatMap((file) =>
        file.source
          .split('\n')
          .map((line, index) => ({ line, number: index + 1 }))
          .filter(({ line }) => /\bdeps\.store\b|\.store\./.test(line))
          .map(({ line, number }) => `${file.rel}:${number}: ${line.trim()}`),
      );
    expect(found).toEqual([]);
  });

  test('edges get use cases, not the dependencies: only the server builder binds ServiceDeps into them', () => {
    const found = files
      .filter((file) => isEdge(file.rel) && file.rel !== 'build-server.ts')
      .filter((file) => /\bServiceDeps\b|\bdeps\b/.test(file.source.replace(/'[^'\n]*'/g, "''")))
      .map((file) => file.rel);
    expect(found).toEqual([]);
  });

  test('an edge imports from service/ only the use-case object, types and pure helpers (no use case taking deps)', () => {
    // The server builder binds the use cases and starts the background workers with the dependencies.
    const found = files
      .filter((file) => isEdge(file.rel) && file.rel !== 'build-server.ts')
      .flatMap((file) =>
        [...file.source.matchAll(/import\s+\{([^}]*)\}\s+from\s+'([^']+)'/g)].flatMap((match) => {
          const target = importTarget(file, match[2]!).replace(/\.js$/, '.ts');
          if (!target.startsWith('service/') || target === 'service/use-cases.ts') return [];
          const module = files.find((candidate) => candidate.rel === target);
          const names = match[1]!
            .split(',')
            .map((name) => name.trim())
            .filter((name) => name && !name.startsWith('type '));
          return names
            .filter((name) =>
              new RegExp(`export (async )?function ${name}(<[^>]*>)?\\(\\s*deps\\b`).test(
                module?.source ?? '',
              ),
            )
            .map((name) => `${file.rel} imports the use case ${name} from ${target}`);
        }),
      );
    expect(found).toEqual([]);
  });

  test('the edge rules see every edge: pages, JSON API, OpenID Connect, the library and the app builder', () => {
    const edges = files.filter((file) => isEdge(file.rel)).map((file) => file.rel);
    for (const expected of ['web/register-web.ts', 'http/plugins/api-key-auth.ts', 'oidc/provider-holder.ts'])
      expect(edges).toContain(expected);
    expect(edges).toEqual(expect.arrayContaining(['library.ts', 'build-server.ts', 'index.ts']));
  });
});
