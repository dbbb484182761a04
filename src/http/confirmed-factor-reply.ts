import type { FastifyReply, FastifyRequest } from 'fastify';
import type { UseCases } from '../service/use-cases.js';
import { apiContext, sessionToken } from './api-replies.js';
import { issuedCodesBody } from './schemas/common.js';

/**
 * The answer to a confirmed factor on the session API (an authenticator app, emailed codes, a security
 * key): the factor was proven in this session (amr otp or hwk, mfa), as on the pages, so the session gets a
 * new token; the first factor's recovery codes are shown once.
 */
export async function sendConfirmedFactor(
  useCases: UseCases,
  request: FastifyRequest,
  reply: FastifyReply,
  method: 'totp' | 'email' | 'webauthn',
  confirmed: { mfaEnabled: boolean; recoveryCodes?: Parameters<typeof issuedCodesBody>[0] | null },
) {
  const rotated = await useCases.rotateSession({
    token: sessionToken(request),
    stage: 'signed_in',
    method,
    context: apiContext(request),
  });
  return reply.header('cache-control', 'no-store').send({
    token: rotated?.token ?? sessionToken(request),
    mfaEnabled: confirmed.mfaEnabled,
    recoveryCodes: confirmed.recoveryCodes ? issuedCodesBody(confirmed.recoveryCodes) : null,
  });
}
