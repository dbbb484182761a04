import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import Fastify, { type FastifyInstance, type FastifyRequest, type RequestPayload } from 'fastify';
import { openServices } from './compose.js';
import { isCodeInputInBounds } from './core/code-input.js';
import type { PostRecoveryPolicy } from './core/policy.js';
import { ok } from './core/result.js';
import { API_PREFIX, type ApiOptions, registerApi } from './http/plugins/register-api.js';
import { settingsUpdateFrom } from './http/settings-update.js';
import { MAX_PATH_PARAMETER_LENGTH } from './http/user-addressing.js';
import { normalizeLibraryOptions, type SpareKeyOptions } from './library-options.js';
import { securityKeyMethods } from './library-security-keys.js';
import { isValidExternalId, MAX_EXTERNAL_ID_LENGTH, type UserRef } from './service/accounts/host-users.js';
import type { SettingsUpdate } from './service/admin/settings.js';
import type { UsersWithCodesQuery } from './service/admin/users-with-codes.js';
import type { RequestContext } from './service/deps.js';
import type { IssuedRecoveryCodeSet } from './service/recovery-codes/prepare-recovery-code-set.js';
import { backendAuthority } from './service/sign-in/change-authority.js';
import type { UseCases } from './service/use-cases.js';

export { EMBEDDED_POSTGRES_SCHEMA, type SpareKeyOptions, type WebauthnOptions } from './library-options.js';

/** Who asked: recorded in the audit log. Optional everywhere; pass it from your request handler. */
export type Context = RequestContext;

/**
 * SpareKey as a library: the same use cases as the server, as typed methods, on your database.
 *
 *   const sparekey = await createSpareKey({ database: { kind: 'sqlite', path: 'sparekey.db' }, secret });
 *   const { value } = await sparekey.recoveryCodes.generate({ userId });
 *
 * Every method returns `{ ok: true, value }` or `{ ok: false, error }` with a stable error code
 * (see `errorMessages`) for the failures a person can cause; only bugs and outages throw.
 */
export async function createSpareKey(options: SpareKeyOptions) {
  const { composition, database } = normalizeLibraryOptions(options);
  const { useCases, close } = await openServices(composition, database);
  let mounted: FastifyInstance | undefined;
  return {
    ...spareKeyApi(useCases, close),
    /**
     * Mounts the JSON API (/api/v1/...) into your Fastify app, headless by default: the API-key routes your
     * backend calls, no sign-up, no end-user routes, no pages (`{ endUserRoutes: true }` adds the end-user
     * routes): `app.register(sparekey.fastifyPlugin, { prefix: '/sparekey' })`. For host ids over 100
     * characters, create your Fastify with `routerOptions: { maxParamLength: 1024 }` (the router's default
     * answers 414 before the route).
     */
    fastifyPlugin: async (instance: FastifyInstance, options: ApiOptions = {}) => {
      warnIfHostIdsCutShort(instance);
      await registerApi(instance, useCases, { endUserRoutes: options.endUserRoutes ?? false });
    },
    /**
     * Connect/Express middleware serving the JSON API at /api/v1 below where it is mounted, headless by
     * default like fastifyPlugin: `app.use('/sparekey', await sparekey.middleware())`. It may be mounted
     * before or after a JSON body parser (express.json()): a body the host already parsed is used.
     */
    middleware: async (options: ApiOptions = {}) => {
      if (!mounted) {
        mounted = Fastify({
          bodyLimit: 64 * 1024,
          routerOptions: { maxParamLength: MAX_PATH_PARAMETER_LENGTH },
        });
        mounted.addHook('preParsing', bodyParsedByHost);
        await registerApi(mounted, useCases, { endUserRoutes: options.endUserRoutes ?? false });
        await mounted.ready();
      }
      const api = mounted;
      return (request: IncomingMessage, response: ServerResponse, next: (error?: unknown) => void) => {
        if (!request.url?.startsWith(API_PREFIX)) return next();
        api.routing(request, response);
      };
    },
    close: async () => {
      await mounted?.close();
      await close();
    },
  };
}

export type SpareKey = Awaited<ReturnType<typeof createSpareKey>>;

/**
 * A host's Fastify decides the router's limit on a path value, and its default (100) is below the 255
 * characters a host id may have: such ids would get Fastify's own 414, not SpareKey's error shape. The
 * plugin cannot raise the limit of an instance it is given, so it says so once, at start, in the host's log.
 */
function warnIfHostIdsCutShort(instance: FastifyInstance): void {
  const config = instance.initialConfig as {
    maxParamLength?: number;
    routerOptions?: { maxParamLength?: number };
  };
  const limit = config.routerOptions?.maxParamLength ?? config.maxParamLength ?? 100;
  if (limit >= MAX_EXTERNAL_ID_LENGTH) return;
  instance.log.warn(
    `SpareKey: this Fastify answers 414 for a path value over ${limit} characters, so host ids up to ${MAX_EXTERNAL_ID_LENGTH} characters cannot all be addressed; create it with routerOptions: { maxParamLength: ${MAX_PATH_PARAMETER_LENGTH} } (docs/api.md)`,
  );
}

/**
 * preParsing: when the host's own parser (express.json(), body-parser) already read the request stream
 * and left the result on `req.body`, the stream has nothing more to give and reading it would wait
 * forever. The parsed value is handed on as the payload instead, re-serialized as JSON; its length is
 * reported as the request's, so Fastify's Content-Length check holds.
 */
async function bodyParsedByHost(request: FastifyRequest, _reply: unknown, payload: RequestPayload) {
  const raw = request.raw as IncomingMessage & { body?: unknown };
  if (!raw.readableEnded || raw.body === undefined) return payload;
  const replacement = Readable.from([Buffer.from(JSON.stringify(raw.body))]) as Readable & {
    receivedEncodedLength?: number;
  };
  replacement.receivedEncodedLength = Number(raw.headers['content-length'] ?? 0);
  return replacement;
}

/**
 * The typed surface over the use cases; also used by the HTTP API's in-process callers. Each method passes
 * the fields it names, one by one: an object a host application hands over (perhaps a parsed request body)
 * never carries a field of its own choosing into a use case.
 */
export function spareKeyApi(useCases: UseCases, closeStore?: () => Promise<void>) {
  const ctx = (context?: Context): Context => context ?? {};
  /** The host app is the backend: step-up before a protected change is its duty, as for an API key. */
  const byHost = (context?: Context) =>
    backendAuthority({ kind: 'library', actorId: context?.actorId ?? 'library' });
  /**
   * Runs a use case for the user a reference names (SpareKey's `userId` or the host's `externalId`); a
   * host id nobody has is `user_not_found`, like an unknown SpareKey id, and one that no user can have
   * (empty, over 255 characters, a control character) is `invalid_external_id`, as the JSON API answers
   * for the same path.
   */
  const forUser = async <T>(
    ref: UserRef,
    run: (userId: string) => Promise<T>,
  ): Promise<T | { ok: false; error: 'user_not_found' | 'invalid_external_id' }> => {
    if ('externalId' in ref && !isValidExternalId(ref.externalId))
      return { ok: false, error: 'invalid_external_id' };
    const userId = await useCases.resolveUserRef(ref);
    return userId === undefined ? { ok: false, error: 'user_not_found' } : run(userId);
  };
  /**
   * A code out of its bounds (not a string, empty, over 256 characters) is refused before the use case,
   * with the code the JSON API's schema answers for it: no throttle charge, no audit event, on both edges.
   */
  const withCode = <T, F extends 'invalid_code' | 'malformed_code'>(
    code: unknown,
    failure: F,
    run: () => Promise<T>,
  ): Promise<T | { ok: false; error: F }> =>
    isCodeInputInBounds(code) ? run() : Promise.resolve({ ok: false, error: failure });
  /** For the reads that answer for anyone (an unknown user has no factors and no codes). */
  const idOf = async (ref: string | UserRef) =>
    typeof ref === 'string' ? ref : ((await useCases.resolveUserRef(ref)) ?? '');
  return {
    users: {
      /**
       * The host application's user, created on the first call (no password; `email` optional, used for
       * security notices). Idempotent: call it whenever a user turns on two-factor or signs in.
       */
      ensure: (input: { externalId: string; email?: string | null; context?: Context }) =>
        useCases.ensureUser({
          externalId: input.externalId,
          email: input.email,
          context: ctx(input.context),
        }),
      /** Sets or (null) removes the email address; the old address is told. */
      changeEmail: (input: UserRef & { email: string | null; context?: Context }) =>
        forUser(input, (userId) =>
          useCases.changeEmail({ userId, email: input.email, context: ctx(input.context) }),
        ),
      /** Deletes the user, their factors, codes, sessions, remembered browsers and API keys (one transaction). */
      delete: (input: UserRef & { context?: Context }) =>
        forUser(input, (userId) => useCases.deleteUser({ userId, context: ctx(input.context) })),
      /**
       * Creates a SpareKey account (email and password) with the given roles (default role when omitted)
       * and says if the address is taken: for your administrators and back office, never for an anonymous
       * caller (use `signUp`).
       */
      create: (input: { email: string; password: string; roles?: string[]; context?: Context }) =>
        useCases.createUser({
          email: input.email,
          password: input.password,
          roles: input.roles,
          context: ctx(input.context),
        }),
      /**
       * Public sign-up: the default role only, and the same answer whether or not the address already has
       * an account (its owner is emailed when notifications are on). `value.delivered` settles after that email.
       */
      signUp: (input: { email: string; password: string; context?: Context }) =>
        useCases.signUp({ email: input.email, password: input.password, context: ctx(input.context) }),
      checkPassword: (input: { email: string; password: string; context?: Context }) =>
        useCases.signInWithPassword({
          email: input.email,
          password: input.password,
          context: ctx(input.context),
        }),
      /** Spends an emailed unlock link's token with the account password (after too many wrong codes). */
      unlockSecondFactor: (input: { token: string; password: string; context?: Context }) =>
        useCases.unlockSecondFactor({
          token: input.token,
          password: input.password,
          context: ctx(input.context),
        }),
      findByEmail: (email: string) => useCases.findUserByEmail(email),
      findById: (userId: string) => useCases.findUserById(userId),
      findByExternalId: (externalId: string) => useCases.findUserByExternalId(externalId),
      roles: () => useCases.listRoles(),
      addRole: (name: string, context?: Context) => useCases.addRole({ name, context: ctx(context) }),
      assignRoles: (input: UserRef & { roles: string[]; context?: Context }) =>
        forUser(input, (userId) =>
          useCases.assignRoles({ userId, roles: input.roles, context: ctx(input.context) }),
        ),
    },
    mfa: {
      overview: async (user: string | UserRef) => useCases.getMfaOverview({ userId: await idOf(user) }),
      enrollTotp: (input: UserRef & { context?: Context }) =>
        forUser(input, (userId) => useCases.enrollTotp({ userId, context: ctx(input.context) })),
      /**
       * Confirms the authenticator with its current code. The user's first factor also creates their first
       * recovery-code set and returns it (once): show those codes; do not call recoveryCodes.generate after
       * it, which would replace the set just shown.
       */
      confirmTotp: (input: UserRef & { factorId: string; code: string; context?: Context }) =>
        forUser(input, (userId) =>
          withCode(input.code, 'invalid_code', () =>
            useCases.confirmTotp({
              userId,
              factorId: input.factorId,
              code: input.code,
              context: ctx(input.context),
            }),
          ),
        ),
      verifyTotp: (input: UserRef & { code: string; context?: Context }) =>
        forUser(input, (userId) =>
          withCode(input.code, 'invalid_code', () =>
            useCases.verifyTotp({ userId, code: input.code, context: ctx(input.context) }),
          ),
        ),
      startEmailFactor: (input: UserRef & { context?: Context }) =>
        forUser(input, (userId) => useCases.startEmailFactor({ userId, context: ctx(input.context) })),
      confirmEmailFactor: (input: UserRef & { factorId: string; code: string; context?: Context }) =>
        forUser(input, (userId) =>
          withCode(input.code, 'invalid_code', () =>
            useCases.confirmEmailFactor({
              userId,
              factorId: input.factorId,
              code: input.code,
              context: ctx(input.context),
            }),
          ),
        ),
      sendEmailCode: (input: UserRef & { attemptId: string; context?: Context }) =>
        forUser(input, (userId) =>
          useCases.sendEmailOtp({ userId, attemptId: input.attemptId, context: ctx(input.context) }),
        ),
      verifyEmailCode: (input: UserRef & { attemptId: string; code: string; context?: Context }) =>
        forUser(input, (userId) =>
          withCode(input.code, 'invalid_code', () =>
            useCases.verifyEmailOtp({
              userId,
              attemptId: input.attemptId,
              code: input.code,
              context: ctx(input.context),
            }),
          ),
        ),
      removeFactor: (input: UserRef & { factorId: string; context?: Context }) =>
        forUser(input, (userId) =>
          useCases.removeFactor({
            userId,
            factorId: input.factorId,
            authority: byHost(input.context),
            context: ctx(input.context),
          }),
        ),
      disable: (input: UserRef & { context?: Context }) =>
        forUser(input, (userId) =>
          useCases.disableMfa({ userId, authority: byHost(input.context), context: ctx(input.context) }),
        ),
      reset: (input: UserRef & { reason: string; context: Context & { actorId: string } }) =>
        forUser(input, (userId) =>
          useCases.resetUserMfa({ userId, reason: input.reason, context: input.context }),
        ),
    },
    /** Security keys and passkeys for your own pages (createSpareKey's `webauthn` option). */
    securityKeys: securityKeyMethods(useCases, forUser),
    recoveryCodes: {
      /**
       * A new set (the old one stops working at once). Not needed after confirmTotp of a first factor,
       * which already issued one. Refused with `feature_disabled` while recovery codes are switched off.
       */
      generate: (input: UserRef & { context?: Context }) =>
        forUser(input, async (userId) => {
          const generated = await useCases.generateRecoveryCodes({
            userId,
            authority: byHost(input.context),
            context: ctx(input.context),
          });
          // The set only: a host's call rotates no SpareKey session, so there is no new token to hand back.
          if (!generated.ok) return generated;
          const { setId, generatedAt, codes } = generated.value;
          return ok<IssuedRecoveryCodeSet>({ setId, generatedAt, codes });
        }),
      verify: (input: UserRef & { code: string; context?: Context }) =>
        forUser(input, (userId) =>
          withCode(input.code, 'malformed_code', () =>
            useCases.verifyRecoveryCode({ userId, code: input.code, context: ctx(input.context) }),
          ),
        ),
      status: async (user: string | UserRef) => useCases.getRecoveryCodeStatus({ userId: await idOf(user) }),
    },
    admin: {
      settings: () => useCases.getRecoveryCodeSettings(),
      updateSettings: (update: SettingsUpdate, context?: Context) =>
        useCases.updateRecoveryCodeSettings(settingsUpdateFrom(update), ctx(context)),
      statistics: () => useCases.getRecoveryCodeStatistics(),
      /** An API key for a backend (shown once); e.g. `{ name: 'billing', scopes: ['mfa:write'] }`. */
      createApiKey: (input: { name: string; scopes: string[]; context?: Context }) =>
        useCases.createApiKey({ name: input.name, scopes: input.scopes, context: ctx(input.context) }),
      revokeApiKey: (input: { id: string; context?: Context }) =>
        useCases.revokeApiKey({ id: input.id, context: ctx(input.context) }),
      usersWithCodes: (query: UsersWithCodesQuery) => useCases.listUsersWithCodes(query),
      verifyAuditChain: () => useCases.verifyAuditLog(),
      exportAudit: (format: 'csv' | 'jsonl') => useCases.exportAuditLog(format),
    },
    /** Closes the database pool (PostgreSQL) or file (SQLite) this instance opened. */
    close: async () => {
      await closeStore?.();
    },
  };
}

export type { PostRecoveryPolicy };
