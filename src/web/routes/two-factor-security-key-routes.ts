import type { RegistrationResponseJSON } from '@simplewebauthn/server';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { securityKeyAuthenticationOptions } from '../../service/factors/webauthn/authenticate-key.js';
import { renameSecurityKey } from '../../service/factors/webauthn/manage-keys.js';
import {
  registerSecurityKey,
  securityKeyRegistrationOptions,
} from '../../service/factors/webauthn/register-key.js';
import type { ActiveSession } from '../../service/sessions/sessions.js';
import { keyResponseField, sendKeyOptions } from '../security-key-fields.js';
import { field, HOME, redirect, requestContext } from '../web-context.js';
import type { TwoFactorView } from './two-factor-view.js';

/** Security keys and passkeys. Each ceremony's challenge is bound to this session (its cookie token). */
export function registerSecurityKeyRoutes(app: FastifyInstance, view: TwoFactorView): void {
  const { deps } = view.web;
  const csrf = { preHandler: app.csrfProtection };

  async function sendRegistrationOptions(
    request: FastifyRequest,
    reply: FastifyReply,
    session: ActiveSession,
  ) {
    const options = await securityKeyRegistrationOptions(deps, {
      userId: session.user.id,
      binding: request.sessionToken as string,
    });
    return sendKeyOptions(reply, options);
  }

  async function addSecurityKey(request: FastifyRequest, reply: FastifyReply, session: ActiveSession) {
    const response = keyResponseField<RegistrationResponseJSON>(request);
    if (!response) return view.showOverview(request, reply, session, 'security_key_failed');
    const registered = await registerSecurityKey(deps, {
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
    const renamed = await renameSecurityKey(deps, {
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
    const options = await securityKeyAuthenticationOptions(deps, {
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
