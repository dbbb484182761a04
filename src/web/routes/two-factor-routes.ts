import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ActiveSession } from '../../service/sessions/sessions.js';
import { CODES_SHOWN_PATH } from '../pages/two-factor-pages.js';
import { sendToLanding } from '../return-to.js';
import { clearDeviceCookie, field, HOME, redirect, requestContext, sendMessagePage } from '../web-context.js';
import type { WebOptions } from '../web-options.js';
import { registerEnrollmentRoutes } from './two-factor-enrollment-routes.js';
import { registerSecurityKeyRoutes } from './two-factor-security-key-routes.js';
import { registerStepUpActionRoutes } from './two-factor-step-up-routes.js';
import { twoFactorView } from './two-factor-view.js';

/**
 * Settings → Two-factor authentication: the overview, remembered browsers and the recovery-code pages here;
 * adding factors, security keys and the changes that need step-up in their own files.
 */
export function registerTwoFactorRoutes(app: FastifyInstance, web: WebOptions): void {
  const { useCases } = web;
  const csrf = { preHandler: app.csrfProtection };
  const view = twoFactorView(web);

  async function showOverview(request: FastifyRequest, reply: FastifyReply, session: ActiveSession) {
    return view.showOverview(request, reply, session);
  }

  // Forgetting remembered browsers only takes a shortcut away: no step-up, like signing out.
  async function forgetDevice(request: FastifyRequest, reply: FastifyReply, session: ActiveSession) {
    const { deviceId } = request.params as { deviceId: string };
    const forgotten = await useCases.forgetDevices({
      userId: session.user.id,
      deviceId: deviceId.slice(0, 64),
      reason: 'user_one',
      context: requestContext(request),
    });
    if (forgotten === 0) return view.showOverview(request, reply, session, 'not_found');
    return redirect(reply, `${HOME}?notice=device-forgotten`);
  }

  async function forgetAllDevices(request: FastifyRequest, reply: FastifyReply, session: ActiveSession) {
    await useCases.forgetDevices({
      userId: session.user.id,
      reason: 'user_all',
      context: requestContext(request),
    });
    clearDeviceCookie(reply);
    return redirect(reply, `${HOME}?notice=devices-forgotten`);
  }

  // Where Back lands from a page of codes (its history entry is renamed to this address): never the codes.
  async function leaveCodesShown(_request: FastifyRequest, reply: FastifyReply) {
    return redirect(reply, `${HOME}?notice=codes-shown-once`);
  }

  async function acknowledgeCodes(request: FastifyRequest, reply: FastifyReply, session: ActiveSession) {
    if (field(request, 'saved', 16) !== 'yes') {
      return sendMessagePage(request, reply, useCases, {
        code: 'codes_not_acknowledged',
        heading: 'Save your recovery codes',
        extra: 'If you no longer have the codes page, generate a new set.',
        link: { href: `${HOME}/recovery-codes/regenerate`, text: 'Generate new recovery codes' },
      });
    }
    // Someone sent here by a protected app that needs a second factor goes back to it now.
    const fallback = `${HOME}?notice=codes-saved`;
    const userId = session.user.id;
    return sendToLanding(useCases, request, reply, { userId, fallback, justSignedIn: false });
  }

  app.get(HOME, view.withUser(showOverview));
  registerSecurityKeyRoutes(app, view);
  registerEnrollmentRoutes(app, view);
  app.post(`${HOME}/devices/:deviceId/forget`, csrf, view.withUser(forgetDevice));
  app.post(`${HOME}/devices/forget-all`, csrf, view.withUser(forgetAllDevices));
  app.get(CODES_SHOWN_PATH, view.withUser(leaveCodesShown));
  app.post(`${HOME}/recovery-codes/acknowledge`, csrf, view.withUser(acknowledgeCodes));
  registerStepUpActionRoutes(app, view);
}
