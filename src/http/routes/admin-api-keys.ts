import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { UseCases } from '../../service/use-cases.js';
import { apiContext, sendApiError } from '../api-replies.js';
import { ApiKeyIdParams, CreatedApiKey, NewApiKey } from '../schemas/admin-api-keys.js';
import { answer, errors } from '../schemas/common.js';

/** API keys over HTTP: create (the key is shown once) and revoke (`admin`). */
export function registerAdminApiKeyRoutes(parent: FastifyInstance, useCases: UseCases): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();

  app.post(
    '/api-keys',
    {
      config: { scope: 'admin' },
      schema: {
        operationId: 'createApiKey',
        summary: 'Create an API key; the key is in this response only',
        tags: ['api keys'],
        body: NewApiKey,
        response: {
          201: answer('Created: the key is in this answer only, store it now', CreatedApiKey),
          ...errors(),
        },
      },
    },
    async function createApiKey(request, reply) {
      const created = await useCases.createApiKey({
        name: request.body.name,
        scopes: request.body.scopes,
        context: apiContext(request),
      });
      if (!created.ok) return sendApiError(reply, created.error);
      return reply.code(201).header('cache-control', 'no-store').send(created.value);
    },
  );

  app.delete(
    '/api-keys/:keyId',
    {
      config: { scope: 'admin' },
      schema: {
        operationId: 'revokeApiKey',
        summary: 'Revoke an API key at once',
        tags: ['api keys'],
        params: ApiKeyIdParams,
        response: {
          204: { type: 'null', description: 'Revoked: the key stops working at once' },
          ...errors(404),
        },
      },
    },
    async function revokeApiKey(request, reply) {
      const revoked = await useCases.revokeApiKey({ id: request.params.keyId, context: apiContext(request) });
      return revoked.ok ? reply.code(204).send(null) : sendApiError(reply, revoked.error);
    },
  );
}
