import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { type ApiKeyScope, apiKeyScopes, impliedScopes } from '../../core/api-key.js';
import { API_PREFIX } from './register-api.js';

/** The scopes that also grant `scope`: the ones that imply it, and `admin`. */
function grantingScopes(scope: ApiKeyScope): ApiKeyScope[] {
  const implying = apiKeyScopes.filter((candidate) => impliedScopes[candidate]?.includes(scope));
  return scope === 'admin' ? [] : [...implying, 'admin'];
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
    transform: ({ schema, url, route }) => {
      if (!url.startsWith(API_PREFIX)) return { schema: { ...schema, hide: true }, url };
      const scope = route.config?.scope;
      if (!scope) return { schema, url };
      // Each operation states the scope its key needs (and which broader scopes include it).
      const wider = grantingScopes(scope);
      const note = `Requires an API key with the \`${scope}\` scope${wider.length > 0 ? ` (or ${wider.map((s) => `\`${s}\``).join(', ')})` : ''}.`;
      const description = [schema.description, note].filter(Boolean).join('\n\n');
      return {
        schema: { ...schema, description, security: [{ apiKey: [scope] }], 'x-required-scope': scope },
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
