import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createApiKey } from '../../src/service/admin/api-keys.js';
import { configureRecoveryCodes } from '../helpers/mfa.js';
import { DocumentedAnswers } from '../helpers/openapi-conformance.js';
import { totpCode } from '../helpers/rfc6238.js';
import { createWebTestApp, type WebTestApp } from '../helpers/web-client.js';

const repository = join(import.meta.dirname, '../..');
const flowFile = join(import.meta.dirname, 'typed-client/flow.ts');

/**
 * What this test reads of typed-client/flow.ts. The flow is imported by a computed name, so the project's
 * type check does not follow it to the types it imports (they exist only once the test generated them);
 * the flow is type-checked here instead, against those generated types.
 */
interface FlowModule {
  driveTwoFactorFlow(input: {
    baseUrl: string;
    mfaWriteKey: string;
    externalId: string;
    authenticatorCode: (secretBase32: string) => string;
    fetch?: (request: Request) => Promise<Response>;
  }): Promise<{
    steps: { name: string; status: number; code?: string }[];
    created?: boolean;
    createdAgain?: boolean;
    enrollment?: { factorId: string; secret: string; uri: string };
    firstCodes: string[];
    codes: string[];
    outcome?: { policy: string; remaining?: number };
    remaining?: number;
    factorKinds?: string[];
    reset?: { factorsRemoved: number; sessionsEnded: number };
    mfaAfterReset?: boolean;
    deleted?: Record<string, number>;
  }>;
}
const { driveTwoFactorFlow } = (await import(flowFile)) as FlowModule;

/** The diagnostics of type-checking `file` strictly, as the project does (tsconfig.json). */
function typeErrors(file: string): string[] {
  const program = ts.createProgram([file], {
    strict: true,
    noUncheckedIndexedAccess: true,
    verbatimModuleSyntax: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: ['node'],
    skipLibCheck: true,
    noEmit: true,
  });
  return ts
    .getPreEmitDiagnostics(program)
    .map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
}

/**
 * Issue 21.3: a client generated from the served /openapi.json (openapi-typescript + openapi-fetch) type-checks
 * against a host backend's full flow and drives it over HTTP: enroll, confirm, generate, verify, status,
 * reset, delete, by the host's own id with an `mfa:write` key.
 */
describe('a typed client generated from /openapi.json (issue 21.3)', () => {
  let web: WebTestApp;
  let baseUrl: string;
  let document: Record<string, unknown>;
  let workDir: string;
  beforeAll(async () => {
    web = await createWebTestApp();
    await configureRecoveryCodes(web.env);
    await web.app.listen({ host: '127.0.0.1', port: 0 });
    baseUrl = `http://127.0.0.1:${(web.app.server.address() as AddressInfo).port}`;
    document = (await (await fetch(`${baseUrl}/openapi.json`)).json()) as Record<string, unknown>;
    // Inside the repository (ignored by git), so the copy resolves openapi-fetch from its node_modules.
    mkdirSync(join(repository, '.tmp'), { recursive: true });
    workDir = mkdtempSync(join(repository, '.tmp', 'typed-client-'));
  });
  afterAll(async () => {
    if (workDir) rmSync(workDir, { recursive: true, force: true });
    await web?.close();
  });

  test('openapi-typescript generates types from the served document, and the flow type-checks against them', async () => {
    const generated = astToString(await openapiTS(document as never));
    expect(generated).toContain('"/api/v1/external-users/{externalId}/factors/totp": {');
    // The error code is a closed union a client can switch on, not a string.
    expect(generated).toMatch(/code: "invalid_code" \| "malformed_code" \| "code_already_used"/);
    writeFileSync(join(workDir, 'sparekey-api.ts'), generated);
    copyFileSync(flowFile, join(workDir, 'flow.ts'));
    expect(typeErrors(join(workDir, 'flow.ts'))).toEqual([]);
    // The check has teeth: a call the document does not describe is a type error.
    writeFileSync(
      join(workDir, 'wrong.ts'),
      `import createClient from 'openapi-fetch';
import type { paths } from './sparekey-api.js';
const api = createClient<paths>({ baseUrl: 'http://x' });
await api.POST('/api/v1/external-users/{externalId}/recovery-codes/verify', {
  params: { path: { externalId: 'a' } },
  body: { secretBase32: 'x' },
});
await api.GET('/api/v1/users/by-email/{email}', { params: { path: { email: 'a@b.c' } } });
`,
    );
    const wrong = typeErrors(join(workDir, 'wrong.ts'));
    expect(wrong.join('\n')).toMatch(/secretBase32/);
    expect(wrong.join('\n')).toMatch(/by-email/);
  }, 120_000);

  test('the generated client drives enroll, confirm, generate, verify, status, reset and delete by host id with an mfa:write key', async () => {
    const key = await createApiKey(web.env.deps, {
      name: 'host backend',
      scopes: ['mfa:write'],
      context: {},
    });
    if (!key.ok) throw new Error(key.error);
    const flow = await driveTwoFactorFlow({
      baseUrl,
      mfaWriteKey: key.value.key,
      externalId: 'host-user-42',
      // The app's side, by RFC 6238 written out in the tests, not SpareKey's own TOTP code.
      authenticatorCode: (secret) => totpCode(secret, { timeMs: web.env.clock.nowMs }),
    });
    expect(flow.steps.map(({ name, status, code }) => [name, status, code])).toEqual([
      ['ensure', 201, undefined],
      ['ensure again', 200, undefined],
      ['enroll TOTP', 201, undefined],
      ['confirm TOTP', 200, undefined],
      ['generate codes', 201, undefined],
      ['verify a code', 200, undefined],
      ['verify the same code again', 409, 'code_already_used'],
      ['verify with an extra field', 400, 'invalid_request'],
      ['status', 200, undefined],
      ['MFA status', 200, undefined],
      ['reset', 200, undefined],
      ['MFA status after reset', 200, undefined],
      ['delete user', 200, undefined],
      ['status after delete', 404, 'user_not_found'],
    ]);
    expect(flow).toMatchObject({ created: true, createdAgain: false, factorKinds: ['totp'] });
    expect(flow.enrollment?.uri).toMatch(/^otpauth:\/\/totp\//);
    // Generating replaced the first set confirm returned; one code of the new set is used.
    expect(flow.codes).toHaveLength(flow.firstCodes.length);
    expect(flow.codes.some((code) => flow.firstCodes.includes(code))).toBe(false);
    expect(flow.outcome).toMatchObject({ policy: 'continue', remaining: flow.codes.length - 1 });
    expect(flow.remaining).toBe(flow.codes.length - 1);
    expect(flow.reset).toEqual({ factorsRemoved: 1, sessionsEnded: 0 });
    expect(flow.mfaAfterReset).toBe(false);
    expect(flow.deleted).toMatchObject({ factors: 0, recoveryCodeSets: 0 });
    expect(await web.env.deps.store.findUserByExternalId('host-user-42')).toBeUndefined();
  });

  test('every answer of the flow is declared by its operation in the same document', async () => {
    const checker = new DocumentedAnswers(document);
    const key = await createApiKey(web.env.deps, { name: 'checked', scopes: ['mfa:write'], context: {} });
    if (!key.ok) throw new Error(key.error);
    const problems: string[] = [];
    const recording = async (request: Request) => {
      const response = await fetch(request);
      const problem = checker.problemWith(request.method, new URL(request.url).pathname, {
        statusCode: response.status,
        headers: Object.fromEntries(response.headers),
        body: await response.clone().text(),
      });
      if (problem) problems.push(problem);
      return response;
    };
    const flow = await driveTwoFactorFlow({
      baseUrl,
      mfaWriteKey: key.value.key,
      externalId: 'host-user-43',
      authenticatorCode: (secret) => totpCode(secret, { timeMs: web.env.clock.nowMs }),
      fetch: recording,
    });
    expect(flow.steps).toHaveLength(14);
    expect(problems).toEqual([]);
  });
});
