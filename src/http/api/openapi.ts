import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { API_PREFIX } from './register-api.js';

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
        description:
          'Recovery codes and two-factor authentication. Authenticate with an API key: `Authorization: Bearer sk_...`. ' +
          'Errors always have the shape `{ "error": { "code": "...", "message": "..." } }`.',
      },
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
    transform: ({ schema, url }) => ({
      schema: url.startsWith(API_PREFIX) ? schema : { ...schema, hide: true },
      url,
    }),
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
