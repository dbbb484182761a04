import type { RouteOptions } from 'fastify';

/** The request parts a client writes; headers are left open (every client sends headers of its own). */
const CLIENT_PARTS = ['body', 'querystring', 'params'] as const;

type Schema = Record<string, unknown>;

const isSchema = (value: unknown): value is Schema =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * A copy of `schema` in which every object refuses properties it does not name
 * (`additionalProperties: false`), unless the schema says otherwise on purpose. Together with the
 * validator's `removeAdditional: false` (request-validation.ts), an unknown field is a 400, not a field
 * that is silently dropped or, worse, passed along to a use case.
 *
 * An intersection (`allOf`) of objects cannot be made strict this way (each part would refuse the other
 * parts' properties), so it is refused at start-up: write one object instead.
 */
export function strictSchema(schema: unknown, where: string): unknown {
  if (Array.isArray(schema)) return schema.map((item) => strictSchema(item, where));
  if (!isSchema(schema)) return schema;
  const copy: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    // `properties` maps names to schemas; every other key holds a schema, a list of them, or a value.
    copy[key] =
      key === 'properties' && isSchema(value)
        ? Object.fromEntries(Object.entries(value).map(([name, inner]) => [name, strictSchema(inner, where)]))
        : strictSchema(value, where);
  }
  if (Array.isArray(schema.allOf) && schema.allOf.some((part) => isSchema(part) && part.type === 'object'))
    throw new Error(
      `${where}: an intersection (allOf) of objects cannot refuse unknown fields; use one object`,
    );
  if (
    copy.type === 'object' &&
    copy.additionalProperties === undefined &&
    copy.patternProperties === undefined
  )
    copy.additionalProperties = false;
  return copy;
}

/**
 * onRoute: every route's body, query string and path parameter schemas refuse unknown properties. Kept
 * central so a new route is strict without anyone remembering to say so; test/http/strict-schemas.test.ts
 * walks every registered route to prove it, and that every number and string is bounded.
 */
export function makeRequestSchemasStrict(route: RouteOptions): void {
  const schema = route.schema as Record<string, unknown> | undefined;
  if (!schema) return;
  for (const part of CLIENT_PARTS) {
    if (schema[part] !== undefined)
      schema[part] = strictSchema(schema[part], `${route.method} ${route.url} ${part}`);
  }
}
