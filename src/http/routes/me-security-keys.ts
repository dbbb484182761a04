import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { UseCases } from '../../service/use-cases.js';
import { apiContext, sendApiError, sessionToken } from '../api-replies.js';
import { sendConfirmedFactor } from '../confirmed-factor-reply.js';
import { answer, errors } from '../schemas/common.js';
import { FactorConfirmed, FactorIdParams } from '../schemas/me.js';
import {
  CreationOptionsAnswer,
  KeyName200,
  KeyRegistrationBody,
  KeyRenameBody,
  RequestOptionsAnswer,
  SecurityKeyList,
  securityKeysBody,
} from '../schemas/security-keys.js';

const SESSION = { security: [{ session: [] }] };

/**
 * The signed-in user's own security keys and passkeys. Each ceremony's challenge is bound to the session
 * token the options were asked with, so the answer must come back with that same token. A key is removed
 * like any factor (`removeMyFactor`, after step-up), and a key can be that step-up (`stepUpKeyOptions`).
 */
export function registerMySecurityKeyRoutes(parent: FastifyInstance, useCases: UseCases): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['end users'];
  const userIdOf = (request: { apiSession?: { user: { id: string } } }) =>
    request.apiSession?.user.id as string;

  app.get(
    '/me/security-keys',
    {
      config: { session: 'signed_in', duringTwoFactorSetup: true },
      schema: {
        ...SESSION,
        operationId: 'listMySecurityKeys',
        summary: 'My security keys and passkeys: name, type, when added and last used',
        tags,
        response: { 200: answer('My keys, without their secrets', SecurityKeyList), ...errors() },
      },
    },
    async function listMySecurityKeys(request) {
      return securityKeysBody(await useCases.listSecurityKeys({ userId: userIdOf(request) }));
    },
  );

  app.post(
    '/me/security-keys/registration-options',
    {
      config: { session: 'signed_in', duringTwoFactorSetup: true },
      schema: {
        ...SESSION,
        operationId: 'startMySecurityKeyRegistration',
        summary:
          'Start adding a security key or passkey: the options for navigator.credentials.create(), good for 5 minutes',
        description:
          'Pass `options` to `startRegistration({ optionsJSON: options })` of @simplewebauthn/browser (or to ' +
          'PublicKeyCredential.parseCreationOptionsFromJSON), then send the answer to `registerMySecurityKey` ' +
          'with the same token. Attestation `none`, resident key and user verification preferred; the keys the ' +
          'account has are excluded. 404 `security_keys_unavailable` when this server offers no keys.',
        tags,
        response: {
          200: answer(
            'The options for navigator.credentials.create(), good for 5 minutes',
            CreationOptionsAnswer,
          ),
          ...errors(404, 409),
        },
      },
    },
    async function startMySecurityKeyRegistration(request, reply) {
      const options = await useCases.securityKeyRegistrationOptions({
        userId: userIdOf(request),
        binding: sessionToken(request),
      });
      if (!options.ok) return sendApiError(reply, options.error);
      return reply.header('cache-control', 'no-store').send({ options: options.value });
    },
  );

  app.post(
    '/me/security-keys',
    {
      config: { session: 'signed_in', duringTwoFactorSetup: true },
      schema: {
        ...SESSION,
        operationId: 'registerMySecurityKey',
        summary:
          "Finish adding a key with its answer; returns a new token, and the first factor's recovery codes, once",
        description:
          'The challenge is spent whatever the outcome: after a refusal, ask for new options. A key registered ' +
          'already answers 409 `security_key_already_registered`; a wrong origin or RP ID 401 `security_key_failed`.',
        tags,
        body: KeyRegistrationBody,
        response: {
          201: answer(
            'Added: the new session token; the first recovery codes when it is the first factor',
            FactorConfirmed,
          ),
          ...errors(404, 409),
        },
      },
    },
    async function registerMySecurityKey(request, reply) {
      const registered = await useCases.registerSecurityKey({
        userId: userIdOf(request),
        binding: sessionToken(request),
        name: request.body.name,
        response: request.body.response,
        context: apiContext(request),
      });
      if (!registered.ok) return sendApiError(reply, registered.error);
      return sendConfirmedFactor(useCases, request, reply.code(201), 'webauthn', registered.value);
    },
  );

  app.post(
    '/me/security-keys/:factorId/rename',
    {
      config: { session: 'signed_in', duringTwoFactorSetup: true },
      schema: {
        ...SESSION,
        operationId: 'renameMySecurityKey',
        summary: 'Rename one of my keys (no step-up: a name grants nothing)',
        tags,
        params: FactorIdParams,
        body: KeyRenameBody,
        response: { 200: answer('Renamed: the name as stored', KeyName200), ...errors(404) },
      },
    },
    async function renameMySecurityKey(request, reply) {
      const renamed = await useCases.renameSecurityKey({
        userId: userIdOf(request),
        factorId: request.params.factorId,
        name: request.body.name,
        context: apiContext(request),
      });
      return renamed.ok ? renamed.value : sendApiError(reply, renamed.error);
    },
  );

  app.post(
    '/me/step-up/security-key-options',
    {
      config: { session: 'signed_in', duringTwoFactorSetup: true },
      schema: {
        ...SESSION,
        operationId: 'startMyStepUpWithSecurityKey',
        summary:
          'A challenge for one of my keys, to prove my presence before a protected change (the `securityKey` step-up)',
        description:
          'Send the answer of `startAuthentication` as `securityKey` in the body of regenerate, remove a factor ' +
          'or turn two-factor off, with the same token. 404 `factor_not_found` when the account has no key.',
        tags,
        response: {
          200: answer(
            'The options for navigator.credentials.get(), good for 5 minutes',
            RequestOptionsAnswer,
          ),
          ...errors(404),
        },
      },
    },
    async function startMyStepUpWithSecurityKey(request, reply) {
      const options = await useCases.securityKeyAuthenticationOptions({
        userId: userIdOf(request),
        binding: sessionToken(request),
        ceremony: 'step_up',
      });
      if (!options.ok) return sendApiError(reply, options.error);
      return reply.header('cache-control', 'no-store').send({ options: options.value });
    },
  );
}
