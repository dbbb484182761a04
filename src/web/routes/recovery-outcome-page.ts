import type { FastifyReply, FastifyRequest } from 'fastify';
import { accountLabel } from '../../service/accounts/account-label.js';
import type { RecoveryOutcome } from '../../service/recovery-codes/verify-recovery-code.js';
import type { UseCases } from '../../service/use-cases.js';
import { mfaDisabledAfterRecoveryPage, recoverySignedInPage } from '../pages/sign-in-pages.js';
import { recoveryCodesShownPage } from '../pages/two-factor-pages.js';
import { hasReturnAddress, landingAfterSignIn } from '../return-to.js';
import { csrfToken, redirect, sendPage } from '../web-context.js';

/**
 * Where a recovery code was used. After a sign-in the person is signed in and the page leads on to where they
 * were going; after a password reset they are not signed in yet, so every way on leads to the sign-in form.
 */
export type RecoveryCodeUse = 'sign_in' | 'password_reset';

/** The words of the new-codes page (policy `rotate`), by where the code was used. */
const ROTATED_SET_TEXT: Record<RecoveryCodeUse, { heading: string; intro: string }> = {
  sign_in: {
    heading: 'Your new recovery codes',
    intro:
      'You signed in with a recovery code. As this site requires, your old codes were replaced: these are your new ones.',
  },
  password_reset: {
    heading: 'Your password is changed: here are your new recovery codes',
    intro:
      'You used a recovery code to reset your password. As this site requires, your old codes were replaced: these are your new ones.',
  },
};

/**
 * The web's one place a recovery code's outcome (the operator's post-recovery policy) becomes a page, for the
 * sign-in's second step and the password reset alike. `outcome` is absent when the reset used no recovery code.
 */
export async function sendRecoveryOutcome(
  request: FastifyRequest,
  reply: FastifyReply,
  useCases: UseCases,
  input:
    | { use: 'sign_in'; outcome: RecoveryOutcome; user: Parameters<typeof accountLabel>[0] }
    | { use: 'password_reset'; outcome: RecoveryOutcome | undefined; userId: string },
): Promise<FastifyReply> {
  if (input.outcome?.policy === 'rotate') {
    const user = input.use === 'sign_in' ? input.user : await useCases.findUserById(input.userId);
    return sendPage(request, reply, useCases, {
      title: 'Your new recovery codes',
      body: recoveryCodesShownPage({
        csrf: csrfToken(request, reply),
        set: input.outcome.replacement,
        ...ROTATED_SET_TEXT[input.use],
        siteName: useCases.options.issuer,
        account: user ? accountLabel(user) : '',
        doneHref:
          input.use === 'password_reset'
            ? '/sign-in?notice=password-reset'
            : await continueHref(request, reply, useCases, input.user.id),
      }),
    });
  }
  // Not signed in after a reset: the sign-in form's notice says what happened, the factors included.
  if (input.use === 'password_reset') {
    return redirect(
      reply,
      input.outcome?.policy === 'disable_mfa'
        ? '/sign-in?notice=password-reset-mfa-off'
        : '/sign-in?notice=password-reset',
    );
  }
  const { outcome, user } = input;
  if (outcome.policy === 'disable_mfa') {
    return sendPage(request, reply, useCases, {
      title: 'Two-factor authentication is off',
      // The return address stays for the two-factor setup offered here; the page also links on.
      body: mfaDisabledAfterRecoveryPage({
        continueHref: hasReturnAddress(request) ? '/sign-in' : undefined,
      }),
    });
  }
  return sendPage(request, reply, useCases, {
    title: 'Signed in',
    body: recoverySignedInPage({
      ...outcome,
      csrf: csrfToken(request, reply),
      continueHref: await continueHref(request, reply, useCases, user.id),
    }),
  });
}

/** After a recovery code at sign-in, the page's way on to the return address the person came with, if any. */
const continueHref = async (
  request: FastifyRequest,
  reply: FastifyReply,
  useCases: UseCases,
  userId: string,
): Promise<string | undefined> =>
  hasReturnAddress(request)
    ? landingAfterSignIn(useCases, request, reply, { userId, justSignedIn: true })
    : undefined;
