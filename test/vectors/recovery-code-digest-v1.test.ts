import { argon2id } from 'hash-wasm';
import { describe, expect, it } from 'vitest';
import {
  argon2idKdf,
  digestRecoveryCode,
  MINIMUM_TEST_ARGON2ID_PARAMS,
  OWASP_ARGON2ID_PARAMS,
  parseRecoveryCodeDigest,
  verifyRecoveryCodeDigest,
} from '../../src/core/recovery-code-digest.js';
import { recoveryCodeDigestV1Vectors } from './recovery-code-digest-v1.js';

const bytes = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'));

describe('recovery-code digest v1 golden vectors', () => {
  it('cover the lowest test cost and the OWASP production minimum (req 6)', () => {
    const params = recoveryCodeDigestV1Vectors.map((vector) => vector.params);
    expect(params).toContainEqual(MINIMUM_TEST_ARGON2ID_PARAMS);
    expect(params).toContainEqual(OWASP_ARGON2ID_PARAMS);
  });

  describe.each(recoveryCodeDigestV1Vectors)('$name', (vector) => {
    const salt = bytes(vector.saltHex);
    const pepper = bytes(vector.pepperHex);

    it('req 4/5: digestRecoveryCode produces exactly the stored string', async () => {
      const digest = await digestRecoveryCode(argon2idKdf, {
        code: vector.code,
        salt,
        params: vector.params,
        pepper,
      });
      expect(digest).toBe(vector.digest);
    });

    it('req 6: the stored string verifies with the parameters it carries, and only for its code', async () => {
      expect(
        await verifyRecoveryCodeDigest(argon2idKdf, { code: vector.code, digest: vector.digest, pepper }),
      ).toBe(true);
      const otherCode = `${vector.code.slice(0, -1)}${vector.code.endsWith('0') ? '1' : '0'}`;
      expect(
        await verifyRecoveryCodeDigest(argon2idKdf, { code: otherCode, digest: vector.digest, pepper }),
      ).toBe(false);
    });

    it('an independent Argon2id (hash-wasm) computes the same raw hash with the pepper as `secret`', async () => {
      const parsed = parseRecoveryCodeDigest(vector.digest);
      expect(parsed).toBeDefined();
      const independent = await argon2id({
        password: vector.code,
        salt,
        secret: pepper,
        memorySize: vector.params.memoryCostKiB,
        iterations: vector.params.timeCost,
        parallelism: vector.params.parallelism,
        hashLength: 32,
        outputType: 'binary',
      });
      expect(Buffer.from(parsed!.hash).toString('hex')).toBe(Buffer.from(independent).toString('hex'));
      expect(parsed!.params).toEqual(vector.params);
      expect(Buffer.from(parsed!.salt).toString('hex')).toBe(vector.saltHex);
    });
  });
});
