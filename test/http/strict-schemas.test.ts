import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildServer } from '../../src/build-server.js';
import { jsonNestsDeeperThan, MAX_JSON_DEPTH } from '../../src/http/json-body.js';
import { strictSchema } from '../../src/http/strict-schemas.js';
import { createTestEnvironment, type TestEnvironment } from '../helpers/service-deps.js';

/**
 * Issue 18, "strict schemas" (ASVS 5.0 2.2.1 input validation, OWASP API3:2023 mass assignment): every
 * JSON body, query string and path parameter schema of every registered route refuses unknown
 * properties, bounds every number (an integer in a range) and every string and list (a maximum length),
 * so the validator, not a use case, turns away what no route takes.
 */
type Schema = Record<string, unknown>;
const isSchema = (value: unknown): value is Schema =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** Every way `schema` lets more in than it names; `path` says where. */
function looseness(schema: unknown, path: string): string[] {
  if (Array.isArray(schema)) return schema.flatMap((item, i) => looseness(item, `${path}[${i}]`));
  if (!isSchema(schema)) return [];
  const found: string[] = [];
  const bounded = schema.enum !== undefined || schema.const !== undefined;
  if (schema.type === 'object' && schema.additionalProperties !== false)
    found.push(`${path}: an object that allows unknown properties`);
  if (schema.type === 'string' && !bounded && typeof schema.maxLength !== 'number')
    found.push(`${path}: a string without maxLength`);
  if ((schema.type === 'integer' || schema.type === 'number') && !bounded)
    if (typeof schema.minimum !== 'number' || typeof schema.maximum !== 'number')
      found.push(`${path}: a number without minimum and maximum`);
  if (schema.type === 'array' && typeof schema.maxItems !== 'number')
    found.push(`${path}: a list without maxItems`);
  if (schema.type === undefined && !bounded && !schema.anyOf && !schema.oneOf && !schema.allOf)
    found.push(`${path}: a value of any type`);
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'properties' && isSchema(value)) {
      for (const [name, inner] of Object.entries(value)) found.push(...looseness(inner, `${path}.${name}`));
    } else if (['items', 'anyOf', 'oneOf', 'allOf', 'not', 'additionalProperties'].includes(key)) {
      found.push(...looseness(value, `${path}/${key}`));
    }
  }
  return found;
}

describe('every request schema is strict and bounded', () => {
  let env: TestEnvironment;
  const routes: { method: string; url: string; schema?: unknown }[] = [];
  beforeAll(async () => {
    env = await createTestEnvironment('sqlite');
    const app = await buildServer({ deps: env.deps, onRouteSchema: (route) => routes.push(route) });
    await app.close();
  });
  afterAll(async () => env?.close());

  test('no body, query or path schema of any route allows unknown properties or unbounded values', () => {
    const problems: string[] = [];
    let checked = 0;
    for (const { method, url, schema } of routes) {
      if (!isSchema(schema)) continue;
      for (const part of ['body', 'querystring', 'params'] as const) {
        if (schema[part] === undefined) continue;
        checked++;
        problems.push(...looseness(schema[part], `${method} ${url} ${part}`));
      }
    }
    // Sign-up, sign-in, the codes, settings, keys, users, audit queries and every path parameter.
    expect(checked).toBeGreaterThan(30);
    expect(problems).toEqual([]);
  });

  test('the walk itself sees what a loose schema lets in (it would fail on one)', () => {
    const loose = {
      type: 'object',
      properties: {
        name: { type: 'string' },
        limit: { type: 'integer', minimum: 1 },
        tags: { type: 'array', items: { type: 'string', maxLength: 5 } },
        nested: { type: 'object', properties: {}, additionalProperties: false },
        anything: {},
      },
    };
    expect(looseness(loose, 'x')).toEqual([
      'x: an object that allows unknown properties',
      'x.name: a string without maxLength',
      'x.limit: a number without minimum and maximum',
      'x.tags: a list without maxItems',
      'x.anything: a value of any type',
    ]);
  });

  test('strictSchema closes every object, nested and inside unions, and leaves deliberate choices alone', () => {
    const strict = strictSchema(
      {
        type: 'object',
        properties: {
          format: { type: 'object', properties: { size: { type: 'integer' } } },
          either: { anyOf: [{ type: 'object', properties: {} }, { type: 'null' }] },
          open: { type: 'object', additionalProperties: { type: 'string' } },
          list: { type: 'array', items: { type: 'object', properties: {} } },
        },
      },
      'test',
    ) as Schema;
    expect(strict).toMatchObject({
      additionalProperties: false,
      properties: {
        format: { additionalProperties: false },
        either: { anyOf: [{ additionalProperties: false }, { type: 'null' }] },
        open: { additionalProperties: { type: 'string' } },
        list: { items: { additionalProperties: false } },
      },
    });
    // An intersection of objects cannot be closed part by part: refused when the route is registered.
    expect(() =>
      strictSchema(
        {
          allOf: [
            { type: 'object', properties: {} },
            { type: 'object', properties: {} },
          ],
        },
        'r',
      ),
    ).toThrow(/one object/);
  });

  test('pages read form fields by name only (field/fields, each bounded), so an unknown field is ignored', () => {
    // The decision for urlencoded forms: browsers send what the markup holds, so pages neither validate a
    // body schema nor pass a body on; they read the fields they name through web-context.ts. No page
    // touches request.body otherwise (the CSRF token is read by name too).
    const webDir = join(import.meta.dirname, '../../src/web');
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
        entry.isDirectory() ? files(join(dir, entry.name)) : [join(dir, entry.name)],
      );
    const readers = files(webDir)
      .filter((path) => path.endsWith('.ts'))
      .flatMap((path) =>
        readFileSync(path, 'utf8')
          .split('\n')
          .filter((line) => /request\.body\b/.test(line))
          .map((line) => `${relative(webDir, path)}: ${line.trim()}`),
      );
    expect(readers).toEqual([
      'register-web.ts: getToken: (request: FastifyRequest) => (request.body as { _csrf?: unknown } | undefined)?._csrf as string,',
      'web-context.ts: const body = request.body as Record<string, unknown> | undefined;',
      'web-context.ts: const value = (request.body as Record<string, unknown> | undefined)?.[name];',
    ]);
  });
});

describe('the JSON depth limit (jsonNestsDeeperThan)', () => {
  /** The nesting depth of a parsed value: the reference the one-pass scan must agree with. */
  const depthOf = (value: unknown): number =>
    value !== null && typeof value === 'object'
      ? 1 + Math.max(0, ...Object.values(value as object).map(depthOf))
      : 0;

  test('agrees with the parsed depth for any JSON, brackets and escaped quotes inside strings included', () => {
    const tricky = fc.constantFrom('[', ']', '{', '}', '"', '\\', '\\"', '[[[[', '"]', 'a');
    const text = fc.oneof(
      fc.string(),
      fc.array(tricky, { maxLength: 8 }).map((parts) => parts.join('')),
    );
    const value = fc.letrec<{ v: unknown }>((tie) => ({
      v: fc.oneof(
        { depthSize: 'medium' },
        text,
        fc.integer(),
        fc.constant(null),
        fc.array(tie('v'), { maxLength: 3 }),
        fc.dictionary(text, tie('v'), { maxKeys: 3 }),
      ),
    })).v;
    fc.assert(
      fc.property(value, fc.integer({ min: 0, max: 6 }), (parsed, limit) => {
        expect(jsonNestsDeeperThan(JSON.stringify(parsed), limit)).toBe(depthOf(parsed) > limit);
      }),
      { numRuns: 2000 },
    );
  });

  test('the limit is exact, and a 10,000-deep body is refused in one pass without recursion', () => {
    const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
    expect(jsonNestsDeeperThan(nested(MAX_JSON_DEPTH), MAX_JSON_DEPTH)).toBe(false);
    expect(jsonNestsDeeperThan(nested(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH)).toBe(true);
    expect(jsonNestsDeeperThan(`${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`, MAX_JSON_DEPTH)).toBe(true);
    expect(jsonNestsDeeperThan(`{"a":"${'['.repeat(1000)}"}`, MAX_JSON_DEPTH)).toBe(false);
  });
});
