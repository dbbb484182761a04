import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, test } from 'vitest';
import { findUnmappedRequestInput } from './request-input-binding.js';

/**
 * ARCHITECTURE.md, "Flows live once": identity comes from the session, the API key or the path, and edges
 * map validated fields one by one into the service input. The security issue on mass assignment (anonymous
 * sign-up as administrator through a `roles` field, a step-up bound to a body `userId`) came from edges that
 * spread a request body into a use case; this test fails if such a spread comes back anywhere in the edges.
 */
const root = join(import.meta.dirname, '../..');
const EDGES = [
  'src/http',
  'src/web',
  'src/cli',
  'src/library.ts',
  'src/library-security-keys.ts',
  'examples',
];

function typeScriptFiles(path: string): string[] {
  if (!statSync(path, { throwIfNoEntry: false })) return [];
  if (statSync(path).isFile()) return [path];
  return readdirSync(path, { withFileTypes: true }).flatMap((entry) => {
    const child = join(path, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : typeScriptFiles(child);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [child] : [];
  });
}

const edgeFiles = EDGES.flatMap((edge) => typeScriptFiles(join(root, edge)));

describe('no request input reaches a use case unmapped (issue: mass assignment)', () => {
  test('the scan covers every edge: the API, the pages, the CLI, the library and the examples', () => {
    const scanned = new Set(edgeFiles.map((file) => relative(root, file).split('/').slice(0, 2).join('/')));
    for (const edge of EDGES)
      expect(
        [...scanned].some((path) => path.startsWith(edge)),
        edge,
      ).toBe(true);
    expect(edgeFiles.length).toBeGreaterThan(30);
  });

  test('no edge spreads a request body, query, parameters or form, or passes one whole to a service', () => {
    const violations = edgeFiles.flatMap((file) =>
      findUnmappedRequestInput(relative(root, file), readFileSync(file, 'utf8')),
    );
    expect(violations.map((v) => `${v.file}:${v.line} ${v.rule}: ${v.text}`)).toEqual([]);
  });

  // The scanner itself, on the shapes that reached production before (and their harmless neighbours), so a
  // scanner that finds nothing cannot pass the test above by accident.
  const service = "import { signUp } from '../../service/accounts.js';\n";
  test.each([
    ['the sign-up route of the issue', 'signUp(deps, { ...request.body, context: apiContext(request) });'],
    [
      'a body passed through a helper parameter',
      'const f = (body: B) => verifyStepUp(deps, { userId, ...body });',
    ],
    ['a cast body', 'signUp(deps, { ...(request.body as Credentials), context });'],
    ['query parameters', 'list({ ...request.query, limit: 10 });'],
    ['path parameters', 'confirmTotp(deps, { ...request.params, code });'],
    [
      'a library input object',
      'const create = (input: I) => signUp(deps, { ...input, context: ctx(input.context) });',
    ],
    ['a parsed form', 'save({ ...form, actorId });'],
    ['Object.assign', 'Object.assign(target, request.body);'],
    ['a whole body handed to a service', 'signUp(deps, request.body as never);'],
  ])('flags %s', (_name, line) => {
    expect(findUnmappedRequestInput('fixture.ts', service + line)).toHaveLength(1);
  });

  test.each([
    ['the request context the server builds', 'f({ ...requestContext(request), actorId: admin.user.id });'],
    ['schema fragments', 'const schema = { ...SESSION, ...errors(409) };'],
    [
      'fields copied by name',
      'signUp(deps, { email: request.body.email, password: request.body.password });',
    ],
    ['a result', 'return { ...base, remaining: outcome.remaining };'],
    ['a mapping function of the edge', 'signUp(deps, settingsUpdateFrom(request.body));'],
  ])('allows %s', (_name, line) => {
    expect(findUnmappedRequestInput('fixture.ts', service + line)).toEqual([]);
  });
});
