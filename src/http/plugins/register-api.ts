import type { FastifyInstance } from 'fastify';
import type { UseCases } from '../../service/use-cases.js';
import { registerJsonBodyParser } from '../json-body.js';
import { requestValidatorCompiler } from '../request-validation.js';
import { registerAdminApiKeyRoutes } from '../routes/admin-api-keys.js';
import { registerAdminApplicationRoutes } from '../routes/admin-applications.js';
import { registerAdminAuditRoutes } from '../routes/admin-audit.js';
import { registerAdminSettingsRoutes } from '../routes/admin-settings.js';
import { registerAdminUserRoutes } from '../routes/admin-users.js';
import { registerAuthRoutes } from '../routes/auth.js';
import { registerPasskeySignInRoutes } from '../routes/auth-passkey.js';
import { registerHostUserRoutes } from '../routes/external-users.js';
import { registerMeRoutes } from '../routes/me.js';
import { registerMySecurityKeyRoutes } from '../routes/me-security-keys.js';
import { registerRecoveryCodeRoutes } from '../routes/users-recovery-codes.js';
import { registerUserSecurityKeyRoutes } from '../routes/users-security-keys.js';
import { ErrorBody } from '../schemas/common.js';
import { makeRequestSchemasStrict } from '../strict-schemas.js';
import { BY_EXTERNAL_ID, BY_USER_ID } from '../user-addressing.js';
import { registerApiErrorHandler } from './api-error-handler.js';
import { requireApiKey, writeCarriedAudit } from './api-key-auth.js';

export const API_PREFIX = '/api/v1';

/** The JSON API: bearer API keys with scopes, schemas at the boundary, one error shape. */
declare module 'fastify' {
  interface FastifyInstance {
    /** Every API route (method and URL) as registered: the documentation test checks each is in /openapi.json. */
    apiRoutes: { method: string; url: string; hidden: boolean }[];
  }
}

export interface ApiOptions {
  /**
   * The end-user routes (sign-up, sign-in, /me/...: session tokens, for apps that draw SpareKey's flows
   * themselves). The server has them; an embedding host gets only its backend's API-key routes unless it
   * asks, so mounting SpareKey never opens a public sign-up beside the host's own users.
   */
  endUserRoutes?: boolean;
}

export async function registerApi(
  app: FastifyInstance,
  useCases: UseCases,
  options: ApiOptions = {},
): Promise<void> {
  app.addSchema(ErrorBody);
  app.decorate('apiRoutes', []);
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith(API_PREFIX)) return;
    for (const method of [route.method].flat()) {
      if (method === 'HEAD') continue;
      app.apiRoutes.push({ method, url: route.url, hidden: route.schema?.hide === true });
    }
  });
  await app.register(
    async (api) => {
      // Strict input wherever the API is mounted (the server, or a host app through the library): unknown
      // fields refused, bodies not coerced, JSON depth limited. buildServer sets the same for the whole app.
      api.addHook('onRoute', makeRequestSchemasStrict);
      api.setValidatorCompiler(requestValidatorCompiler());
      // JSON only: Fastify's own text/plain parser (or a parser of the context the API is mounted in)
      // would hand a route a string to validate, answered 400 invalid_request. A body in any other media
      // type is a 415 unsupported_media_type in the error shape, as the OpenAPI document declares.
      api.removeAllContentTypeParsers();
      registerJsonBodyParser(api);
      api.decorateRequest('apiKey', undefined);
      api.decorateRequest('apiSession', undefined);
      api.decorateRequest('carriedAudit', undefined);
      api.addHook('onRequest', requireApiKey(useCases));
      api.addHook('onSend', writeCarriedAudit(useCases));
      registerApiErrorHandler(api);
      registerRecoveryCodeRoutes(api, useCases, BY_USER_ID);
      registerRecoveryCodeRoutes(api, useCases, BY_EXTERNAL_ID);
      registerHostUserRoutes(api, useCases);
      registerUserSecurityKeyRoutes(api, useCases, BY_USER_ID);
      registerUserSecurityKeyRoutes(api, useCases, BY_EXTERNAL_ID);
      // In this order the OpenAPI document lists them as it did when they were one file.
      registerAdminSettingsRoutes(api, useCases);
      registerAdminAuditRoutes(api, useCases);
      registerAdminApiKeyRoutes(api, useCases);
      registerAdminUserRoutes(api, useCases);
      registerAdminApplicationRoutes(api, useCases);
      if (options.endUserRoutes ?? true) {
        registerAuthRoutes(api, useCases);
        registerPasskeySignInRoutes(api, useCases);
        registerMeRoutes(api, useCases);
        registerMySecurityKeyRoutes(api, useCases);
      }
    },
    { prefix: API_PREFIX },
  );
}
