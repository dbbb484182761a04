import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { UseCases } from '../../service/use-cases.js';
import { apiContext, sendApiError } from '../api-replies.js';
import { CreatedUser, EmailParams, FoundUser, NewUser } from '../schemas/admin-users.js';
import { errors } from '../schemas/common.js';

/** Accounts over HTTP for the operator: create one with a password, look one up by email. */
export function registerAdminUserRoutes(parent: FastifyInstance, useCases: UseCases): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();

  app.post(
    '/users',
    {
      config: { scope: 'admin' },
      schema: {
        operationId: 'createUser',
        summary: 'Create an account with a password (the same rules as sign-up)',
        tags: ['users'],
        body: NewUser,
        response: { 201: CreatedUser, ...errors(409) },
      },
    },
    async function createUser(request, reply) {
      // An administrator's call (the `admin` scope): the one route where roles may be chosen.
      const created = await useCases.createUser({
        email: request.body.email,
        password: request.body.password,
        roles: request.body.roles,
        context: apiContext(request),
      });
      if (!created.ok) return sendApiError(reply, created.error);
      return reply.code(201).send(created.value);
    },
  );

  app.get(
    '/users/by-email/:email',
    {
      config: { scope: 'recovery_codes:read' },
      schema: {
        operationId: 'findUserByEmail',
        summary: 'Look up an account by email address',
        tags: ['users'],
        params: EmailParams,
        response: {
          200: FoundUser,
          ...errors(404),
        },
      },
    },
    async function findUserByEmail(request, reply) {
      const user = await useCases.findUserByEmail(request.params.email);
      if (!user) return sendApiError(reply, 'user_not_found');
      return {
        id: user.id,
        email: user.email ?? request.params.email,
        roles: user.roles,
        createdAt: user.createdAt.toISOString(),
      };
    },
  );
}
