import type { Check, interactionPolicy as InteractionPolicy, KoaContextWithOIDC } from 'oidc-provider';
import { isTwoFactor } from '../service/oidc/sign-in-evidence.js';
import type { UseCases } from '../service/use-cases.js';
import { SESSION_COOKIE } from '../web/web-context.js';

/**
 * An extra check of oidc-provider's login prompt: the provider's own session is only a memory of an
 * earlier sign-in. An application gets a sign-in without a prompt only while the same person is still
 * signed in to SpareKey (a sign-out there, or another person, means a new sign-in) and only if that
 * sign-in meets the application's rule (two factors when it, or the person's role, requires them).
 */
export function sessionStillValidCheck(
  useCases: UseCases,
  interactionPolicy: typeof InteractionPolicy,
): Check {
  return new interactionPolicy.Check(
    'sparekey_session',
    'The SpareKey sign-in behind this session ended or does not meet the application rule',
    async (ctx: KoaContextWithOIDC) => {
      const remembered = ctx.oidc.session;
      if (!remembered?.accountId) return interactionPolicy.Check.NO_NEED_TO_PROMPT; // no_session prompts
      const token = ctx.cookies.get(SESSION_COOKIE);
      const active = token ? await useCases.resolveSession(token) : undefined;
      if (active?.record.stage !== 'signed_in' || active.user.id !== remembered.accountId)
        return interactionPolicy.Check.REQUEST_PROMPT;
      const clientId = ctx.oidc.client?.clientId;
      const client = clientId ? await useCases.findOidcClient(clientId) : undefined;
      const rule = await useCases.twoFactorsRequired({
        userId: active.user.id,
        roles: active.user.roles,
        clientRequiresTwo: client?.twoFactorRequired ?? true,
      });
      if (rule.required && !isTwoFactor(remembered.amr ?? [])) return interactionPolicy.Check.REQUEST_PROMPT;
      return interactionPolicy.Check.NO_NEED_TO_PROMPT;
    },
  );
}
