import { describe, expect, it } from 'vitest';
import { systemRandom } from '../service/ports/system-random.js';
import type { RandomSource } from './random.js';
import {
  DEFAULT_RECOVERY_CODE_FORMAT,
  generateRecoveryCodes,
  normalizeRecoveryCode,
  type RecoveryCodeFormat,
} from './recovery-code.js';
import {
  argon2idKdf,
  digestRecoveryCode,
  hashRecoveryCodes,
  type Kdf,
  MINIMUM_TEST_ARGON2ID_PARAMS,
  OWASP_ARGON2ID_PARAMS,
  parseRecoveryCodeDigest,
  RECOVERY_CODE_SALT_BYTES,
  unmatchableRecoveryCodeDigest,
  verifyRecoveryCodeDigest,
} from './recovery-code-digest.js';

const params = MINIMUM_TEST_ARGON2ID_PARAMS;
const pepper = systemRandom.bytes(32);

function countingKdf(inner: Kdf = argon2idKdf): Kdf & { calls: number } {
  const counter = {
    calls: 0,
    derive: (...args: Parameters<Kdf['derive']>) => {
      counter.calls++;
      return inner.derive(...args);
    },
  };
  return counter;
}

async function issueSet(count: number, format: RecoveryCodeFormat = DEFAULT_RECOVERY_CODE_FORMAT) {
  const codes = generateRecoveryCodes(systemRandom, { count, format });
  const stored = await hashRecoveryCodes(argon2idKdf, systemRandom, codes, params, pepper);
  return { codes, digestBySlot: new Map(stored.map(({ slot, digest }) => [slot, digest])), stored };
}

describe('recovery-code digest', () => {
  it('req 6: the production parameters are at least the OWASP Argon2id minimum', () => {
    expect(OWASP_ARGON2ID_PARAMS).toEqual({ memoryCostKiB: 19456, timeCost: 2, parallelism: 1 });
  });

  it.each([
    [1, DEFAULT_RECOVERY_CODE_FORMAT],
    [10, DEFAULT_RECOVERY_CODE_FORMAT],
    [50, { ...DEFAULT_RECOVERY_CODE_FORMAT, slotLength: 2 as const }],
  ])('req 15: verifying a typed code from a set of %i costs exactly one KDF call', async (count, format) => {
    const { codes, digestBySlot } = await issueSet(count, format);
    const typed = codes.at(-1)!.display.toLowerCase();
    const normalized = normalizeRecoveryCode(typed, format);
    if (!normalized.ok) throw new Error('generated code did not normalize');
    const digest = digestBySlot.get(normalized.slot)!;

    const kdf = countingKdf();
    expect(await verifyRecoveryCodeDigest(kdf, { code: normalized.code, digest, pepper })).toBe(true);
    expect(kdf.calls).toBe(1);

    const wrongSecret = `${normalized.code.slice(0, -1)}${normalized.code.endsWith('0') ? '1' : '0'}`;
    expect(await verifyRecoveryCodeDigest(kdf, { code: wrongSecret, digest, pepper })).toBe(false);
    expect(kdf.calls).toBe(2);
  });

  it('req 4: every code gets its own 16-byte salt, unique across the set, and the hash is 32 bytes', async () => {
    const { stored } = await issueSet(50, { ...DEFAULT_RECOVERY_CODE_FORMAT, slotLength: 2 });
    const parsed = stored.map(({ digest }) => parseRecoveryCodeDigest(digest)!);
    expect(parsed.every(({ salt }) => salt.length === RECOVERY_CODE_SALT_BYTES)).toBe(true);
    expect(parsed.every(({ hash }) => hash.length === 32)).toBe(true);
    expect(new Set(parsed.map(({ salt }) => Buffer.from(salt).toString('hex'))).size).toBe(50);
  });

  it('req 4: a salt the random source repeats within a set is redrawn; endless repeats fail loudly', async () => {
    const salts = [new Uint8Array(16).fill(1), new Uint8Array(16).fill(1), new Uint8Array(16).fill(2)];
    const repeating: RandomSource = { ...systemRandom, bytes: () => salts.shift() ?? new Uint8Array(16) };
    const codes = generateRecoveryCodes(systemRandom, { count: 2, format: DEFAULT_RECOVERY_CODE_FORMAT });
    const stored = await hashRecoveryCodes(argon2idKdf, repeating, codes, params, pepper);
    expect(stored.map(({ digest }) => parseRecoveryCodeDigest(digest)!.salt[0])).toEqual([1, 2]);

    const constant: RandomSource = { ...systemRandom, bytes: () => new Uint8Array(16) };
    await expect(hashRecoveryCodes(argon2idKdf, constant, codes, params, pepper)).rejects.toThrow(
      /not a CSPRNG/,
    );
  });

  it('req 4: the stored digest never contains the code, its secret or its display form, in any case', async () => {
    const { codes, stored } = await issueSet(10);
    for (const [index, { code, display }] of codes.entries()) {
      const digest = stored[index]!.digest.toUpperCase();
      for (const secretForm of [code, code.slice(1), display]) expect(digest).not.toContain(secretForm);
    }
  });

  it('req 5: the right code with the wrong pepper does not verify', async () => {
    const { codes, stored } = await issueSet(1);
    const code = codes[0]!.code;
    const digest = stored[0]!.digest;
    expect(await verifyRecoveryCodeDigest(argon2idKdf, { code, digest, pepper })).toBe(true);
    const otherPepper = systemRandom.bytes(32);
    expect(await verifyRecoveryCodeDigest(argon2idKdf, { code, digest, pepper: otherPepper })).toBe(false);
    await expect(
      verifyRecoveryCodeDigest(argon2idKdf, { code, digest, pepper: new Uint8Array(8) }),
    ).rejects.toThrow(RangeError);
  });

  it('req 6: parameters are read from the stored digest, so rows written with other costs still verify', async () => {
    const code = 'K7Q2MX9HD4T';
    const raised = { memoryCostKiB: 64, timeCost: 2, parallelism: 2 };
    const digest = await digestRecoveryCode(argon2idKdf, {
      code,
      salt: systemRandom.bytes(16),
      params: raised,
      pepper,
    });
    expect(parseRecoveryCodeDigest(digest)!.params).toEqual(raised);
    expect(await verifyRecoveryCodeDigest(argon2idKdf, { code, digest, pepper })).toBe(true);
  });

  it('a tampered digest does not verify', async () => {
    const code = 'K7Q2MX9HD4T';
    const digest = await digestRecoveryCode(argon2idKdf, {
      code,
      salt: systemRandom.bytes(16),
      params,
      pepper,
    });
    const [, version, algorithm, costs, salt, hash] = digest.split('$') as string[];
    const flip = (text: string) => (text[0] === 'A' ? 'B' : 'A') + text.slice(1);
    const tampered = [
      ['', version, algorithm, costs, salt, flip(hash!)],
      ['', version, algorithm, costs, flip(salt!), hash],
      ['', version, algorithm, 'm=8,t=2,p=1', salt, hash],
      ['', 'v2', algorithm, costs, salt, hash],
      ['', version, 'argon2i', costs, salt, hash],
    ].map((parts) => parts.join('$'));
    for (const wrong of tampered) {
      expect(await verifyRecoveryCodeDigest(argon2idKdf, { code, digest: wrong, pepper })).toBe(false);
    }
  });

  const salt = 'AAECAwQFBgcICQoLDA0ODw';
  const hash = 'hd5/PgFZsfBHCzAD0RjVNJDTOXrr8puUIZoujHoRV7s';
  it.each([
    ['empty', ''],
    ['an unknown version', `$v2$argon2id$m=8,t=1,p=1$${salt}$${hash}`],
    ['another argon2 variant', `$v1$argon2i$m=8,t=1,p=1$${salt}$${hash}`],
    ['a PHC string without our version', `$argon2id$v=19$m=8,t=1,p=1$${salt}$${hash}`],
    ['zero memory', `$v1$argon2id$m=0,t=1,p=1$${salt}$${hash}`],
    ['a leading zero', `$v1$argon2id$m=08,t=1,p=1$${salt}$${hash}`],
    ['zero passes', `$v1$argon2id$m=8,t=0,p=1$${salt}$${hash}`],
    ['256 lanes', `$v1$argon2id$m=4096,t=1,p=256$${salt}$${hash}`],
    ['less than 8 KiB per lane', `$v1$argon2id$m=8,t=1,p=2$${salt}$${hash}`],
    ['memory above 32 bits', `$v1$argon2id$m=4294967296,t=1,p=1$${salt}$${hash}`],
    ['parameters in another order', `$v1$argon2id$t=1,m=8,p=1$${salt}$${hash}`],
    ['a missing hash', `$v1$argon2id$m=8,t=1,p=1$${salt}`],
    ['an extra field', `$v1$argon2id$m=8,t=1,p=1$${salt}$${hash}$x`],
    ['base64 padding', `$v1$argon2id$m=8,t=1,p=1$${salt}==$${hash}`],
    ['URL-safe base64', `$v1$argon2id$m=8,t=1,p=1$${salt}$${hash.replace('/', '_')}`],
    ['non-canonical base64 tail', `$v1$argon2id$m=8,t=1,p=1$${salt.slice(0, -1)}x$${hash}`],
    ['an 8-byte salt', `$v1$argon2id$m=8,t=1,p=1$AAECAwQFBgc$${hash}`],
    ['a 31-byte hash', `$v1$argon2id$m=8,t=1,p=1$${salt}$${hash.slice(0, -2)}`],
    ['trailing whitespace', `$v1$argon2id$m=8,t=1,p=1$${salt}$${hash}\n`],
  ])('parsing rejects %s, and verification returns false without running the KDF', async (_name, digest) => {
    expect(parseRecoveryCodeDigest(digest)).toBeUndefined();
    const kdf = countingKdf();
    expect(await verifyRecoveryCodeDigest(kdf, { code: 'K7Q2MX9HD4T', digest, pepper })).toBe(false);
    expect(kdf.calls).toBe(0);
  });

  it('parses a well-formed digest (the control for the table above)', () => {
    expect(parseRecoveryCodeDigest(`$v1$argon2id$m=8,t=1,p=1$${salt}$${hash}`)).toMatchObject({
      params: { memoryCostKiB: 8, timeCost: 1, parallelism: 1 },
    });
  });

  it.each([
    ['a non-canonical code', { code: 'k-7q2mx-9hd4t' }],
    ['a short salt', { salt: new Uint8Array(8) }],
    ['a short pepper', { pepper: new Uint8Array(13) }],
    ['invalid parameters', { params: { memoryCostKiB: 4, timeCost: 1, parallelism: 1 } }],
  ])('digestRecoveryCode refuses %s (programmer misuse)', async (_name, change) => {
    const input = { code: 'K7Q2MX9HD4T', salt: new Uint8Array(16), params, pepper, ...change };
    await expect(digestRecoveryCode(argon2idKdf, input)).rejects.toThrow(RangeError);
  });
});

describe('unmatchableRecoveryCodeDigest', () => {
  it('is a parseable v1 digest with the given parameters that no code matches, at one KDF run (req 15)', async () => {
    const digest = unmatchableRecoveryCodeDigest(MINIMUM_TEST_ARGON2ID_PARAMS);
    expect(parseRecoveryCodeDigest(digest)?.params).toEqual(MINIMUM_TEST_ARGON2ID_PARAMS);
    let calls = 0;
    const kdf: Kdf = {
      derive: (...args) => {
        calls += 1;
        return argon2idKdf.derive(...args);
      },
    };
    expect(await verifyRecoveryCodeDigest(kdf, { code: 'K7Q2MX9HD4T', digest, pepper })).toBe(false);
    expect(calls).toBe(1);
  });
});
