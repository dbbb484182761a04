import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll } from 'vitest';
import { buildServer } from '../../src/build-server.js';
import { apiKeyScopes } from '../../src/core/api-key.js';
import { errorMessages } from '../../src/core/errors.js';
import { createUser } from '../../src/service/accounts/accounts.js';
import { ensureUser } from '../../src/service/accounts/host-users.js';
import { createApiKey } from '../../src/service/admin/api-keys.js';
import { enrollTotp } from '../../src/service/factors/enroll-totp.js';
import { registerOidcClient } from '../../src/service/oidc/clients.js';
import { generateRecoveryCodes } from '../../src/service/recovery-codes/generate-recovery-codes.js';
import { listRememberedDevices, rememberDevice } from '../../src/service/sessions/remembered-devices.js';
import { startSession } from '../../src/service/sessions/sessions.js';
import { backendAuthority } from '../../src/service/sign-in/change-authority.js';
import { SESSION_COOKIE } from '../../src/web/web-context.js';
import { configureRecoveryCodes } from '../helpers/mfa.js';
import { createTestEnvironment, type TestEnvironment } from '../helpers/service-deps.js';
import { alertText, csrfTokenOn } from '../helpers/web-client.js';
import { TEST_PASSWORD } from '../helpers/web-flows.js';

/** Who calls: the columns of the authorization matrix, in this order. */
export const PRINCIPALS = [
  'anonymous',
  'pending',
  'user',
  'other',
  'admin',
  ...apiKeyScopes.map((scope) => `key:${scope}` as const),
] as const;
export type Principal = (typeof PRINCIPALS)[number];

/**
 * What the server did with the request, read from the response:
 * A allowed (it reached the use case: 2xx, a redirect elsewhere than sign-in, or a 4xx about the input),
 * U unauthenticated (401, or sent to sign in), F forbidden (403), N not found (someone else's resource).
 */
export type Outcome = 'A' | 'U' | 'F' | 'N';

/** Refusals about who is calling; any other 401/403 (a wrong code, a wrong password) reached the use case. */
const UNAUTHENTICATED = ['not_signed_in', 'sign_in_expired', 'api_key_required'];
const FORBIDDEN = ['not_admin', 'api_scope_missing', 'setup_token_invalid', 'csrf_invalid'];

/** The error code of a refusal: the API's `error` field, or the code whose message a page shows. */
function errorCodeOf(response: LightMyRequestResponse): string | undefined {
  if (String(response.headers['content-type']).includes('json')) {
    return (response.json() as { error?: { code?: string } }).error?.code;
  }
  const shown = alertText(response.body) ?? response.body.match(/<p>([^<]+)<\/p>/)?.[1];
  return Object.entries(errorMessages).find(([, message]) => message === shown)?.[0];
}

export function classify(response: LightMyRequestResponse): Outcome {
  const location = String(response.headers.location ?? '');
  // Sent back to the sign-in page (not onward to its second step, nor after signing out or up on purpose).
  const toSignIn = /^\/sign-in(\?|$)/.test(location) && !/notice=signed-(out|up)/.test(location);
  if (response.statusCode >= 300 && response.statusCode < 400) return toSignIn ? 'U' : 'A';
  if (response.statusCode === 404) return 'N';
  if (response.statusCode !== 401 && response.statusCode !== 403) return 'A';
  const code = errorCodeOf(response);
  if (code && UNAUTHENTICATED.includes(code)) return 'U';
  if (code && FORBIDDEN.includes(code)) return 'F';
  if (code) return 'A';
  return response.statusCode === 401 ? 'U' : 'F';
}

/**
 * A fresh set of accounts for one cell of the matrix: the victim (password, email factor, pending TOTP and
 * email enrolments, codes, a remembered browser) whose resources every path parameter names, another
 * signed-in user, an administrator, and one API key per scope.
 */
export interface World {
  /**
   * `factorId`: a confirmed email factor; `pendingFactorId`: a TOTP factor enrolled but not yet confirmed;
   * `pendingEmailFactorId`: an email factor not yet confirmed; `deviceId`: a remembered browser.
   */
  victim: {
    id: string;
    email: string;
    factorId: string;
    pendingFactorId: string;
    pendingEmailFactorId: string;
    deviceId: string;
  };
  /** The other signed-in user and the administrator (the mass-assignment suite names them in bodies). */
  other: { id: string; email: string };
  admin: { id: string; email: string };
  /** A host application's user (created by its own id, no password), named by `:externalId`. */
  hostUserExternalId: string;
  tokens: Record<'pending' | 'user' | 'other' | 'admin', string>;
  keys: Record<string, string>;
  spareKeyId: string;
  /** A registered OpenID Connect application (confidential), named by `:clientId`. */
  applicationId: string;
}

async function account(env: TestEnvironment, label: string, roles?: string[]) {
  const email = `${label}-${env.deps.random.uuid().slice(0, 8)}@example.test`;
  const created = await createUser(env.deps, { email, password: TEST_PASSWORD, roles, context: {} });
  if (!created.ok) throw new Error(created.error);
  return { id: created.value.userId, email };
}

async function session(env: TestEnvironment, userId: string, stage: 'signed_in' | 'second_factor') {
  return (await startSession(env.deps, { userId, stage, context: {} })).token;
}

export async function createWorld(env: TestEnvironment): Promise<World> {
  const victim = await account(env, 'victim');
  // Two-factor on by a confirmed email factor (written directly: the email flow has its own tests), codes
  // generated, and a TOTP enrolment pending.
  const factorId = env.deps.random.uuid();
  await env.deps.store.createFactor({
    id: factorId,
    userId: victim.id,
    kind: 'email',
    secretCiphertext: null,
    createdAt: env.clock.now(),
  });
  await env.deps.store.confirmFactor(victim.id, factorId, env.clock.now());
  const codes = await generateRecoveryCodes(env.deps, {
    authority: backendAuthority({ kind: 'library', actorId: 'test' }),
    userId: victim.id,
    context: {},
  });
  if (!codes.ok) throw new Error(codes.error);
  const pending = await enrollTotp(env.deps, { userId: victim.id, context: {} });
  if (!pending.ok) throw new Error(pending.error);
  // A second email enrolment pending beside the confirmed one (the flow refuses to start one then, so it
  // is written directly): confirming it is the owner's to try, and nobody else's to find.
  const pendingEmailFactorId = env.deps.random.uuid();
  await env.deps.store.createFactor({
    id: pendingEmailFactorId,
    userId: victim.id,
    kind: 'email',
    secretCiphertext: null,
    createdAt: env.clock.now(),
  });
  // A remembered browser, so forgetting it by id is the owner's to do and another user's to not find.
  if (!(await rememberDevice(env.deps, { userId: victim.id, context: {} })))
    throw new Error('no device remembered');
  const [device] = await listRememberedDevices(env.deps, victim.id);
  const other = await account(env, 'other');
  const admin = await account(env, 'admin', ['administrator']);
  const keys: Record<string, string> = {};
  for (const scope of apiKeyScopes) {
    const key = await createApiKey(env.deps, { name: `matrix ${scope}`, scopes: [scope], context: {} });
    if (!key.ok) throw new Error(key.error);
    keys[`key:${scope}`] = key.value.key;
  }
  const spare = await createApiKey(env.deps, { name: 'spare', scopes: ['audit:read'], context: {} });
  if (!spare.ok) throw new Error(spare.error);
  const application = await registerOidcClient(env.deps, {
    name: 'Matrix app',
    redirectUris: ['https://app.example.test/callback'],
    postLogoutRedirectUris: [],
    kind: 'confidential',
    firstParty: false,
    twoFactorRequired: false,
    scopes: ['openid'],
    context: {},
  });
  if (!application.ok) throw new Error(application.error);
  const hostUserExternalId = `host-${env.deps.random.uuid()}`;
  const hostUser = await ensureUser(env.deps, { externalId: hostUserExternalId, context: {} });
  if (!hostUser.ok) throw new Error(hostUser.error);
  return {
    hostUserExternalId,
    victim: {
      ...victim,
      factorId,
      pendingFactorId: pending.value.factorId,
      pendingEmailFactorId,
      deviceId: device?.id as string,
    },
    other,
    admin,
    tokens: {
      pending: await session(env, victim.id, 'second_factor'),
      user: await session(env, victim.id, 'signed_in'),
      other: await session(env, other.id, 'signed_in'),
      admin: await session(env, admin.id, 'signed_in'),
    },
    keys,
    spareKeyId: spare.value.id,
    applicationId: application.value.client.id,
  };
}

/** A route template with its parameters naming the victim's resources. */
export function concreteUrl(template: string, world: World): string {
  return (
    template
      .replace(':userId', world.victim.id)
      .replace(':externalId', world.hostUserExternalId)
      // Confirming names a pending factor of the route's kind; everything else the confirmed one.
      .replace(':factorId', factorIdFor(template, world))
      .replace(':deviceId', world.victim.deviceId)
      .replace(':keyId', world.spareKeyId)
      .replace(':clientId', world.applicationId)
      .replace(':email', encodeURIComponent(world.victim.email))
      .replace('*', 'index.css')
  );
}

function factorIdFor(template: string, world: World): string {
  if (!template.endsWith('/confirm')) return world.victim.factorId;
  return template.includes('/email/') ? world.victim.pendingEmailFactorId : world.victim.pendingFactorId;
}

/** The credentials a principal sends: a session as both cookie and bearer token, or an API key. */
export function credentials(principal: Principal, world: World): Record<string, string> {
  if (principal === 'anonymous') return {};
  if (principal.startsWith('key:')) return { authorization: `Bearer ${world.keys[principal]}` };
  const token = world.tokens[principal as keyof World['tokens']];
  return { authorization: `Bearer ${token}`, cookie: `${SESSION_COOKIE}=${token}` };
}

/** A CSRF token and its cookie for the principal's session, read from the first page that has a form. */
export async function csrfFor(
  app: FastifyInstance,
  headers: Record<string, string>,
): Promise<{ token: string; cookie: string }> {
  for (const page of ['/settings/two-factor', '/sign-in/two-factor', '/sign-in']) {
    const response = await app.inject({ method: 'GET', url: page, headers });
    const token = csrfTokenOn(response.body);
    const cookie = response.cookies.find((c) => c.name.includes('csrf'));
    if (token && cookie) return { token, cookie: `${cookie.name}=${cookie.value}` };
  }
  throw new Error('no page with a CSRF token');
}

/** Bodies that pass validation where the input decides the outcome (step-up with the right password). */
export function bodyFor(method: string, template: string): Record<string, string> | undefined {
  // Values written as ':name' are filled in like path parameters (fillBody).
  if (method === 'GET' || method === 'DELETE') return undefined;
  const stepUp = [
    '/api/v1/me/recovery-codes',
    '/api/v1/me/factors/:factorId/remove',
    '/api/v1/me/mfa/disable',
    '/settings/two-factor/recovery-codes/regenerate',
    '/settings/two-factor/factors/:factorId/remove',
    '/settings/two-factor/disable',
  ];
  if (stepUp.includes(template)) return { password: TEST_PASSWORD };
  // A code for the victim's pending TOTP factor, so only its owner gets past the lookup (the API names
  // the factor in the path; a body field it does not take would be refused as unknown).
  if (template.includes('totp') && template.includes('confirm'))
    return template.startsWith('/api/') ? { code: '123456' } : { code: '123456', factorId: ':pending' };
  // A well-formed (wrong) code for the victim's pending email factor: past validation, so the factor's
  // lookup decides; its owner gets a wrong-code answer, anyone else does not find it.
  if (template === '/api/v1/me/factors/email/:factorId/confirm') return { code: '123456' };
  if (template === '/settings/two-factor/email/confirm') return { factorId: ':pendingEmail', code: '123456' };
  if (template === '/settings/two-factor/email/resend') return { factorId: ':pendingEmail' };
  if (template === '/sign-in' || template === '/api/v1/auth/sign-in')
    return { email: ':email', password: TEST_PASSWORD };
  return {};
}

/** A body with its ':pending' and ':email' placeholders naming the victim's resources. */
export function fillBody(body: Record<string, string>, world: World): Record<string, string> {
  const values: Record<string, string> = {
    ':pending': world.victim.pendingFactorId,
    ':pendingEmail': world.victim.pendingEmailFactorId,
    ':email': world.victim.email,
  };
  return Object.fromEntries(Object.entries(body).map(([name, value]) => [name, values[value] ?? value]));
}

/**
 * For a describe block: the whole app on SQLite with recovery codes on, and every route it registered.
 * The getters read the values set up in beforeAll.
 */
export function useAppWithRoutes(): {
  readonly env: TestEnvironment;
  readonly app: FastifyInstance;
  readonly routes: { method: string; url: string }[];
} {
  let env: TestEnvironment | undefined;
  let app: FastifyInstance | undefined;
  const routes: { method: string; url: string }[] = [];
  beforeAll(async () => {
    env = await createTestEnvironment('sqlite');
    await configureRecoveryCodes(env);
    // An issuer, so the OpenID Connect provider's routes are live, not switched off.
    env.deps.options.publicUrl = 'http://sparekey.test';
    app = await buildServer({ deps: env.deps, onRoute: (route) => routes.push(route) });
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await env?.close();
  });
  return {
    get env() {
      if (!env) throw new Error('beforeAll did not run');
      return env;
    },
    get app() {
      if (!app) throw new Error('beforeAll did not run');
      return app;
    },
    routes,
  };
}
