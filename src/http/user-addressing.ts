import { type TObject, type TSchema, type TString, Type } from 'typebox';
import { EXTERNAL_ID_PATTERN, MAX_EXTERNAL_ID_LENGTH } from '../service/accounts/host-users.js';
import type { UseCases } from '../service/use-cases.js';

/**
 * How a by-user route names its user: by SpareKey's id (`/users/{userId}/...`) or by the host
 * application's own id (`/external-users/{externalId}/...`). Each by-user route is registered once per
 * addressing, so both forms have the same operations, answers and scopes.
 */
export interface UserAddressing {
  prefix: string;
  params: TObject<{ userId: TString }> | TObject<{ externalId: TString }>;
  /** Appended to each operationId, which must be unique in the OpenAPI document. */
  operationSuffix: string;
  /** SpareKey's id of the user the path names, or undefined when nobody has it (404 user_not_found). */
  resolve(useCases: UseCases, params: unknown): Promise<string | undefined>;
}

/**
 * The router's limit on a path parameter, in decoded characters (Fastify's default, 100, is shorter than a
 * host's id). It is above the longest valid value (a host id, 255) so that a value a little too long still
 * reaches its route's schema and gets the domain code (`invalid_external_id`, as in the library); beyond it
 * the router answers 414 `uri_too_long` before any schema runs, a transport limit like 413. The server's and
 * the middleware's own Fastify instances set it; a host mounting `fastifyPlugin` in its own instance sets
 * `routerOptions: { maxParamLength: 1024 }` there to address ids over 100 characters (docs/api.md).
 */
export const MAX_PATH_PARAMETER_LENGTH = 1024;

export const UserIdParams = Type.Object({
  userId: Type.String({ minLength: 1, maxLength: 64, description: "SpareKey's id for the user" }),
});

export const ExternalIdParams = Type.Object({
  externalId: Type.String({
    minLength: 1,
    maxLength: MAX_EXTERNAL_ID_LENGTH,
    // isValidExternalId's rule: no control characters (they would break log lines and CSV exports).
    pattern: EXTERNAL_ID_PATTERN,
    description: "Your application's own id for the user (up to 255 characters), as given to ensureUser",
  }),
});

export const BY_USER_ID: UserAddressing = {
  prefix: '/users/:userId',
  params: UserIdParams,
  operationSuffix: '',
  resolve: (useCases, params) => useCases.resolveUserRef({ userId: (params as { userId: string }).userId }),
};

export const BY_EXTERNAL_ID: UserAddressing = {
  prefix: '/external-users/:externalId',
  params: ExternalIdParams,
  operationSuffix: 'ByExternalId',
  resolve: (useCases, params) =>
    useCases.resolveUserRef({ externalId: (params as { externalId: string }).externalId }),
};

/** A by-user route's path schema with the path's further parameters (e.g. a factor id) added. */
export function pathSchemaWith<More extends Record<string, TSchema>>(addressing: UserAddressing, more: More) {
  const schema: TObject = addressing.params;
  // Statically only the added parameters: the user's own one is read by `resolve`, which takes it untyped.
  return Type.Object({ ...schema.properties, ...more }) as unknown as TObject<More>;
}
