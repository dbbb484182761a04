import { AjvCompiler } from '@fastify/ajv-compiler';
import type { FastifyServerOptions } from 'fastify';

/**
 * How request parts are validated (Fastify's own Ajv compiler, configured per part).
 *
 * Fastify's defaults strip unknown properties silently (`removeAdditional: true`) and coerce types
 * (`coerceTypes: 'array'`), so `{"userId": 0}` passed a string schema as "0" and a stray field simply
 * vanished. Here:
 * - bodies are JSON, typed by the client: no coercion (a number where a string is expected is a 400), no
 *   stripping (an unknown property is a 400, see strict-schemas.ts);
 * - query strings and path parameters are text, so numbers and booleans are coerced from it, but
 *   nothing is stripped either.
 * `useDefaults` keeps schema defaults (`limit` 50).
 */
const BODY_OPTIONS = { coerceTypes: false, removeAdditional: false, useDefaults: true, allErrors: false };
const TEXT_OPTIONS = { coerceTypes: true, removeAdditional: false, useDefaults: true, allErrors: false };

type RouteDefinition = { httpPart?: string; schema?: unknown; method: string; url: string };
type Validate = ((data: unknown) => unknown) & { errors?: unknown };

/**
 * Ajv coerces "1e309" and "Infinity" to Infinity, which passes `type: integer` and skips `maximum`
 * (its bound checks run only on finite numbers), so `?limit=1e309` reached the store as Infinity. A
 * coerced value must be a finite number: anything else is refused like any other schema violation.
 */
function refusingNonFiniteNumbers(validate: Validate): Validate {
  const checked: Validate = (data) => {
    const valid = validate(data);
    if (valid !== true) {
      checked.errors = validate.errors;
      return valid;
    }
    const key = nonFiniteKey(data);
    if (key === undefined) return true;
    checked.errors = [
      {
        instancePath: `/${key}`,
        schemaPath: '#/type',
        keyword: 'type',
        params: {},
        message: 'must be a finite number',
      },
    ];
    return false;
  };
  return checked;
}

function nonFiniteKey(data: unknown): string | undefined {
  if (data === null || typeof data !== 'object') return undefined;
  return Object.entries(data).find(([, value]) => typeof value === 'number' && !Number.isFinite(value))?.[0];
}

/** A validator compiler choosing by request part: one Ajv for bodies, one for text parts. */
function compilerFor(pool: ReturnType<typeof AjvCompiler>, externalSchemas: Record<string, never>) {
  const forBody = pool(externalSchemas, { customOptions: BODY_OPTIONS });
  const forText = pool(externalSchemas, { customOptions: TEXT_OPTIONS });
  return (route: RouteDefinition) =>
    route.httpPart === 'body'
      ? forBody(route as never)
      : refusingNonFiniteNumbers(forText(route as never) as Validate);
}

/** The schema controller for Fastify(): every route of the app is validated this way. */
export function requestValidation(): NonNullable<FastifyServerOptions['schemaController']> {
  const pool = AjvCompiler();
  return {
    compilersFactory: {
      buildValidator: (externalSchemas: Record<string, never>) => compilerFor(pool, externalSchemas) as never,
    },
  };
}

/**
 * The same for one encapsulated plugin (`instance.setValidatorCompiler`): the JSON API sets it on itself,
 * so it holds wherever it is mounted, the library's Fastify plugin and middleware included. Request
 * schemas reference no shared schema, so none are added.
 */
export function requestValidatorCompiler() {
  return compilerFor(AjvCompiler(), {}) as never;
}
