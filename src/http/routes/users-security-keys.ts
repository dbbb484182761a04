import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { backendAuthority } from '../../service/sign-in/change-authority.js';
import type { UseCases } from '../../service/use-cases.js';
import { apiContext, sendApiError, sendApiFailure } from '../api-replies.js';
import { answer, errors, issuedCodesBody } from '../schemas/common.js';
import {
  HostCreationOptionsAnswer,
  HostKeyRegistered,
  HostKeyRegistrationBody,
  HostKeyVerificationBody,
  HostRequestOptionsAnswer,
  KeyVerified,
  SecurityKeyList,
  securityKeysBody,
} from '../schemas/security-keys.js';
import { pathSchemaWith, type UserAddressing } from '../user-addressing.js';

/**
 * A user's security keys and passkeys for a host application that draws its own pages and calls from its
 * backend (the same operations by SpareKey's id and by the host's own id). SpareKey gives each ceremony's
 * options with a `ceremonyId`: the host keeps it in its own session (not in the page) and sends it back with
 * the key's answer, which its page got from the browser. The challenge is bound to that id and that user.
 */
export function registerUserSecurityKeyRoutes(
  parent: FastifyInstance,
  useCases: UseCases,
  by: UserAddressing,
): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['security keys'];

  app.get(
    `${by.prefix}/security-keys`,
    {
      config: { scope: 'mfa:read' },
      schema: {
        operationId: `listSecurityKeys${by.operationSuffix}`,
        summary: "A user's security keys and passkeys: name, type, when added and last used",
        tags,
        params: by.params,
        response: { 200: answer("The user's keys, without their secrets", SecurityKeyList), ...errors(404) },
      },
    },
    async function listSecurityKeys(request, reply) {
      const userId = await by.resolve(useCases, request.params);
      if (userId === undefined) return sendApiError(reply, 'user_not_found');
      return securityKeysBody(await useCases.listSecurityKeys({ userId }));
    },
  );

  app.post(
    `${by.prefix}/security-keys/registration-options`,
    {
      config: { scope: 'mfa:write' },
      schema: {
        operationId: `startSecurityKeyRegistration${by.operationSuffix}`,
        summary: 'Start adding a key for a user: the options for their browser and the ceremony id to keep',
        description:
          'Hand `options` to your page (`startRegistration({ optionsJSON })` of @simplewebauthn/browser); keep ' +
          '`ceremonyId` in your session and send it with the answer to `registerSecurityKey`. Good for 5 ' +
          'minutes, once. The page must be on one of the origins SpareKey allows (SPAREKEY_WEBAUTHN_ORIGINS).',
        tags,
        params: by.params,
        response: {
          200: answer(
            'The options for the browser and the ceremony id to send back with its answer (5 minutes)',
            HostCreationOptionsAnswer,
          ),
          ...errors(404, 409),
        },
      },
    },
    async function startSecurityKeyRegistration(request, reply) {
      const userId = await by.resolve(useCases, request.params);
      if (userId === undefined) return sendApiError(reply, 'user_not_found');
      const started = await useCases.startHostKeyRegistration({ userId });
      if (!started.ok) return sendApiError(reply, started.error);
      return reply.header('cache-control', 'no-store').send(started.value);
    },
  );

  app.post(
    `${by.prefix}/security-keys`,
    {
      config: { scope: 'mfa:write' },
      schema: {
        operationId: `registerSecurityKey${by.operationSuffix}`,
        summary: "Finish adding a user's key with its answer; the first factor returns the first codes, once",
        tags,
        params: by.params,
        body: HostKeyRegistrationBody,
        response: {
          201: answer(
            'Added: two-factor is on; the first recovery codes when it is the first factor (shown once)',
            HostKeyRegistered,
          ),
          ...errors(404, 409),
        },
      },
    },
    async function registerSecurityKey(request, reply) {
      const userId = await by.resolve(useCases, request.params);
      if (userId === undefined) return sendApiError(reply, 'user_not_found');
      const registered = await useCases.finishHostKeyRegistration({
        userId,
        ceremonyId: request.body.ceremonyId,
        name: request.body.name,
        response: request.body.response,
        context: apiContext(request),
      });
      if (!registered.ok) return sendApiError(reply, registered.error);
      const codes = registered.value.recoveryCodes;
      return reply
        .code(201)
        .header('cache-control', 'no-store')
        .send({
          factorId: registered.value.factorId,
          mfaEnabled: registered.value.mfaEnabled,
          recoveryCodes: codes ? issuedCodesBody(codes) : null,
        });
    },
  );

  app.post(
    `${by.prefix}/security-keys/authentication-options`,
    {
      config: { scope: 'mfa:write' },
      schema: {
        operationId: `startSecurityKeyAuthentication${by.operationSuffix}`,
        summary: "A challenge for the user's keys (their second factor), with the ceremony id to keep",
        description:
          'Hand `options` to your page (`startAuthentication({ optionsJSON })`); keep `ceremonyId` in your ' +
          'session and send it with the answer to `verifySecurityKey`. 404 `factor_not_found` when the user ' +
          'has no key.',
        tags,
        params: by.params,
        response: {
          200: answer(
            'The options for the browser and the ceremony id to send back with its answer (5 minutes)',
            HostRequestOptionsAnswer,
          ),
          ...errors(404),
        },
      },
    },
    async function startSecurityKeyAuthentication(request, reply) {
      const userId = await by.resolve(useCases, request.params);
      if (userId === undefined) return sendApiError(reply, 'user_not_found');
      const started = await useCases.startHostKeyAuthentication({ userId });
      if (!started.ok) return sendApiError(reply, started.error);
      return reply.header('cache-control', 'no-store').send(started.value);
    },
  );

  app.post(
    `${by.prefix}/security-keys/verify`,
    {
      config: { scope: 'mfa:write' },
      schema: {
        operationId: `verifySecurityKey${by.operationSuffix}`,
        summary: "Verify a key's answer as the user's second factor (throttled like every second factor)",
        description:
          'The challenge is spent whatever the outcome. A counter that went backwards is refused ' +
          '(`security_key_counter_regressed`) and audited as a possible cloned key.',
        tags,
        params: by.params,
        body: HostKeyVerificationBody,
        response: {
          200: answer("The answer was right: the id of the user's key that gave it", KeyVerified),
          ...errors(404, 423, 429),
        },
      },
    },
    async function verifySecurityKey(request, reply) {
      const userId = await by.resolve(useCases, request.params);
      if (userId === undefined) return sendApiError(reply, 'user_not_found');
      const verified = await useCases.verifyHostKeyAuthentication({
        userId,
        ceremonyId: request.body.ceremonyId,
        response: request.body.response,
        context: apiContext(request),
      });
      return verified.ok ? verified.value : sendApiFailure(reply, verified);
    },
  );

  app.delete(
    `${by.prefix}/security-keys/:factorId`,
    {
      config: { scope: 'mfa:write' },
      schema: {
        operationId: `removeSecurityKey${by.operationSuffix}`,
        summary: "Remove one of a user's keys (not their last factor: turn two-factor off for that)",
        description: 'Step-up is the caller’s duty: call this only after the user re-authenticated.',
        tags,
        params: pathSchemaWith(by, { factorId: Type.String({ maxLength: 64 }) }),
        response: {
          204: { type: 'null', description: 'Removed: the key no longer works for this user' },
          ...errors(404, 409),
        },
      },
    },
    async function removeSecurityKey(request, reply) {
      const userId = await by.resolve(useCases, request.params);
      if (userId === undefined) return sendApiError(reply, 'user_not_found');
      const context = apiContext(request);
      // A key with this scope is the site's backend, which stepped its user up itself.
      const authority = backendAuthority({ kind: 'api_key', actorId: context.actorId });
      const removed = await useCases.removeFactor({
        userId,
        factorId: request.params.factorId,
        kind: 'webauthn',
        authority,
        context,
      });
      return removed.ok ? reply.code(204).send(null) : sendApiFailure(reply, removed);
    },
  );
}
