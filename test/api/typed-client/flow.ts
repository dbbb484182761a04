/**
 * A host backend's whole two-factor flow through a client generated from SpareKey's /openapi.json
 * (openapi-typescript for the types, openapi-fetch for the calls), by the host's own user id, with an
 * `mfa:write` key. `./sparekey-api.js` does not exist in the repository: typed-client.test.ts generates it
 * from the served document next to a copy of this file and type-checks the copy against it, so a document
 * that no longer describes these calls fails that test. (This folder is left out of tsconfig.json for that
 * reason.) At run time the type import is erased and this file runs as it is.
 */
import createClient from 'openapi-fetch';
import type { components, paths } from './sparekey-api.js';

/** An error code as the generated client knows it: the Error schema's enum. */
export type ApiErrorCode = components['schemas']['Error']['error']['code'];

/** One call: its status, and what came back (data, or the error code). */
export interface Step {
  name: string;
  status: number;
  code?: ApiErrorCode;
}

export async function driveTwoFactorFlow(input: {
  baseUrl: string;
  mfaWriteKey: string;
  externalId: string;
  /** The authenticator app: a current code for the key SpareKey showed (an independent TOTP implementation). */
  authenticatorCode: (secretBase32: string) => string;
  /** The HTTP client (the platform's fetch unless given). */
  fetch?: (request: Request) => Promise<Response>;
}) {
  const api = createClient<paths>({
    baseUrl: input.baseUrl,
    ...(input.fetch ? { fetch: input.fetch } : {}),
    headers: { authorization: `Bearer ${input.mfaWriteKey}` },
  });
  const steps: Step[] = [];
  const note = (name: string, response: Response, error?: { error: { code: ApiErrorCode } }) =>
    steps.push({ name, status: response.status, ...(error ? { code: error.error.code } : {}) });
  const user = { path: { externalId: input.externalId } };

  const created = await api.PUT('/api/v1/external-users/{externalId}', {
    params: user,
    body: { email: null },
  });
  note('ensure', created.response, created.error);
  const again = await api.PUT('/api/v1/external-users/{externalId}', { params: user, body: {} });
  note('ensure again', again.response, again.error);

  const enrolled = await api.POST('/api/v1/external-users/{externalId}/factors/totp', { params: user });
  note('enroll TOTP', enrolled.response, enrolled.error);
  if (!enrolled.data) return { steps };
  const confirmed = await api.POST('/api/v1/external-users/{externalId}/factors/totp/{factorId}/confirm', {
    params: { path: { ...user.path, factorId: enrolled.data.factorId } },
    body: { code: input.authenticatorCode(enrolled.data.secret) },
  });
  note('confirm TOTP', confirmed.response, confirmed.error);
  const firstCodes = confirmed.data?.recoveryCodes?.codes ?? [];

  const generated = await api.POST('/api/v1/external-users/{externalId}/recovery-codes', { params: user });
  note('generate codes', generated.response, generated.error);
  const codes = generated.data?.codes ?? [];
  const [code] = codes;
  if (code === undefined) return { steps };

  const verified = await api.POST('/api/v1/external-users/{externalId}/recovery-codes/verify', {
    params: user,
    body: { code },
  });
  note('verify a code', verified.response, verified.error);
  const reused = await api.POST('/api/v1/external-users/{externalId}/recovery-codes/verify', {
    params: user,
    body: { code },
  });
  note('verify the same code again', reused.response, reused.error);
  // A field the operation does not name is refused, never dropped: the types say so, and so does the server.
  const withExtra = await api.POST('/api/v1/external-users/{externalId}/recovery-codes/verify', {
    params: user,
    body: { code: codes[1] ?? '', userId: 'someone-else' } as { code: string },
  });
  note('verify with an extra field', withExtra.response, withExtra.error);

  const status = await api.GET('/api/v1/external-users/{externalId}/recovery-codes', { params: user });
  note('status', status.response, status.error);
  const mfa = await api.GET('/api/v1/external-users/{externalId}/mfa', { params: user });
  note('MFA status', mfa.response, mfa.error);

  const reset = await api.POST('/api/v1/external-users/{externalId}/mfa/reset', {
    params: user,
    body: { reason: 'lost phone, identity checked by support' },
  });
  note('reset', reset.response, reset.error);
  const afterReset = await api.GET('/api/v1/external-users/{externalId}/mfa', { params: user });
  note('MFA status after reset', afterReset.response, afterReset.error);

  const deleted = await api.DELETE('/api/v1/external-users/{externalId}', { params: user });
  note('delete user', deleted.response, deleted.error);
  const gone = await api.GET('/api/v1/external-users/{externalId}/recovery-codes', { params: user });
  note('status after delete', gone.response, gone.error);

  return {
    steps,
    created: created.data?.created,
    createdAgain: again.data?.created,
    enrollment: enrolled.data,
    firstCodes,
    codes,
    outcome: verified.data,
    remaining: status.data?.remaining,
    factorKinds: mfa.data?.factors.map((factor) => factor.kind),
    reset: reset.data,
    mfaAfterReset: afterReset.data?.mfaEnabled,
    deleted: deleted.data,
  };
}
