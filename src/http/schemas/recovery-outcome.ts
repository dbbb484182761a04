import { Type } from 'typebox';
import type { RecoveryOutcome } from '../../service/recovery-codes/verify-recovery-code.js';
import { IssuedCodes, issuedCodesBody } from './common.js';

/** The fields a recovery code's outcome adds to a JSON answer (sign-in, or a host application's check). */
export const RecoveryOutcomeFields = {
  policy: Type.Union([Type.Literal('continue'), Type.Literal('disable_mfa'), Type.Literal('rotate')], {
    description:
      "The operator's post-recovery policy that applied: `continue` (the other codes stay valid), " +
      '`disable_mfa` (two-factor was turned off and the codes deleted), `rotate` (a replacement set, shown once)',
  }),
  remaining: Type.Optional(Type.Integer({ description: '`continue`: unused codes left' })),
  total: Type.Optional(Type.Integer({ description: '`continue`: codes in the set' })),
  low: Type.Optional(Type.Boolean({ description: '`continue`: few enough left to warn the user' })),
  replacement: Type.Optional(IssuedCodes),
};

/** The one place a recovery code's outcome becomes JSON. */
export function recoveryOutcomeBody(outcome: RecoveryOutcome) {
  switch (outcome.policy) {
    case 'continue':
      return { policy: outcome.policy, remaining: outcome.remaining, total: outcome.total, low: outcome.low };
    case 'rotate':
      return { policy: outcome.policy, replacement: issuedCodesBody(outcome.replacement) };
    default:
      return { policy: outcome.policy };
  }
}
