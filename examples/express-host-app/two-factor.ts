import type { Express, Request, Response } from 'express';
import { createSpareKey, type SpareKeyOptions } from '../../src/index.js';

/**
 * The SpareKey glue of the host app (app.ts): TOTP and recovery codes for the app's own users, by its own
 * ids. Enrolling needs the app's signed-in session; the second sign-in step turns the app's password-only
 * session ('password') into a signed-in one. Answers carry the authenticator key or codes: no-store.
 */
export async function addTwoFactor(
  app: Express,
  sessionOf: (request: Request) => { userId: string; stage: 'password' | 'signed_in' } | undefined,
  options: SpareKeyOptions,
) {
  const sparekey = await createSpareKey(options);
  await sparekey.admin.updateSettings({ enabled: true }); // recovery codes are off until switched on
  const answer = (response: Response, result: { ok: boolean; value?: unknown }) =>
    response.status(result.ok ? 200 : 400).set('cache-control', 'no-store').json(result.ok ? result.value : result);
  const userOf = (request: Request) => String(sessionOf(request)?.userId);

  app.use('/2fa/totp', (request, response, next) =>
    sessionOf(request)?.stage === 'signed_in' ? next() : response.sendStatus(401),
  );
  app.post('/2fa/totp', async (request, response) => {
    await sparekey.users.ensure({ externalId: userOf(request) });
    answer(response, await sparekey.mfa.enrollTotp({ externalId: userOf(request) }));
  });
  app.post('/2fa/totp/confirm', async (request, response) => {
    const { factorId, code } = request.body;
    const confirm = { externalId: userOf(request), factorId: `${factorId}`, code: `${code}` };
    answer(response, await sparekey.mfa.confirmTotp(confirm));
  });
  for (const [path, verify] of [
    ['/2fa/verify', sparekey.mfa.verifyTotp],
    ['/2fa/recovery-code', sparekey.recoveryCodes.verify],
  ] as const)
    app.post(path, async (request, response) => {
      const session = sessionOf(request);
      if (session?.stage !== 'password') return response.sendStatus(401);
      const result = await verify({ externalId: session.userId, code: `${request.body.code}` });
      if (result.ok) session.stage = 'signed_in';
      answer(response, result);
    });
  const needsSecondFactor = async (userId: string) =>
    (await sparekey.mfa.overview({ externalId: userId })).mfaEnabled;
  return { sparekey, needsSecondFactor };
}
