import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { InteractionDetails, Provider } from 'oidc-provider';
import { accountLabel } from '../service/accounts/account-label.js';
import { acrFor, amrFor, isTwoFactor } from '../service/oidc/sign-in-evidence.js';
import type { ActiveSession } from '../service/sessions/sessions.js';
import type { UseCases } from '../service/use-cases.js';
import { html } from '../web/html.js';
import { csrfToken, field, redirect, SIGN_IN_LINK, sendMessagePage, sendPage } from '../web/web-context.js';
import { consentPage } from './consent-page.js';
import { OIDC_MOUNT_PATH } from './provider.js';

/**
 * The provider's interactions, as SpareKey pages: a sign-in an application asks for is SpareKey's own
 * sign-in (password, any second factor, a recovery code under the site's policy, a remembered browser),
 * reached with a return address (web/return-to.ts) that brings the person back here; consent is asked of third-party
 * applications only. What the application is told (amr, acr, auth_time) comes from the session.
 */
export function registerInteractionRoutes(
  app: FastifyInstance,
  options: { useCases: UseCases; provider: () => Promise<Provider | undefined> },
): void {
  const { useCases } = options;
  const path = `${OIDC_MOUNT_PATH}/interaction/:uid`;

  /** The interaction of this browser (its cookie) named by the path, or undefined when gone. */
  const interactionOf = async (request: FastifyRequest, reply: FastifyReply) => {
    const provider = await options.provider();
    if (!provider) return undefined;
    try {
      const details = await provider.interactionDetails(request.raw, reply.raw);
      return details.uid === (request.params as { uid: string }).uid ? { provider, details } : undefined;
    } catch {
      return undefined;
    }
  };

  const expired = (request: FastifyRequest, reply: FastifyReply) =>
    sendMessagePage(request, reply, useCases, {
      code: 'sign_in_expired',
      heading: 'Start again from the application',
      extra: 'Go back to the application and sign in from there.',
      link: SIGN_IN_LINK,
    });

  const signedIn = (request: FastifyRequest) =>
    request.auth?.record.stage === 'signed_in' ? request.auth : undefined;

  const finish = async (
    request: FastifyRequest,
    reply: FastifyReply,
    provider: Provider,
    result: Record<string, unknown>,
  ) => {
    if (request.method === 'GET') {
      reply.hijack();
      return provider.interactionFinished(request.raw, reply.raw, result, { mergeWithLastSubmission: false });
    }
    // After a form (consent), on by a refresh, not a redirect: the redirect would stay part of the form's
    // navigation, held to this page's form-action 'self' all the way to the application's origin.
    const returnTo = await provider.interactionResult(request.raw, reply.raw, result, {
      mergeWithLastSubmission: false,
    });
    reply.header('refresh', `0;url=${returnTo}`);
    return sendPage(request, reply, useCases, {
      title: 'Continue',
      body: html`<h1>Continue</h1><p><a class="button" href="${returnTo}" id="continue">Continue</a></p>`,
    });
  };

  app.get(path, async (request, reply) => {
    const found = await interactionOf(request, reply);
    if (!found) return expired(request, reply);
    const { provider, details } = found;
    const client = await useCases.findOidcClient(String(details.params.client_id ?? ''));
    if (!client || client.disabledAt) return expired(request, reply);
    const here = `${OIDC_MOUNT_PATH}/interaction/${details.uid}`;
    const auth = signedIn(request);
    const toSignIn = async (reauthenticate: boolean) => {
      // Remembered in the interaction: the session the person had when sent to sign in. Any other
      // session on their return is a sign-in made since (each sign-in makes a new session).
      await provider.interactionResult(
        request.raw,
        reply.raw,
        { sparekey: { sentToSignInFrom: auth?.record.idHash ?? null } },
        { mergeWithLastSubmission: false },
      );
      const query = `return_to=${encodeURIComponent(here)}&notice=app-sign-in${reauthenticate ? '&reauth=1' : ''}`;
      return redirect(reply, `/sign-in?${query}`);
    };
    if (!auth) return toSignIn(false);

    if (details.prompt.name === 'login') {
      if (!isFreshEnough(auth, details, useCases.clock.now())) return toSignIn(true);
      const amr = amrFor(auth.record.signInMethod);
      const rule = await useCases.twoFactorsRequired({
        userId: auth.user.id,
        roles: auth.user.roles,
        clientRequiresTwo: client.twoFactorRequired,
      });
      if (rule.required && !isTwoFactor(amr)) {
        // Never a one-factor sign-in for this application: set a second factor up (and save the
        // recovery codes) first, or sign in again with the one already there.
        if (!rule.hasSecondFactor)
          return redirect(
            reply,
            `/settings/two-factor?return_to=${encodeURIComponent(here)}&notice=mfa-required-app`,
          );
        return toSignIn(true);
      }
      const authTime = Math.floor(auth.record.createdAt.getTime() / 1000);
      return finish(request, reply, provider, {
        login: { accountId: auth.user.id, amr, acr: acrFor(amr), ts: authTime },
      });
    }

    if (details.prompt.name === 'consent') {
      if (details.session?.accountId !== auth.user.id) return toSignIn(true);
      // First-party applications are vouched for by the operator: no consent page.
      if (client.firstParty)
        return finish(request, reply, provider, { consent: await grant(provider, details) });
      return sendPage(request, reply, useCases, {
        title: `Allow ${client.name}?`,
        body: consentPage({
          csrf: csrfToken(request, reply),
          uid: details.uid,
          clientName: client.name,
          scopes: String(details.params.scope ?? '').split(' '),
          account: accountLabel(auth.user),
        }),
      });
    }
    return expired(request, reply);
  });

  app.post(`${path}/consent`, { preHandler: app.csrfProtection }, async (request, reply) => {
    const found = await interactionOf(request, reply);
    const auth = signedIn(request);
    if (!found || !auth || found.details.prompt.name !== 'consent') return expired(request, reply);
    const { provider, details } = found;
    if (details.session?.accountId !== auth.user.id) return expired(request, reply);
    if (field(request, 'decision', 8) !== 'allow')
      return finish(request, reply, provider, {
        error: 'access_denied',
        error_description: 'The person declined to let the application sign them in.',
      });
    return finish(request, reply, provider, { consent: await grant(provider, details) });
  });
}

/**
 * prompt=login asks for a sign-in made for this request (OpenID Connect Core 3.1.2.1), max_age for one
 * no older than that: either one made since this interaction sent the person to sign in, or (max_age)
 * the session's own sign-in time (its creation: every sign-in and second factor makes a new session).
 */
function isFreshEnough(auth: ActiveSession, details: InteractionDetails, now: Date): boolean {
  const sent = (details.result?.sparekey as { sentToSignInFrom?: string | null } | undefined)
    ?.sentToSignInFrom;
  if (sent !== undefined && sent !== auth.record.idHash) return true;
  if (details.prompt.reasons.includes('login_prompt')) return false;
  const maxAge = Number(details.params.max_age);
  const age = now.getTime() - auth.record.createdAt.getTime();
  return !(Number.isFinite(maxAge) && age > maxAge * 1000);
}

/** The grant of what the application asked for (oidc-provider's consent prompt lists what is missing). */
async function grant(provider: Provider, details: InteractionDetails): Promise<{ grantId: string }> {
  const missing = details.prompt.details as {
    missingOIDCScope?: string[];
    missingOIDCClaims?: string[];
    missingResourceScopes?: Record<string, string[]>;
  };
  const existing = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
  const grant =
    existing ??
    new provider.Grant({
      accountId: details.session?.accountId ?? '',
      clientId: String(details.params.client_id ?? ''),
    });
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {}))
    grant.addResourceScope(indicator, scopes.join(' '));
  return { grantId: await grant.save() };
}
