import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorCode } from '../../core/errors.js';
import type { Failure, Result } from '../../core/result.js';
import { noteRetryAfter } from '../../http/retry-after.js';
import type { ActiveSession } from '../../service/sessions/sessions.js';
import type { SessionChange } from '../../service/sign-in/step-up-actions.js';
import { stepUpPage } from '../pages/two-factor-pages.js';
import {
  csrfToken,
  HOME,
  messageFor,
  redirect,
  requestContext,
  sendPage,
  statusFor,
} from '../web-context.js';
import { adoptSession, notSignedIn } from './session-guards.js';
import { stepUpAnswer } from './step-up.js';
import type { TwoFactorView } from './two-factor-view.js';

/** A refusal of the step-up itself: the form is shown again with it (the other refusals go to the overview). */
const STEP_UP_REFUSALS: readonly ErrorCode[] = ['step_up_failed', 'too_many_attempts', 'mfa_locked'];

interface StepUpAction<T> {
  path: string;
  page: { heading: string; explanation: string; submit: string; danger?: boolean };
  /**
   * The flow (service/sign-in/step-up-actions.ts): it checks the target, the step-up and makes the change,
   * rotating the session; the answer carries the new token.
   */
  run: (request: FastifyRequest, change: SessionChange) => Promise<Result<T & { token: string }> | Failure>;
  done: (
    request: FastifyRequest,
    reply: FastifyReply,
    session: ActiveSession,
    value: T,
  ) => FastifyReply | Promise<FastifyReply>;
  /** The action's target is not there (another id in the address): nothing to confirm, no form shown. */
  missing?: (request: FastifyRequest, factorIds: readonly string[]) => boolean;
}

/** The changes that need step-up (STANDARDS req 11): regenerate recovery codes, remove a factor, turn 2FA off. */
export function registerStepUpActionRoutes(app: FastifyInstance, view: TwoFactorView): void {
  registerStepUpAction(app, view, {
    path: `${HOME}/recovery-codes/regenerate`,
    page: {
      heading: 'Generate new recovery codes',
      explanation: 'A new set replaces your current recovery codes: every old code stops working at once.',
      submit: 'Generate new codes',
    },
    run: (_request, change) => view.web.useCases.regenerateRecoveryCodesWithStepUp(change),
    done: (request, reply, session, set) =>
      view.showCodes(request, reply, session, set, {
        heading: 'Your new recovery codes',
        intro: 'Your previous recovery codes no longer work.',
      }),
  });

  registerStepUpAction(app, view, {
    path: `${HOME}/factors/:factorId/remove`,
    page: {
      heading: 'Remove a two-factor method',
      explanation: 'You will no longer be able to sign in with this method.',
      submit: 'Remove',
      danger: true,
    },
    missing: (request, factorIds) => !factorIds.includes(factorIdOf(request)),
    run: (request, change) =>
      view.web.useCases.removeFactorWithStepUp({ ...change, factorId: factorIdOf(request) }),
    done: async (_request, reply) => redirect(reply, `${HOME}?notice=factor-removed`),
  });

  registerStepUpAction(app, view, {
    path: `${HOME}/disable`,
    page: {
      heading: 'Turn off two-factor authentication',
      explanation:
        'Your account will be protected by your password only, and your recovery codes will be deleted.',
      submit: 'Turn off two-factor authentication',
      danger: true,
    },
    run: (_request, change) => view.web.useCases.disableMfaWithStepUp(change),
    done: async (_request, reply) => redirect(reply, `${HOME}?notice=mfa-disabled`),
  });
}

const factorIdOf = (request: FastifyRequest) =>
  (request.params as { factorId: string }).factorId.slice(0, 64);

/**
 * A GET showing the re-authentication form and a POST that runs the action's flow with its answer.
 * The action's URL (with its parameters) is the form's target, so nothing is carried in hidden fields.
 */
function registerStepUpAction<T>(app: FastifyInstance, view: TwoFactorView, action: StepUpAction<T>): void {
  const { useCases } = view.web;

  async function showForm(
    request: FastifyRequest,
    reply: FastifyReply,
    session: ActiveSession,
    error?: ErrorCode,
  ) {
    const overview = await useCases.getMfaOverview({ userId: session.user.id });
    if (
      action.missing?.(
        request,
        overview.factors.map((factor) => factor.id),
      )
    ) {
      return view.showOverview(request, reply, session, 'factor_not_found');
    }
    return sendPage(request, reply, useCases, {
      title: action.page.heading,
      status: error ? statusFor(error) : 200,
      body: stepUpPage({
        csrf: csrfToken(request, reply),
        ...action.page,
        action: request.url.split('?')[0] as string,
        hasTotp: overview.factors.some((factor) => factor.kind === 'totp'),
        hasSecurityKey: overview.securityKeysAvailable && overview.securityKeys.length > 0,
        error: error && messageFor(error),
      }),
    });
  }

  async function showStepUpForm(request: FastifyRequest, reply: FastifyReply, session: ActiveSession) {
    return showForm(request, reply, session);
  }

  async function stepUpAndAct(request: FastifyRequest, reply: FastifyReply, session: ActiveSession) {
    const outcome = await action.run(request, {
      userId: session.user.id,
      sessionToken: request.sessionToken as string,
      answer: stepUpAnswer(request),
      context: requestContext(request),
    });
    if (outcome.ok) {
      await adoptSession(useCases, request, reply, outcome.value.token);
      return action.done(request, reply, session, outcome.value);
    }
    if (outcome.error === 'not_signed_in') return notSignedIn(useCases, request, reply);
    if (STEP_UP_REFUSALS.includes(outcome.error)) {
      noteRetryAfter(reply, outcome);
      return showForm(request, reply, session, outcome.error);
    }
    return view.showOverview(request, reply, session, outcome.error);
  }

  app.get(action.path, view.withUser(showStepUpForm));
  app.post(action.path, { preHandler: app.csrfProtection }, view.withUser(stepUpAndAct));
}
