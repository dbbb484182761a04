import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { needsFirstAdmin } from '../../src/service/accounts/first-admin.js';
import { testEngines } from '../helpers/engines.js';
import type { Outcome } from './edge-clients.js';
import { type FlowRow, observeFlow } from './observe-flow.js';
import {
  createParityWorld,
  freshUser,
  lastEmailedCode,
  type ParityUser,
  type ParityWorld,
  setPolicy,
} from './parity-world.js';

/**
 * Issue 20, "edge parity": every user-visible flow, run once through the pages (form posts with CSRF and
 * cookies) and once through the JSON API (/api/v1 with the session's bearer token), must leave the same
 * state change in the database, append the same audit events and answer the same outcome. Each row names
 * the flow, says how each edge runs it, and what both must answer; the runner compares the rest.
 */

const NEW_PASSWORD = 'lantern-meadow-softly-42';

/** An address with no account yet (sign-up creates it; the runner learns its id afterwards). */
async function newAddress(_world: ParityWorld, label: string): Promise<ParityUser> {
  return {
    id: '',
    email: `${label}@parity.test`,
    password: 'plum-harbor-quietly-77',
    recoveryCodes: [],
    factors: {},
    totpNow: () => {
      throw new Error('no authenticator');
    },
  };
}
const plain = (world: ParityWorld, label: string) => freshUser(world, label);
const withTotp = (world: ParityWorld, label: string) => freshUser(world, label, { with: ['totp'] });
const recoveryUnder =
  (policy: 'continue' | 'disable_mfa' | 'rotate') => async (w: ParityWorld, l: string) => {
    await setPolicy(w, { policy });
    return withTotp(w, l);
  };
/** A code that is not the authenticator's current one. */
const wrongCode = (user: ParityUser) => String((Number(user.totpNow()) + 1) % 1_000_000).padStart(6, '0');

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
    given: (world, label) => freshUser(world, label, { with: ['email'] }),
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
