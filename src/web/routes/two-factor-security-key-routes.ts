import type { RegistrationResponseJSON } from '@simplewebauthn/server';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ActiveSession } from '../../service/sessions/sessions.js';
import { keyResponseField, sendKeyOptions } from '../security-key-fields.js';
import { field, HOME, redirect, requestContext } from '../web-context.js';
import type { TwoFactorView } from './two-factor-view.js';

/** Security keys and passkeys. Each ceremony's challenge is bound to this session (its cookie token). */
export function registerSecurityKeyRoutes(app: FastifyInstance, view: TwoFactorView): void {
  const { useCases } = view.web;
  const csrf = { preHandler: app.csrfProtection };

  async function sendRegistrationOptions(
    request: FastifyRequest,
    reply: FastifyReply,
    session: ActiveSession,
  ) {
    const options = await useCases.securityKeyRegistrationOptions({
      userId: session.user.id,
      binding: request.sessionToken as string,
    });
    return sendKeyOptions(reply, options);
  }

  async function addSecurityKey(request: FastifyRequest, reply: FastifyReply, session: ActiveSession) {
    const response = keyResponseField<RegistrationResponseJSON>(request);
    if (!response) return view.showOverview(request, reply, session, 'security_key_failed');
    const registered = await useCases.registerSecurityKey({
      userId: session.user.id,
      binding: request.sessionToken as string,
      name: field(request, 'name', 256),
      response,
      context: requestContext(request),
    });
    if (!registered.ok) return view.showOverview(request, reply, session, registered.error);
    return view.afterConfirmation(request, reply, session, registered.value, 'webauthn');
  }

  async function renameKey(request: FastifyRequest, reply: FastifyReply, session: ActiveSession) {
    const { factorId } = request.params as { factorId: string };
    const renamed = await useCases.renameSecurityKey({
      userId: session.user.id,
      factorId: factorId.slice(0, 64),
      name: field(request, 'name', 256),
      context: requestContext(request),
    });
    if (!renamed.ok) return view.showOverview(request, reply, session, renamed.error);
    return redirect(reply, `${HOME}?notice=key-renamed`);
  }

  /** The challenge a key answers on a step-up form (regenerate, remove, disable). */
  async function sendStepUpOptions(request: FastifyRequest, reply: FastifyReply, session: ActiveSession) {
    const options = await useCases.securityKeyAuthenticationOptions({
      userId: session.user.id,
      binding: request.sessionToken as string,
      ceremony: 'step_up',
    });
    return sendKeyOptions(reply, options);
  }

  app.post(`${HOME}/security-keys/options`, csrf, view.withUser(sendRegistrationOptions));
  app.post(`${HOME}/security-keys`, csrf, view.withUser(addSecurityKey));
  app.post(`${HOME}/security-keys/:factorId/rename`, csrf, view.withUser(renameKey));
  app.post(`${HOME}/step-up/security-key/options`, csrf, view.withUser(sendStepUpOptions));
}
