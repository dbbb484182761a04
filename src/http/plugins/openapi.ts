import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { type ApiKeyScope, apiKeyScopes, impliedScopes } from '../../core/api-key.js';
import { errorResponse } from '../schemas/common.js';
import { API_PREFIX } from './register-api.js';

/** Methods whose requests Fastify reads a body for: any of them may be refused as too large or not JSON. */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The answers every operation of a method that takes a body can give before its handler runs. */
function withBodyRefusals(method: string | string[], response: unknown): unknown {
  if (![method].flat().some((m) => BODY_METHODS.has(m.toUpperCase()))) return response;
  return { ...(response as object), 413: errorResponse(413), 415: errorResponse(415) };
}

/** The scopes that also grant `scope`: the ones that imply it, and `admin`. */
function grantingScopes(scope: ApiKeyScope): ApiKeyScope[] {
  const implying = apiKeyScopes.filter((candidate) => impliedScopes[candidate]?.includes(scope));
  return scope === 'admin' ? [] : [...implying, 'admin'];
}

const SESSION_STAGES = {
  second_factor: 'at the `second_factor` stage (signIn answered `stage: second_factor`)',
  signed_in: 'of a signed-in user',
  any: 'at any stage',
} as const;

/**
 * What an operation needs, stated on it: a key's scope (`x-required-scope`, the `security` requirement and
 * a sentence naming the broader scopes that include it), a session token and its stage
 * (`x-required-session`), or nothing (public). The same config the onRequest check reads (api-key-auth.ts).
 */
function requiredCredential(config: { scope?: ApiKeyScope; session?: string }): {
  note: string;
  fields: Record<string, unknown>;
} {
  if (config.session === 'none')
    return { note: 'Public: no API key or session.', fields: { security: [], 'x-required-session': 'none' } };
  if (config.session) {
    const stage =
      SESSION_STAGES[config.session as keyof typeof SESSION_STAGES] ?? `at the \`${config.session}\` stage`;
    return {
      note: `Requires a session token ${stage} as \`Authorization: Bearer\`; API keys are not accepted.`,
      fields: { security: [{ session: [] }], 'x-required-session': config.session },
    };
  }
  const scope = config.scope;
  // Such a route would refuse every key (authorize-api-key.ts): a mistake to see at once, not to document.
  if (!scope) throw new Error('an API route names neither a scope nor a session rule');
  const wider = grantingScopes(scope);
  const note = `Requires an API key with the \`${scope}\` scope${wider.length > 0 ? ` (or ${wider.map((s) => `\`${s}\``).join(', ')})` : ''}.`;
  return { note, fields: { security: [{ apiKey: [scope] }], 'x-required-scope': scope } };
}

/**
 * OpenAPI 3.1 generated from the routes' own schemas (so it cannot drift from what is validated), at
 * /openapi.json, browsable at /docs. Registered before the routes so it sees them; only /api/v1 is listed.
 */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'SpareKey API',
        version: '1.0.0',
        license: { name: 'MIT', identifier: 'MIT' },
        description:
          'Recovery codes and two-factor authentication. Authenticate with an API key: `Authorization: Bearer sk_...`. ' +
          'Errors always have the shape `{ "error": { "code": "...", "message": "..." } }`.',
      },
      // Relative: the paths are served by whichever host the document was fetched from.
      servers: [{ url: '/', description: 'The SpareKey server that served this document' }],
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'An API key (sk_...), for backends' },
          session: {
            type: 'http',
            scheme: 'bearer',
            description: 'A session token from signIn, for end-user routes',
          },
        },
      },
      security: [{ apiKey: [] }],
    },
    // Shared schemas keep their own names (`Error`), not `def-0`: generated clients name types after them.
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) =>
        typeof json.$id === 'string' ? json.$id : `def-${i}`,
    },
    transform: ({ schema: routeSchema, url, route }) => {
      if (!url.startsWith(API_PREFIX)) return { schema: { ...routeSchema, hide: true }, url };
      const credential = requiredCredential(route.config ?? {});
      const description = [routeSchema.description, credential.note].filter(Boolean).join('\n\n');
      return {
        schema: {
          ...routeSchema,
          response: withBodyRefusals(route.method, routeSchema.response),
          description,
          ...credential.fields,
        },
        url,
      };
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs', staticCSP: false });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  // Swagger UI styles itself inline; its pages (only) allow that. Everything else keeps the strict policy.
  app.addHook('onSend', async (request, reply) => {
    if (request.url === '/docs' || request.url.startsWith('/docs/')) {
      reply.header(
        'content-security-policy',
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'",
      );
    }
  });
}
