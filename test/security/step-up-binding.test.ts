import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createUser } from '../../src/service/accounts/accounts.js';
import { startSession } from '../../src/service/sessions/sessions.js';
import { accountThrottleKey } from '../../src/service/throttle/throttle-counters.js';
import { SESSION_COOKIE } from '../../src/web/web-context.js';
import { testEngines } from '../helpers/engines.js';
import { authenticatorCode, configureRecoveryCodes, enableTotp } from '../helpers/mfa.js';
import { stateSnapshot } from '../helpers/state-snapshot.js';
import { createWebTestApp, FormClient, type WebTestApp } from '../helpers/web-client.js';

/**
 * A step-up proof is valid only for the session's own account (STANDARDS req 11; the security issue's
 * finding 2). For every step-up-protected action, on the pages and in the API, the proof is another
 * user's CORRECT password or current authenticator code: it is refused, nothing changes, and the failed
 * attempt is charged to the session's account (whose password was guessed), never to the other one.
 * Each case also runs with the other user's id added to the body or form, the shape of the original attack.
 */
type Proof = 'password' | 'totp';
interface Action {
  name: string;
  edge: 'api' | 'page';
  url: (factorId: string) => string;
  /** A step-up takes `password` or `totpCode`; a password change takes `currentPassword` (password only). */
  proofs: readonly Proof[];
  fields: (proof: string, kind: Proof) => Record<string, string>;
}

const stepUpFields = (proof: string, kind: Proof): Record<string, string> =>
  kind === 'password' ? { password: proof } : { totpCode: proof };
const passwordChange = (proof: string) => ({
  currentPassword: proof,
  newPassword: 'a-brand-new-pass-phrase-3',
});

const ACTIONS: readonly Action[] = [
  {
    name: 'regenerate codes',
    edge: 'api',
    url: () => '/api/v1/me/recovery-codes',
    proofs: ['password', 'totp'],
    fields: stepUpFields,
  },
  {
    name: 'remove a factor',
    edge: 'api',
    url: (id) => `/api/v1/me/factors/${id}/remove`,
    proofs: ['password', 'totp'],
    fields: stepUpFields,
  },
  {
    name: 'turn two-factor off',
    edge: 'api',
    url: () => '/api/v1/me/mfa/disable',
    proofs: ['password', 'totp'],
    fields: stepUpFields,
  },
  {
    name: 'change the password',
    edge: 'api',
    url: () => '/api/v1/me/password',
    proofs: ['password'],
    fields: passwordChange,
  },
  {
    name: 'regenerate codes',
    edge: 'page',
    url: () => '/settings/two-factor/recovery-codes/regenerate',
    proofs: ['password', 'totp'],
    fields: stepUpFields,
  },
  {
    name: 'remove a factor',
    edge: 'page',
    url: (id) => `/settings/two-factor/factors/${id}/remove`,
    proofs: ['password', 'totp'],
    fields: stepUpFields,
  },
  {
    name: 'turn two-factor off',
    edge: 'page',
    url: () => '/settings/two-factor/disable',
    proofs: ['password', 'totp'],
    fields: stepUpFields,
  },
  {
    name: 'change the password',
    edge: 'page',
    url: () => '/settings/password',
    proofs: ['password'],
    fields: passwordChange,
  },
];

const CASES = ACTIONS.flatMap((action) =>
  action.proofs.flatMap((proof) =>
    [false, true].map((withUserId) => ({
      label: `${action.edge}: ${action.name} with the other user's ${proof}${withUserId ? ' and userId' : ''}`,
      action,
      proof,
      withUserId,
    })),
  ),
);

describe.each(testEngines())('step-up binding on %s', (engine) => {
  let web: WebTestApp;
  beforeAll(async () => {
    web = await createWebTestApp(engine);
    await configureRecoveryCodes(web.env);
  });
  afterAll(async () => web?.close());

  async function account(label: string) {
    const email = `${label}-${web.env.deps.random.uuid().slice(0, 8)}@example.test`;
    const password = `${label}-own-pass-phrase-${engine}`;
    const created = await createUser(web.env.deps, { email, password, context: {} });
    if (!created.ok) throw new Error(created.error);
    const totp = await enableTotp(web.env, created.value.userId);
    // A second factor (emailed codes), so removing the authenticator is allowed once the step-up passes.
    const emailFactorId = web.env.deps.random.uuid();
    await web.env.deps.store.createFactor({
      id: emailFactorId,
      userId: created.value.userId,
      kind: 'email',
      secretCiphertext: null,
      createdAt: web.env.clock.now(),
    });
    await web.env.deps.store.confirmFactor(created.value.userId, emailFactorId, web.env.clock.now());
    return { id: created.value.userId, password, secret: totp.secret, factorId: totp.factorId };
  }

  const failures = async (userId: string) => {
    const rows = await sql<{
      failures: number;
    }>`select failures from throttle_counters where key = ${accountThrottleKey(userId)}`.execute(
      web.env.opened.db,
    );
    return Number(rows.rows[0]?.failures ?? 0);
  };

  // Each case calls from an address of its own, so the per-address throttle of one case never blocks another.
  let addresses = 0;
  async function send(action: Action, fields: Record<string, string>, token: string, factorId: string) {
    const url = action.url(factorId);
    const remoteAddress = `10.18.${Math.floor(++addresses / 250)}.${(addresses % 250) + 1}`;
    if (action.edge === 'api') {
      const response = await web.app.inject({
        method: 'POST',
        url,
        headers: { authorization: `Bearer ${token}` },
        payload: fields,
        remoteAddress,
      });
      const code = response.body ? (response.json().error?.code as string | undefined) : undefined;
      return { status: response.statusCode, code };
    }
    const client = new FormClient(web.app, remoteAddress);
    client.cookies.set(SESSION_COOKIE, token);
    await client.get(url.startsWith('/settings/password') ? '/settings/password' : '/settings/two-factor');
    const response = await client.post(url, fields);
    return { status: response.statusCode, code: undefined };
  }

  test.each(CASES)(
    '$label is refused, changes nothing, and is charged to the session’s account',
    async ({ action, proof, withUserId }) => {
      const victim = await account('victim');
      const other = await account('other');
      const { token } = await startSession(web.env.deps, {
        userId: victim.id,
        stage: 'signed_in',
        context: {},
      });
      const otherProof =
        proof === 'password' ? other.password : authenticatorCode(other.secret, web.env.clock.nowMs);
      const fields = { ...action.fields(otherProof, proof), ...(withUserId ? { userId: other.id } : {}) };
      const before = await stateSnapshot(web.env);
      const [victimBefore, otherBefore] = [await failures(victim.id), await failures(other.id)];

      const answer = await send(action, fields, token, victim.factorId);

      // A strict schema may refuse the unknown `userId` field outright (400); otherwise the proof is checked.
      const checked = answer.status === 401;
      if (withUserId) expect([400, 401]).toContain(answer.status);
      else expect(answer.status).toBe(401);
      if (checked && action.edge === 'api')
        expect(answer.code).toBe(
          action.name === 'change the password' ? 'current_password_wrong' : 'step_up_failed',
        );
      expect(await stateSnapshot(web.env)).toBe(before);
      expect(await failures(victim.id)).toBe(victimBefore + (checked ? 1 : 0));
      expect(await failures(other.id)).toBe(otherBefore);
      // And the session's own proof still works for the same action: the refusal was about whose proof it was.
      web.env.clock.advance(30_000);
      const own =
        proof === 'password' ? victim.password : authenticatorCode(victim.secret, web.env.clock.nowMs);
      const allowed = await send(action, action.fields(own, proof), token, victim.factorId);
      expect(allowed.status, `own ${proof}`).toBeLessThan(400);
    },
  );
});
