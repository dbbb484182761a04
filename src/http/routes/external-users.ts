import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { UseCases } from '../../service/use-cases.js';
import { apiContext, sendApiError, sendApiFailure } from '../api-replies.js';
import { answer, errors } from '../schemas/common.js';
import {
  DeletedUser,
  EnsureExternalUserBody,
  ExternalUserEmail,
  ExternalUserEmailChange,
  HostUser,
} from '../schemas/external-users.js';
import { BY_EXTERNAL_ID, BY_USER_ID, ExternalIdParams, type UserAddressing } from '../user-addressing.js';

/**
 * Users of a host application by its own ids: ensure (create once), change the email, delete. The
 * identity is the path only; the body carries the email and nothing else.
 */
export function registerHostUserRoutes(parent: FastifyInstance, useCases: UseCases): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();

  app.put(
    '/external-users/:externalId',
    {
      config: { scope: 'mfa:write', fieldErrors: { email: 'invalid_email' } },
      schema: {
        operationId: 'ensureExternalUser',
        summary:
          'Make sure your user exists in SpareKey (idempotent): created on the first call, no password',
        description:
          'Call it before enrolling a factor, or on every sign-in. An existing user is returned as it is (its email is changed only by the email operation).',
        tags: ['users'],
        params: ExternalIdParams,
        body: EnsureExternalUserBody,
        response: {
          200: answer('The user already existed; returned as it is', HostUser),
          201: answer('The user was created', HostUser),
          ...errors(409),
        },
      },
    },
    async function ensureExternalUser(request, reply) {
      const result = await useCases.ensureUser({
        externalId: request.params.externalId,
        email: request.body.email,
        context: apiContext(request),
      });
      if (!result.ok) return sendApiFailure(reply, result);
      return reply.code(result.value.created ? 201 : 200).send(result.value);
    },
  );

  app.put(
    '/external-users/:externalId/email',
    {
      config: { scope: 'mfa:write', fieldErrors: { email: 'invalid_email' } },
      schema: {
        operationId: 'changeExternalUserEmail',
        summary: "Set or remove (null) your user's email address; the old address is told",
        tags: ['users'],
        params: ExternalIdParams,
        body: ExternalUserEmailChange,
        response: {
          200: answer("The user's address as it is now", ExternalUserEmail),
          ...errors(404, 409),
        },
      },
    },
    async function changeExternalUserEmail(request, reply) {
      const userId = await BY_EXTERNAL_ID.resolve(useCases, request.params);
      if (userId === undefined) return sendApiError(reply, 'user_not_found');
      const result = await useCases.changeEmail({
        userId,
        email: request.body.email,
        context: apiContext(request),
      });
      return result.ok ? result.value : sendApiFailure(reply, result);
    },
  );

  registerDelete(app, useCases, BY_EXTERNAL_ID, 'mfa:write');
  // SpareKey's own accounts (administrators among them) are deleted with an admin key only.
  registerDelete(app, useCases, BY_USER_ID, 'admin');
}

function registerDelete(
  app: FastifyInstance,
  useCases: UseCases,
  by: UserAddressing,
  scope: 'mfa:write' | 'admin',
): void {
  app.withTypeProvider<TypeBoxTypeProvider>().delete(
    by.prefix,
    {
      config: { scope },
      schema: {
        operationId: `deleteUser${by.operationSuffix}`,
        summary:
          'Delete a user with their factors, recovery codes, sessions, remembered browsers and API keys (erasure)',
        description:
          'One transaction. The audit log keeps its events, which name users by SpareKey’s random id only, and records the deletion (user_deleted). The only administrator is not deleted (409 last_administrator).',
        tags: ['users'],
        params: by.params,
        response: { 200: DeletedUser, ...errors(404, 409) },
      },
    },
    async function deleteUserRoute(request, reply) {
      const userId = await by.resolve(useCases, request.params);
      if (userId === undefined) return sendApiError(reply, 'user_not_found');
      // The external-id form reaches only users a host created (an mfa:write key never deletes an
      // administrator); SpareKey's own accounts need an admin key.
      const result = await useCases.deleteUser({ userId, context: apiContext(request) });
      return result.ok ? result.value : sendApiFailure(reply, result);
    },
  );
}
