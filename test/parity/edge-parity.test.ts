import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { needsFirstAdmin } from '../../src/service/accounts/first-admin.js';
import { testEngines } from '../helpers/engines.js';
import { authenticatorCode } from '../helpers/mfa.js';
import type { Outcome } from './edge-clients.js';
import {
  MISSING_FACTOR,
  NEW_PASSWORD,
  newAddress,
  plain,
  recoveryUnder,
  withEmailCodes,
  withTotp,
  withTotpAndEmailCodes,
  wrongCode,
  wrongRecoveryCode,
} from './flow-givens.js';
import { type FlowRow, observeFlow } from './observe-flow.js';
import { createParityWorld, lastEmailedCode, type ParityWorld, setPolicy } from './parity-world.js';

/**
 * Issue 20, "edge parity": every user-visible flow, run once through the pages (form posts with CSRF and
 * cookies) and once through the JSON API (/api/v1 with the session's bearer token), must leave the same
 * state change in the database, append the same audit events and answer the same outcome. Each row names
 * the flow, says how each edge runs it, and what both must answer; the runner compares the rest.
 */

const FLOWS: FlowRow[] = [
  {
    // Drift 1. Runs first: the world's install still has its one-time setup link outstanding.
    flow: 'sign-up is refused while the one-time setup link is outstanding',
    given: async (world, label) => {
      if (!(await needsFirstAdmin(world.env.deps))) throw new Error('run this row first: an account exists');
      return newAddress(world, label);
    },
    start: 'signed_out',
    pages: (edge, u) => edge.form('/sign-up', { email: u.email, password: u.password }),
    json: (edge, u) => edge.call('/auth/sign-up', { email: u.email, password: u.password }),
    outcome: 'refused 409',
    changesNothing: true,
  },
  {
    flow: 'sign-up with a new address',
    given: async (world, label) => {
      await world.openSignUp();
      return newAddress(world, label);
    },
    start: 'signed_out',
    pages: (edge, u) => edge.form('/sign-up', { email: u.email, password: u.password }),
    json: (edge, u) => edge.call('/auth/sign-up', { email: u.email, password: u.password }),
    outcome: 'ok',
  },
  {
    flow: 'sign-up with an address that has an account (same answer, no second account)',
    given: plain,
    start: 'signed_out',
    pages: (edge, u) => edge.form('/sign-up', { email: u.email, password: NEW_PASSWORD }),
    json: (edge, u) => edge.call('/auth/sign-up', { email: u.email, password: NEW_PASSWORD }),
    outcome: 'ok',
  },
  {
    flow: 'sign-in with a password only',
    given: plain,
    start: 'signed_out',
    pages: (edge, u) => edge.signIn(u),
    json: (edge, u) => edge.signIn(u),
    outcome: 'ok',
  },
  {
    flow: 'sign-in with a wrong password',
    given: plain,
    start: 'signed_out',
    pages: (edge, u) => edge.signIn({ ...u, password: NEW_PASSWORD }),
    json: (edge, u) => edge.signIn({ ...u, password: NEW_PASSWORD }),
    outcome: 'refused 401',
  },
  {
    flow: 'sign-in + authenticator code',
    given: withTotp,
    start: 'second_factor',
    pages: (edge, u) => edge.form('/sign-in/two-factor', { code: u.totpNow() }, '/sign-in/two-factor/totp'),
    json: (edge, u) => edge.call('/auth/second-factor/totp', { code: u.totpNow() }),
    outcome: 'ok',
  },
  {
    flow: 'sign-in + a wrong authenticator code',
    given: withTotp,
    start: 'second_factor',
    pages: (edge, u) => edge.form('/sign-in/two-factor', { code: wrongCode(u) }, '/sign-in/two-factor/totp'),
    json: (edge, u) => edge.call('/auth/second-factor/totp', { code: wrongCode(u) }),
    outcome: 'refused 401',
  },
  {
    flow: 'sign-in + emailed code (real SMTP)',
    given: withEmailCodes,
    start: 'second_factor',
    pages: async (edge, u) => [
      await edge.form('/sign-in/two-factor', {}, '/sign-in/two-factor/email/send'),
      // The page the send answered with holds the code form (and its CSRF token).
      await edge.submit('/sign-in/two-factor/email', { code: lastEmailedCode(edge.world, u.email) }),
    ],
    json: async (edge, u) => [
      await edge.call('/auth/second-factor/email/send'),
      await edge.call('/auth/second-factor/email', { code: lastEmailedCode(edge.world, u.email) }),
    ],
    outcome: ['ok', 'ok'],
  },
  {
    flow: 'sign-in + a wrong recovery code',
    given: withTotp,
    start: 'second_factor',
    pages: (edge, u) => edge.form('/sign-in/recovery', { code: wrongRecoveryCode(u) }),
    json: (edge, u) => edge.call('/auth/second-factor/recovery-code', { code: wrongRecoveryCode(u) }),
    outcome: 'refused 401',
  },
  ...(['continue', 'disable_mfa', 'rotate'] as const).map(
    (policy): FlowRow => ({
      flow: `sign-in + recovery code, post-recovery policy ${policy}`,
      given: recoveryUnder(policy),
      start: 'second_factor',
      pages: (edge, u) => edge.form('/sign-in/recovery', { code: u.recoveryCodes[0] as string }),
      json: (edge, u) =>
        edge.call('/auth/second-factor/recovery-code', { code: u.recoveryCodes[0] as string }),
      outcome: 'ok',
      after: (world) => setPolicy(world, { policy: 'continue' }),
    }),
  ),
  {
    flow: 'enroll and confirm an authenticator app',
    given: plain,
    start: 'signed_in',
    pages: async (edge) => {
      const started = await edge.form('/settings/two-factor', {}, '/settings/two-factor/totp/start');
      const page = edge.browser.lastPage;
      const secret = page.match(/data-secret="([A-Z2-7]+)"/)?.[1] as string;
      const factorId = page.match(/name="factorId" value="([^"]+)"/)?.[1] as string;
      const code = authenticatorCode(secret, edge.world.env.clock.nowMs);
      return [started, await edge.submit('/settings/two-factor/totp/confirm', { factorId, code })];
    },
    json: async (edge) => {
      const started = await edge.call('/me/factors/totp');
      const { factorId, secret } = edge.last as { factorId: string; secret: string };
      const code = authenticatorCode(secret, edge.world.env.clock.nowMs);
      return [started, await edge.call(`/me/factors/totp/${factorId}/confirm`, { code })];
    },
    outcome: ['ok', 'ok'],
  },
  {
    flow: 'enroll and confirm emailed codes (real SMTP)',
    given: plain,
    start: 'signed_in',
    pages: async (edge, u) => {
      const started = await edge.form('/settings/two-factor', {}, '/settings/two-factor/email/start');
      const factorId = edge.browser.lastPage.match(/name="factorId" value="([^"]+)"/)?.[1] as string;
      const code = lastEmailedCode(edge.world, u.email);
      return [started, await edge.submit('/settings/two-factor/email/confirm', { factorId, code })];
    },
    json: async (edge, u) => {
      const started = await edge.call('/me/factors/email');
      const code = lastEmailedCode(edge.world, u.email);
      return [started, await edge.call(`/me/factors/email/${edge.last.factorId}/confirm`, { code })];
    },
    outcome: ['ok', 'ok'],
  },
  {
    flow: 'regenerate recovery codes after step-up (password)',
    given: withTotp,
    start: 'signed_in',
    pages: (edge, u) => edge.form('/settings/two-factor/recovery-codes/regenerate', { password: u.password }),
    json: (edge, u) => edge.call('/me/recovery-codes', { password: u.password }),
    outcome: 'ok',
    rotatesToken: true,
  },
  {
    flow: 'remove a factor after step-up (password)',
    given: withTotpAndEmailCodes,
    start: 'signed_in',
    pages: (edge, u) =>
      edge.form(`/settings/two-factor/factors/${u.factors.email}/remove`, { password: u.password }),
    json: (edge, u) => edge.call(`/me/factors/${u.factors.email}/remove`, { password: u.password }),
    outcome: 'ok',
    rotatesToken: true,
  },
  {
    flow: 'remove a factor that does not exist: refused before the step-up is spent',
    given: withTotp,
    start: 'signed_in',
    // The same authenticator code, offered again to a real action, shows whether the refusal spent it.
    pages: async (edge, u) => {
      const code = u.totpNow();
      return [
        await edge.form(`/settings/two-factor/factors/${MISSING_FACTOR}/remove`, { totpCode: code }),
        await edge.form('/settings/two-factor/recovery-codes/regenerate', { totpCode: code }),
      ];
    },
    json: async (edge, u) => {
      const code = u.totpNow();
      return [
        await edge.call(`/me/factors/${MISSING_FACTOR}/remove`, { totpCode: code }),
        await edge.call('/me/recovery-codes', { totpCode: code }),
      ];
    },
    outcome: ['refused 404', 'ok'],
  },
  {
    flow: 'turn two-factor off after step-up (password)',
    given: withTotp,
    start: 'signed_in',
    pages: (edge, u) => edge.form('/settings/two-factor/disable', { password: u.password }),
    json: (edge, u) => edge.call('/me/mfa/disable', { password: u.password }),
    outcome: 'ok',
    rotatesToken: true,
  },
  {
    flow: 'change password (the session gets a new token)',
    given: plain,
    start: 'signed_in',
    pages: (edge, u) =>
      edge.form('/settings/password', { currentPassword: u.password, newPassword: NEW_PASSWORD }),
    json: (edge, u) => edge.call('/me/password', { currentPassword: u.password, newPassword: NEW_PASSWORD }),
    outcome: 'ok',
    rotatesToken: true,
  },
  {
    flow: 'sign out while the second step is owed',
    given: withTotp,
    start: 'second_factor',
    pages: (edge) => edge.form('/sign-in/two-factor', {}, '/sign-out'),
    json: (edge) => edge.call('/auth/sign-out'),
    outcome: 'ok',
  },
  {
    flow: 'sign out',
    given: plain,
    start: 'signed_in',
    pages: (edge) => edge.form('/settings/two-factor', {}, '/sign-out'),
    json: (edge) => edge.call('/auth/sign-out'),
    outcome: 'ok',
  },
];

describe.each(testEngines())('edge parity on %s: the pages and the JSON API do the same', (engine) => {
  let world: ParityWorld;
  beforeAll(async () => {
    world = await createParityWorld(engine);
  });
  afterAll(async () => world?.close());

  test.each(FLOWS.map((row) => [row.flow, row] as const))('%s', async (_name, row) => {
    try {
      const pages = await observeFlow(world, row, 'pages');
      const json = await observeFlow(world, row, 'json');
      const expected: Outcome[] = [row.outcome].flat();
      expect([pages.outcome].flat(), 'pages: outcome').toEqual(expected);
      expect([json.outcome].flat(), 'JSON API: outcome').toEqual(expected);
      expect(json.stateChange, 'state change: JSON API vs pages').toEqual(pages.stateChange);
      expect(json.audit, 'audit events: JSON API vs pages').toEqual(pages.audit);
      // Two runs that changed nothing agree vacuously: only a row that says so may.
      const changed = pages.stateChange.length + pages.audit.length > 0;
      expect(changed, 'the flow changed state or appended audit events').toBe(!row.changesNothing);
      if (row.rotatesToken) {
        expect(pages.token, 'pages: token rotation').toEqual({ before: 'dead', now: 'alive' });
        expect(json.token, 'JSON API: token rotation').toEqual({ before: 'dead', now: 'alive' });
      }
    } finally {
      await row.after?.(world);
    }
  });
});
