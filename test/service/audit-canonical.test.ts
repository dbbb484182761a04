import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { type AuditEventInput, canonicalAuditEvent, hashAuditEvent } from '../../src/core/audit.js';
import { auditEvent } from '../../src/service/audit/audit.js';
import { describeChainBreak, verifyAuditChain } from '../../src/service/audit/audit-log.js';
import { verifyStepUp } from '../../src/service/sign-in/step-up.js';
import { testEngines } from '../helpers/engines.js';
import { createTestEnvironment, createTestUser, type TestEnvironment } from '../helpers/service-deps.js';

/**
 * Issue 18.3: an audit event hashes a canonical form whose types are fixed by the event schema (ids are
 * strings, always), so no input can make the stored event and its hash disagree. Any JSON value, with
 * every string unit (lone surrogates, NUL included), is fed into every field a request can reach, on both
 * engines, and the chain must verify after each append, as `sparekey audit verify` checks it.
 */
const anyJson = fc.jsonValue({ stringUnit: 'binary', maxDepth: 3 });
const anyDetails = fc.oneof(
  fc.dictionary(fc.string({ unit: 'binary', maxLength: 8 }), anyJson, { maxKeys: 4 }),
  anyJson,
);
const anyInput = fc.record({
  userId: anyJson,
  actorId: anyJson,
  ip: anyJson,
  userAgent: anyJson,
  details: anyDetails,
});

async function expectChainVerifies(env: TestEnvironment): Promise<void> {
  const verification = await verifyAuditChain(env.deps.store);
  if (!verification.ok && verification.firstBreak) {
    throw new Error(describeChainBreak(verification.firstBreak));
  }
  expect(verification.ok).toBe(true);
}

describe.each(testEngines())('audit events in canonical form on %s', (engine) => {
  let env: TestEnvironment;
  beforeEach(async () => {
    env = await createTestEnvironment(engine);
  });
  afterEach(async () => env.close());

  test('any JSON value in any audited field is stored as its canonical form and the chain verifies after each append', async () => {
    let appended = 0;
    await fc.assert(
      fc.asyncProperty(anyInput, fc.boolean(), async (fields, throughService) => {
        const raw = {
          at: env.clock.now(),
          action: 'step_up_failed',
          outcome: 'failure',
          ...fields,
        } as unknown as AuditEventInput;
        // Both doors: the service's event builder (what every use case calls) and the store directly.
        const input = throughService
          ? auditEvent(raw.at, 'step_up_failed', 'failure', raw.userId, raw, raw.details)
          : raw;
        const stored = await env.deps.store.appendAuditEvent(input);
        appended += 1;
        await expectChainVerifies(env);
        const [readBack] = await env.deps.store.listAuditEvents({ limit: 1 });
        expect(readBack).toEqual({
          ...stored,
          chainSeq: appended,
          prevHash: readBack!.prevHash,
          hash: readBack!.hash,
        });
        expect(hashAuditEvent(readBack!.prevHash!, readBack!.chainSeq!, readBack!)).toBe(readBack!.hash);
        // Ids are strings or null, always; details values are JSON scalars.
        for (const id of [readBack!.userId, readBack!.actorId, readBack!.ip, readBack!.userAgent]) {
          expect(id === null || typeof id === 'string').toBe(true);
        }
        for (const value of Object.values(readBack!.details)) {
          expect(value === null || ['string', 'number', 'boolean'].includes(typeof value)).toBe(true);
        }
        await expectChainVerifies(env);
      }),
      { numRuns: 60 },
    );
    expect((await verifyAuditChain(env.deps.store)).checked).toBe(appended);
  });

  test('a numeric user id is stored and hashed as its text: "0", never 0 or "0.0"', async () => {
    const stored = await env.deps.store.appendAuditEvent({
      ...auditEvent(env.clock.now(), 'step_up_failed', 'failure', null, {}),
      userId: 0 as unknown as string,
      actorId: 1.5 as unknown as string,
      details: { nested: { b: 1, a: [2] } as unknown as string, gone: undefined as unknown as null },
    });
    expect(stored).toMatchObject({
      userId: '0',
      actorId: '1.5',
      details: { nested: '{"a":[2],"b":1}', gone: null },
    });
    const [readBack] = await env.deps.store.listAuditEvents({ limit: 1 });
    expect(readBack).toEqual(stored);
    await expectChainVerifies(env);
    expect((await env.deps.store.listAuditEvents({ limit: 1 }))[0]).toMatchObject({
      userId: '0',
      chainSeq: 1,
    });
  });

  test('the finding of issue 18.3: a step-up for user id 0 (a number from a JSON body) leaves the chain verifying', async () => {
    const user = await createTestUser(env);
    await verifyStepUp(env.deps, { userId: user.id, password: 'wrong', context: {} });
    const refused = await verifyStepUp(env.deps, {
      userId: 0 as unknown as string,
      password: 'x',
      context: { ip: '192.0.2.9' },
    });
    expect(refused).toEqual({ ok: false, error: 'step_up_failed' });
    const [event] = await env.deps.store.listAuditEvents({ limit: 1 });
    expect(event).toMatchObject({ action: 'step_up_failed', userId: '0', actorId: '0' });
    await expectChainVerifies(env);
  });

  test('an action, outcome or time outside the schema throws before anything is written', async () => {
    const valid = auditEvent(env.clock.now(), 'sign_in', 'success', 'u-1', {});
    for (const broken of [
      { ...valid, action: 'not_an_action' },
      { ...valid, outcome: 0 },
      { ...valid, at: new Date(Number.NaN) },
      { ...valid, at: 0 },
    ]) {
      await expect(env.deps.store.appendAuditEvent(broken as unknown as AuditEventInput)).rejects.toThrow(
        TypeError,
      );
    }
    expect(await env.deps.store.listAuditEvents({ limit: 10 })).toEqual([]);
    expect(() => canonicalAuditEvent(valid)).not.toThrow();
  });
});
