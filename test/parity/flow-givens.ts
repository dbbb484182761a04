import { TEST_PASSWORD } from '../helpers/web-flows.js';
import { freshUser, type ParityUser, type ParityWorld, setPolicy } from './parity-world.js';

/** The accounts the flows of edge-parity.test.ts start from, made through the service. */

export const NEW_PASSWORD = 'lantern-meadow-softly-42';
/** A factor id no account has. */
export const MISSING_FACTOR = '00000000-0000-4000-8000-000000000000';

/** An address with no account yet (sign-up creates it; the runner learns its id afterwards). */
export async function newAddress(_world: ParityWorld, label: string): Promise<ParityUser> {
  return {
    id: '',
    email: `${label}@parity.test`,
    password: TEST_PASSWORD,
    recoveryCodes: [],
    factors: {},
    totpNow: () => {
      throw new Error('no authenticator');
    },
  };
}
export const plain = (world: ParityWorld, label: string) => freshUser(world, label);
export const withTotp = (world: ParityWorld, label: string) => freshUser(world, label, { with: ['totp'] });
export const recoveryUnder =
  (policy: 'continue' | 'disable_mfa' | 'rotate') => async (w: ParityWorld, l: string) => {
    await setPolicy(w, { policy });
    return withTotp(w, l);
  };
/** A code that is not the authenticator's current one. */
export const wrongCode = (user: ParityUser) =>
  String((Number(user.totpNow()) + 1) % 1_000_000).padStart(6, '0');

export const withEmailCodes = (world: ParityWorld, label: string) =>
  freshUser(world, label, { with: ['email'] });
export const withTotpAndEmailCodes = (world: ParityWorld, label: string) =>
  freshUser(world, label, { with: ['totp', 'email'] });
/** The user's first recovery code with its last symbol changed: well formed, in nobody's set. */
export const wrongRecoveryCode = (user: ParityUser) => {
  const code = user.recoveryCodes[0] as string;
  return `${code.slice(0, -1)}${code.endsWith('A') ? 'B' : 'A'}`;
};
/** An account whose role the operator marked "must set up two-factor" (undo with `ungate`). */
export const gatedAccount = async (world: ParityWorld, label: string) => {
  await setPolicy(world, { mfaRequiredRoles: ['subscriber'] });
  return plain(world, label);
};
export const ungate = (world: ParityWorld) => setPolicy(world, { mfaRequiredRoles: [] });
