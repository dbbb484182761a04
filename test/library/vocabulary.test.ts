import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, expectTypeOf, test } from 'vitest';
import type {
  CreatedApiKey,
  DeletedUser,
  EmailChange,
  EnsuredUser,
  IssuedRecoveryCodeSet,
  MfaOverview,
  MfaReset,
  RecoveryCodeStatus,
  RecoveryOutcome,
  SpareKey,
  TotpConfirmation,
  TotpEnrollment,
  TotpVerification,
} from '../../src/index.js';
import { compiledPath } from '../helpers/compiled-build.js';
import { totpCode } from '../helpers/rfc6238.js';

/**
 * Issue 21.1: the library, the JSON API and the CLI (test/cli/host-id-commands.test.ts) speak one
 * vocabulary. One flow runs twice, by the host's own ids: through the package's built entry point, and
 * through the JSON API that entry mounts. For each operation the library's result and the API's answer
 * must have the same field names at the same places, every field the library returns must be declared in
 * the operation's response schema (the serializer silently drops undeclared ones), and the same bad input
 * must fail with the same error code. docs/api.md's "One vocabulary" table lists the operations.
 */

type Entry = typeof import('../../src/index.js');
/** The value of a successful call of a library method. */
type ValueOf<Method extends (...args: never[]) => unknown> =
  Awaited<ReturnType<Method>> extends infer Answer
    ? Answer extends { ok: true; value: infer Value }
      ? Value
      : never
    : never;

/** Every method's result is a type the entry point exports (the type check fails otherwise). */
function resultTypesAreExported() {
  expectTypeOf<ValueOf<SpareKey['users']['ensure']>>().toEqualTypeOf<EnsuredUser>();
  expectTypeOf<ValueOf<SpareKey['users']['changeEmail']>>().toEqualTypeOf<EmailChange>();
  expectTypeOf<ValueOf<SpareKey['users']['delete']>>().toEqualTypeOf<DeletedUser>();
  expectTypeOf<ValueOf<SpareKey['mfa']['enrollTotp']>>().toEqualTypeOf<TotpEnrollment>();
  expectTypeOf<ValueOf<SpareKey['mfa']['confirmTotp']>>().toEqualTypeOf<TotpConfirmation>();
  expectTypeOf<ValueOf<SpareKey['mfa']['verifyTotp']>>().toEqualTypeOf<TotpVerification>();
  expectTypeOf<ValueOf<SpareKey['mfa']['reset']>>().toEqualTypeOf<MfaReset>();
  expectTypeOf<Awaited<ReturnType<SpareKey['mfa']['overview']>>>().toEqualTypeOf<MfaOverview>();
  expectTypeOf<ValueOf<SpareKey['recoveryCodes']['generate']>>().toEqualTypeOf<IssuedRecoveryCodeSet>();
  expectTypeOf<ValueOf<SpareKey['recoveryCodes']['verify']>>().toEqualTypeOf<RecoveryOutcome>();
  expectTypeOf<
    Awaited<ReturnType<SpareKey['recoveryCodes']['status']>>
  >().toEqualTypeOf<RecoveryCodeStatus>();
  expectTypeOf<ValueOf<SpareKey['admin']['createApiKey']>>().toEqualTypeOf<CreatedApiKey>();
}

/** The field paths of a value, e.g. ['recoveryCodes', 'recoveryCodes.codes', ...]; a date is a leaf. */
function fieldsOf(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) return value.length > 0 ? fieldsOf(value[0], `${prefix}[].`) : [];
  if (value === null || typeof value !== 'object' || value instanceof Date) return [];
  return Object.entries(value).flatMap(([key, inner]) => [
    `${prefix}${key}`,
    ...fieldsOf(inner, `${prefix}${key}.`),
  ]);
}

type JsonSchema = {
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
};

/** The field paths a response schema declares (unions: any branch's). */
function declaredFields(schema: JsonSchema | undefined, prefix = ''): string[] {
  if (!schema) return [];
  const branches = [...(schema.anyOf ?? []), ...(schema.oneOf ?? [])];
  return [
    ...branches.flatMap((branch) => declaredFields(branch, prefix)),
    ...(schema.items ? declaredFields(schema.items, `${prefix}[].`) : []),
    ...Object.entries(schema.properties ?? {}).flatMap(([key, inner]) => [
      `${prefix}${key}`,
      ...declaredFields(inner, `${prefix}${key}.`),
    ]),
  ];
}

/** A six-digit code that none of the accepted time steps around `timeMs` produces. */
function wrongCode(secret: string, timeMs: number): string {
  const accepted = [-1, 0, 1, 2].map((step) => totpCode(secret, { timeMs: timeMs + step * 30_000 }));
  return ['000000', '111111', '222222', '333333', '444444'].find(
    (code) => !accepted.includes(code),
  ) as string;
}

const sorted = (fields: string[]) => [...new Set(fields)].sort();

let sparekey: SpareKey;
let host: FastifyInstance;
let key: string;
/** Each API operation's response schemas by operationId, as the mounted routes declare them. */
const responseSchemas = new Map<string, Record<string, JsonSchema>>();

beforeAll(async () => {
  const entry = (await import(pathToFileURL(compiledPath('index.js')).href)) as Entry;
  sparekey = await entry.createSpareKey({
    database: { kind: 'sqlite', path: join(mkdtempSync(join(tmpdir(), 'sparekey-vocab-')), 'v.db') },
    secret: Buffer.alloc(32, 21).toString('base64'),
    kdfProfile: 'minimum',
  });
  await sparekey.admin.updateSettings({ enabled: true });
  // As docs/api.md tells a host: its router must let a path parameter of a host id's length through.
  host = Fastify({ routerOptions: { maxParamLength: 1024 } });
  host.addHook('onRoute', (route) => {
    const schema = route.schema as
      | { operationId?: string; response?: Record<string, JsonSchema> }
      | undefined;
    if (schema?.operationId && schema.response) responseSchemas.set(schema.operationId, schema.response);
  });
  await host.register(sparekey.fastifyPlugin, { prefix: '/sparekey' });
  const created = await sparekey.admin.createApiKey({ name: 'vocabulary', scopes: ['mfa:write'] });
  if (!created.ok) throw new Error(created.error);
  key = created.value.key;
});

afterAll(async () => {
  await host?.close();
  await sparekey?.close();
});

/** One JSON API call with the mfa:write key; `extra` fields go into the body of an accepted request too. */
async function api(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: object) {
  const response = await host.inject({
    method,
    url: `/sparekey/api/v1${path}`,
    headers: { authorization: `Bearer ${key}` },
    ...(body === undefined ? {} : { payload: body }),
  });
  return { status: response.statusCode, json: response.json() as Record<string, unknown> };
}

/** The library's value, or its error code (so a failure shows in the assertion). */
function succeeded<T>(result: { ok: true; value: T } | { ok: false; error: string }): T {
  if (!result.ok) throw new Error(`library: ${result.error}`);
  return result.value;
}

/** The same operation's library value and API answer have the same fields, all declared in its schema. */
function expectSameFields(
  operationId: string,
  status: number,
  library: unknown,
  answer: { status: number; json: unknown },
) {
  expect(answer.status, `${operationId}: ${JSON.stringify(answer.json)}`).toBe(status);
  expect(sorted(fieldsOf(answer.json)), operationId).toEqual(sorted(fieldsOf(library)));
  const schema = responseSchemas.get(operationId)?.[status];
  expect(schema, `${operationId} declares its ${status} answer`).toBeDefined();
  const declared = new Set(declaredFields(schema));
  expect(
    fieldsOf(library).filter((field) => !declared.has(field)),
    `${operationId}: undeclared fields`,
  ).toEqual([]);
}

type ParityCase = [
  string,
  () => Promise<{ ok: boolean; error?: string }>,
  () => Promise<{ status: number; json: Record<string, unknown> }>,
];

/** Codes out of their bounds (1 to 256 characters) on each operation that takes one. */
function codeBoundCases(lib: string, web: string, libFactor: string, apiFactor: string): ParityCase[] {
  const long = '1'.repeat(257);
  // What a host's JavaScript hands over when its request had no code.
  const missing = undefined as unknown as string;
  return [
    [
      'an empty authenticator code to confirm',
      () => sparekey.mfa.confirmTotp({ externalId: lib, factorId: libFactor, code: '' }),
      () => api('POST', `/external-users/${web}/factors/totp/${apiFactor}/confirm`, { code: '' }),
    ],
    [
      'an over-long authenticator code',
      () => sparekey.mfa.verifyTotp({ externalId: lib, code: long }),
      () => api('POST', `/external-users/${web}/factors/totp/verify`, { code: long }),
    ],
    [
      'an empty authenticator code to verify',
      () => sparekey.mfa.verifyTotp({ externalId: lib, code: '' }),
      () => api('POST', `/external-users/${web}/factors/totp/verify`, { code: '' }),
    ],
    [
      'no authenticator code at all',
      () => sparekey.mfa.verifyTotp({ externalId: lib, code: missing }),
      () => api('POST', `/external-users/${web}/factors/totp/verify`, {}),
    ],
    [
      'an empty recovery code',
      () => sparekey.recoveryCodes.verify({ externalId: lib, code: '' }),
      () => api('POST', `/external-users/${web}/recovery-codes/verify`, { code: '' }),
    ],
    [
      'an over-long recovery code',
      () => sparekey.recoveryCodes.verify({ externalId: lib, code: long }),
      () => api('POST', `/external-users/${web}/recovery-codes/verify`, { code: long }),
    ],
    [
      'no recovery code at all',
      () => sparekey.recoveryCodes.verify({ externalId: lib, code: missing }),
      () => api('POST', `/external-users/${web}/recovery-codes/verify`, {}),
    ],
  ];
}

/** Host ids no user can have: over 255 characters, empty, with a control character. */
function externalIdCases(): ParityCase[] {
  const over = 'h'.repeat(256);
  const far = 'h'.repeat(1000);
  return [
    [
      'a host id of 256 characters, to enroll',
      () => sparekey.mfa.enrollTotp({ externalId: over }),
      () => api('POST', `/external-users/${over}/factors/totp`),
    ],
    [
      'a host id of 256 characters, to ensure',
      () => sparekey.users.ensure({ externalId: over }),
      () => api('PUT', `/external-users/${over}`, {}),
    ],
    [
      'a host id of 1000 characters, to verify a code',
      () => sparekey.recoveryCodes.verify({ externalId: far, code: 'K-7Q2MX-9HD4T' }),
      () => api('POST', `/external-users/${far}/recovery-codes/verify`, { code: 'K-7Q2MX-9HD4T' }),
    ],
    [
      'a host id of 256 characters, to delete',
      () => sparekey.users.delete({ externalId: over }),
      () => api('DELETE', `/external-users/${over}`),
    ],
    [
      'an empty host id',
      () => sparekey.recoveryCodes.generate({ externalId: '' }),
      () => api('POST', '/external-users//recovery-codes'),
    ],
    [
      'a host id with a control character',
      () => sparekey.users.changeEmail({ externalId: 'a\u0001b', email: null }),
      () => api('PUT', '/external-users/a%01b/email', { email: null }),
    ],
  ];
}

/** SpareKey ids of nobody: unknown, over the path's 64 characters. */
function userIdCases(): ParityCase[] {
  const long = 'u'.repeat(65);
  return [
    [
      'a SpareKey id nobody has, to verify a recovery code',
      () => sparekey.recoveryCodes.verify({ userId: 'nobody', code: 'K-7Q2MX-9HD4T' }),
      () => api('POST', '/users/nobody/recovery-codes/verify', { code: 'K-7Q2MX-9HD4T' }),
    ],
    [
      'a SpareKey id nobody has, to verify an authenticator code',
      () => sparekey.mfa.verifyTotp({ userId: 'nobody', code: '123456' }),
      () => api('POST', '/users/nobody/factors/totp/verify', { code: '123456' }),
    ],
    [
      'a SpareKey id of 65 characters',
      () => sparekey.recoveryCodes.generate({ userId: long }),
      () => api('POST', `/users/${long}/recovery-codes`),
    ],
  ];
}

describe('one vocabulary: library (built entry) and JSON API, one flow by the host ids', () => {
  test('the result types are exported from the package entry', () => {
    expect(resultTypesAreExported).toBeTypeOf('function');
  });

  test('each operation answers with the same field names in the library and the API', async () => {
    const lib = 'vocab-library-user';
    const web = 'vocab-api-user';
    const now = Date.now();

    const ensured = succeeded(await sparekey.users.ensure({ externalId: lib, email: 'lib@example.test' }));
    expectSameFields(
      'ensureExternalUser',
      201,
      ensured,
      await api('PUT', `/external-users/${web}`, { email: 'api@example.test' }),
    );

    const enrolled = succeeded(await sparekey.mfa.enrollTotp({ externalId: lib }));
    const enrolledOverApi = await api('POST', `/external-users/${web}/factors/totp`);
    expectSameFields('enrollUserTotpByExternalId', 201, enrolled, enrolledOverApi);
    const apiEnrollment = enrolledOverApi.json as { factorId: string; secret: string };

    const confirmed = succeeded(
      await sparekey.mfa.confirmTotp({
        externalId: lib,
        factorId: enrolled.factorId,
        code: totpCode(enrolled.secret, { timeMs: now }),
      }),
    );
    expectSameFields(
      'confirmUserTotpByExternalId',
      200,
      confirmed,
      await api('POST', `/external-users/${web}/factors/totp/${apiEnrollment.factorId}/confirm`, {
        code: totpCode(apiEnrollment.secret, { timeMs: now }),
      }),
    );

    // The next time step: the confirming one was spent (each step is accepted once).
    const verifiedTotp = succeeded(
      await sparekey.mfa.verifyTotp({
        externalId: lib,
        code: totpCode(enrolled.secret, { timeMs: now + 30_000 }),
      }),
    );
    expectSameFields(
      'verifyUserTotpByExternalId',
      200,
      verifiedTotp,
      await api('POST', `/external-users/${web}/factors/totp/verify`, {
        code: totpCode(apiEnrollment.secret, { timeMs: now + 30_000 }),
      }),
    );

    const generated = succeeded(await sparekey.recoveryCodes.generate({ externalId: lib }));
    const generatedOverApi = await api('POST', `/external-users/${web}/recovery-codes`);
    expectSameFields('generateRecoveryCodesByExternalId', 201, generated, generatedOverApi);

    const used = succeeded(
      await sparekey.recoveryCodes.verify({ externalId: lib, code: generated.codes[0] as string }),
    );
    expectSameFields(
      'verifyRecoveryCodeByExternalId',
      200,
      used,
      await api('POST', `/external-users/${web}/recovery-codes/verify`, {
        code: (generatedOverApi.json.codes as string[])[0],
      }),
    );

    expectSameFields(
      'getRecoveryCodeStatusByExternalId',
      200,
      await sparekey.recoveryCodes.status({ externalId: lib }),
      await api('GET', `/external-users/${web}/recovery-codes`),
    );

    // The MFA status over the API is a part of the library's overview (which also serves the settings
    // page): every field it answers has the same name and place in the library's.
    const overview = await sparekey.mfa.overview({ externalId: lib });
    const status = await api('GET', `/external-users/${web}/mfa`);
    expect(status.status).toBe(200);
    expect(fieldsOf(overview)).toEqual(expect.arrayContaining(fieldsOf(status.json)));

    expectSameFields(
      'changeExternalUserEmail',
      200,
      succeeded(await sparekey.users.changeEmail({ externalId: lib, email: 'lib2@example.test' })),
      await api('PUT', `/external-users/${web}/email`, { email: 'api2@example.test' }),
    );

    expectSameFields(
      'resetMfaByExternalId',
      200,
      succeeded(
        await sparekey.mfa.reset({ externalId: lib, reason: 'ticket 21', context: { actorId: 'support' } }),
      ),
      await api('POST', `/external-users/${web}/mfa/reset`, { reason: 'ticket 21' }),
    );

    expectSameFields(
      'deleteUserByExternalId',
      200,
      succeeded(await sparekey.users.delete({ externalId: lib })),
      await api('DELETE', `/external-users/${web}`),
    );
  });

  test('the same bad input fails with the same error code in the library and the API', async () => {
    const lib = 'vocab-errors-library';
    const web = 'vocab-errors-api';
    const now = Date.now();
    const libUser = succeeded(await sparekey.users.ensure({ externalId: lib })).userId;
    expect((await api('PUT', `/external-users/${web}`, {})).status).toBe(201);
    const enrolled = succeeded(await sparekey.mfa.enrollTotp({ externalId: lib }));
    succeeded(
      await sparekey.mfa.confirmTotp({
        externalId: lib,
        factorId: enrolled.factorId,
        code: totpCode(enrolled.secret, { timeMs: now }),
      }),
    );
    const apiEnrollment = (await api('POST', `/external-users/${web}/factors/totp`)).json as {
      factorId: string;
      secret: string;
    };
    const confirmedOverApi = await api(
      'POST',
      `/external-users/${web}/factors/totp/${apiEnrollment.factorId}/confirm`,
      { code: totpCode(apiEnrollment.secret, { timeMs: now }) },
    );
    const libCodes = succeeded(await sparekey.recoveryCodes.generate({ externalId: lib })).codes;
    const apiCodes = (await api('POST', `/external-users/${web}/recovery-codes`)).json.codes as string[];
    expect(confirmedOverApi.status).toBe(200);
    await sparekey.recoveryCodes.verify({ externalId: lib, code: libCodes[1] as string });
    await api('POST', `/external-users/${web}/recovery-codes/verify`, { code: apiCodes[1] });

    const cases: ParityCase[] = [
      [
        'a second authenticator',
        () => sparekey.mfa.enrollTotp({ externalId: lib }),
        () => api('POST', `/external-users/${web}/factors/totp`),
      ],
      [
        'a used recovery code',
        () => sparekey.recoveryCodes.verify({ externalId: lib, code: libCodes[1] as string }),
        () => api('POST', `/external-users/${web}/recovery-codes/verify`, { code: apiCodes[1] }),
      ],
      [
        'a wrong authenticator code',
        () => sparekey.mfa.verifyTotp({ externalId: lib, code: wrongCode(enrolled.secret, now) }),
        () =>
          api('POST', `/external-users/${web}/factors/totp/verify`, {
            code: wrongCode(apiEnrollment.secret, now),
          }),
      ],
      [
        'a host id nobody has',
        () => sparekey.recoveryCodes.generate({ externalId: 'nobody-has-this-id' }),
        () => api('POST', '/external-users/nobody-has-this-id/recovery-codes'),
      ],
      [
        'an empty reset reason',
        () => sparekey.mfa.reset({ externalId: lib, reason: '', context: { actorId: 'support' } }),
        () => api('POST', `/external-users/${web}/mfa/reset`, { reason: '' }),
      ],
      [
        'an over-long reset reason',
        () =>
          sparekey.mfa.reset({ externalId: lib, reason: 'x'.repeat(501), context: { actorId: 'support' } }),
        () => api('POST', `/external-users/${web}/mfa/reset`, { reason: 'x'.repeat(501) }),
      ],
      [
        'an email that is no address',
        () => sparekey.users.changeEmail({ externalId: lib, email: 'not an address' }),
        () => api('PUT', `/external-users/${web}/email`, { email: 'not an address' }),
      ],
      [
        'an empty email',
        () => sparekey.users.ensure({ externalId: 'vocab-new', email: '' }),
        () => api('PUT', '/external-users/vocab-new-api', { email: '' }),
      ],
      // A code out of its bounds: the specific code, not invalid_request (and no throttle charge).
      ...codeBoundCases(lib, web, enrolled.factorId, apiEnrollment.factorId),
      // A host id no user can have: invalid_external_id, not user_not_found or a 414.
      ...externalIdCases(),
      // SpareKey's own id of nobody: user_not_found before any flow (it was invalid_code and
      // mfa_not_enabled in the library, and invalid_request over the API when over-long).
      ...userIdCases(),
    ];
    const table: { what: string; library: string | undefined; api: string }[] = [];
    for (const [what, library, overApi] of cases) {
      const fromLibrary = await library();
      const answer = await overApi();
      expect(fromLibrary.ok, what).toBe(false);
      table.push({ what, library: fromLibrary.error, api: (answer.json.error as { code: string }).code });
    }
    expect(table.filter((row) => row.api !== row.library)).toEqual([]);
    // The specific codes, as docs/api.md's error table states them.
    const codeOf = (what: string) => table.find((row) => row.what === what)?.library;
    expect(codeOf('an empty authenticator code to confirm')).toBe('invalid_code');
    expect(codeOf('an over-long authenticator code')).toBe('invalid_code');
    expect(codeOf('no recovery code at all')).toBe('malformed_code');
    expect(codeOf('a host id of 256 characters, to enroll')).toBe('invalid_external_id');
    // Refused at the edge on both sides: no attempt was charged or audited for the codes out of bounds;
    // the failed attempts of the library's user are the used recovery code and the wrong authenticator code.
    let log = '';
    for await (const chunk of sparekey.admin.exportAudit('jsonl')) log += chunk;
    const failed = log
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { action: string; userId: string | null })
      .filter((event) => event.userId === libUser && /_failed$/.test(event.action));
    expect(failed.map((event) => event.action)).toEqual(['recovery_code_failed', 'totp_failed']);
  });
});
