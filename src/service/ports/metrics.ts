/**
 * What the use cases report for operators' dashboards (Prometheus at the HTTP edge). Counters only, no
 * identifiers: a metric label never carries a user, an address or a code.
 */
export interface ServiceMetrics {
  /** A recovery code was accepted, or refused with a reason from the error catalog. */
  recoveryCodeAttempt(outcome: 'accepted' | 'refused', reason?: string): void;
  /** An attempt the throttle refused before evaluating it (sign-in password or a second factor). */
  attemptThrottled(kind: 'sign_in' | 'second_factor'): void;
  /** A forward-auth verdict for a request to a protected app. */
  forwardAuthDecision(decision: ForwardAuthOutcome): void;
}

export type ForwardAuthOutcome = 'allowed' | 'sign_in' | 'second_factor_setup' | 'denied';

/** For library users and tests that do not export metrics. */
export const noMetrics: ServiceMetrics = {
  recoveryCodeAttempt: () => {},
  attemptThrottled: () => {},
  forwardAuthDecision: () => {},
};
