import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { UseCases } from '../../service/use-cases.js';
import { apiContext, sendApiError } from '../api-replies.js';
import { CreatedUser, EmailParams, FoundUser, NewUser } from '../schemas/admin-users.js';
import { answer, errors } from '../schemas/common.js';

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
        response: { 201: answer("Created: the new account's id", CreatedUser), ...errors(409) },
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

  // `/users/by-email/{email}` was the first path: beside `/users/{userId}/recovery-codes` it is ambiguous
  // (`by-email` could be a user id), so code generators cannot trust it. It keeps answering for existing
  // clients, hidden from the document and marked deprecated, with a link to its successor.
  registerFindUserByEmail(app, useCases, '/users-by-email/:email');
  registerFindUserByEmail(app, useCases, '/users/by-email/:email', { legacy: true });
}

function registerFindUserByEmail(
  app: FastifyInstance,
  useCases: UseCases,
  url: string,
  { legacy = false } = {},
): void {
  app.withTypeProvider<TypeBoxTypeProvider>().get(
    url,
    {
      config: { scope: 'recovery_codes:read' },
      schema: {
        operationId: 'findUserByEmail',
        summary: 'Look up an account by email address',
        tags: ['users'],
        params: EmailParams,
        response: {
          200: answer('The account with that address', FoundUser),
          ...errors(404),
        },
        ...(legacy ? { hide: true } : {}),
      },
    },
    async function findUserByEmail(request, reply) {
      if (legacy) {
        // RFC 9745's Deprecation (since 2026-12-03) and a successor link relative to this URL, so it is right
        // wherever a host mounted the API.
        reply.header('deprecation', '@1796256000');
        const successor = `../../users-by-email/${encodeURIComponent(request.params.email)}`;
        reply.header('link', `<${successor}>; rel="successor-version"`);
      }
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
