import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { UseCases } from '../../service/use-cases.js';
import { apiContext, sendApiError, sendApiFailure } from '../api-replies.js';
import { SessionToken } from '../schemas/auth.js';
import { answer, errors } from '../schemas/common.js';
import { HostKeyVerificationBody, HostRequestOptionsAnswer } from '../schemas/security-keys.js';

const PUBLIC = { security: [] };

/**
 * "Sign in with a passkey" for apps that draw their own screens: a discoverable credential with user
 * verification is both factors, so the answer is a signed-in session (audited as `sign_in`, method
 * `passkey`). No account is named yet, so the challenge is bound to a random ceremony id the app keeps
 * between the two calls, as the pages keep theirs in a cookie.
 */
export function registerPasskeySignInRoutes(parent: FastifyInstance, useCases: UseCases): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['end users'];

  app.post(
    '/auth/passkey/options',
    {
      config: { session: 'none' },
      schema: {
        ...PUBLIC,
        operationId: 'startPasskeySignIn',
        summary: 'Start signing in with a passkey: options for any passkey of this site, and the ceremony id',
        description:
          'Keep `ceremonyId` until the answer is sent; pass `options` to `startAuthentication({ optionsJSON: ' +
          'options })` of @simplewebauthn/browser. Good for 5 minutes, once. 404 `security_keys_unavailable` ' +
          'when the server offers no keys, 403 `passkey_sign_in_disabled` when the operator turned passkey ' +
          'sign-in off.',
        tags,
        response: {
          200: answer(
            'The options for the browser and the id that binds their challenge',
            HostRequestOptionsAnswer,
          ),
          ...errors(404),
        },
      },
    },
    async function startPasskeySignIn(_request, reply) {
      const started = await useCases.startPasskeySignIn();
      if (!started.ok) return sendApiError(reply, started.error);
      return reply.header('cache-control', 'no-store').send(started.value);
    },
  );

  app.post(
    '/auth/passkey',
    {
      config: { session: 'none' },
      schema: {
        ...PUBLIC,
        operationId: 'signInWithPasskey',
        summary: "Sign in with a passkey's answer (user verification required): a signed-in session",
        description:
          'The key names its account. Charged to that account like a second factor, so a throttled or locked ' +
          'account is refused (429, 423). `stage` is `signed_in`, or `two_factor_setup_required` as after a ' +
          'password.',
        tags,
        body: HostKeyVerificationBody,
        response: {
          200: answer('Signed in: the session token and its stage', SessionToken),
          ...errors(404, 423, 429),
        },
      },
    },
    async function signInWithPasskey(request, reply) {
      const outcome = await useCases.beginPasskeySignIn({
        binding: request.body.ceremonyId,
        response: request.body.response,
        context: apiContext(request),
      });
      if (!outcome.ok) return sendApiFailure(reply, outcome);
      const stage = outcome.value.kind === 'two_factor_setup_required' ? outcome.value.kind : 'signed_in';
      return reply.header('cache-control', 'no-store').send({ token: outcome.value.token, stage });
    },
  );
}
