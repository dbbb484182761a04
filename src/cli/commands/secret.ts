import { readSealingKeysFile, writeSealingKeysFile } from '../../config/sealing-keys-file.js';
import { sealingKeyFromBytes } from '../../core/sealing-key-ring.js';
import type { UseCases } from '../../service/use-cases.js';
import { CLI_CONTEXT, type Command, type Io } from '../command.js';

/**
 * Sealing-key rotation for what is sealed at rest: TOTP seeds and OpenID Connect signing keys
 * (docs/decisions/0002-sealing-key-rotation.md). Keys live outside the database: in the data directory's `sealing-keys` file, or in SPAREKEY_SEALING_KEYS for PostgreSQL fleets.
 */

function printCounts(useCases: UseCases, byKey: Record<string, number>, io: Io): void {
  const ring = useCases.sealingKeyRing();
  for (const id of new Set([...ring.order, ...Object.keys(byKey)])) {
    const role = id === ring.current.id ? 'current' : ring.opening.has(id) ? 'older' : 'not in the key ring';
    io.out(`  ${id}  ${role.padEnd(19)} ${byKey[id] ?? 0} sealed secrets`);
  }
}

export const secretCommands: Record<string, Command> = {
  'secret status': {
    usage: 'sparekey secret status',
    summary:
      'The sealing keys in force and how many secrets (TOTP seeds, OpenID Connect signing keys) each one seals (never the keys).',
    run: async (useCases, _args, io, config) => {
      io.out(
        `Sealing keys from ${config.sealingKeys.source === 'file' ? config.sealingKeys.path : 'SPAREKEY_SEALING_KEYS'}:`,
      );
      printCounts(useCases, await useCases.countSealedSecretsByKey(), io);
      return 0;
    },
  },
  'secret new-key': {
    usage: 'sparekey secret new-key',
    summary: 'Print a new random sealing key, to put first in SPAREKEY_SEALING_KEYS on every instance.',
    run: async (useCases, _args, io) => {
      io.out(Buffer.from(useCases.random.bytes(32)).toString('base64'));
      return 0;
    },
  },
  'secret rotate': {
    usage: 'sparekey secret rotate',
    summary:
      "Seal every TOTP seed and OpenID Connect signing key under a new key: a key added to the data directory's sealing-keys file, or the " +
      'first key of SPAREKEY_SEALING_KEYS. Safe to run beside live servers and to repeat.',
    run: async (useCases, _args, io, config) => {
      if (config.sealingKeys.source === 'file') {
        const key = sealingKeyFromBytes(useCases.random.bytes(32));
        writeSealingKeysFile(config.sealingKeys.path, [key, ...readSealingKeysFile(config.sealingKeys.path)]);
        io.out(
          `Added sealing key ${key.id} to ${config.sealingKeys.path}; back this file up with the database.`,
        );
      } else if (config.database.kind === 'postgres') {
        io.out(
          'Re-sealing under the first key of SPAREKEY_SEALING_KEYS (every instance must already have it).',
        );
      }
      const report = await useCases.resealSecrets({ context: CLI_CONTEXT });
      io.out(
        `Re-sealed ${report.resealed} TOTP seeds and ${report.resealedSigningKeys} OpenID Connect signing keys under ${report.currentKeyId}.`,
      );
      printCounts(useCases, report.byKey, io);
      if (report.unreadable > 0) {
        io.err(
          `${report.unreadable} sealed secrets open with no key in the ring: restore the key that sealed them.`,
        );
        return 1;
      }
      io.out('Older keys seal nothing now: remove them with sparekey secret prune (after a backup).');
      return 0;
    },
  },
  'secret prune': {
    usage: 'sparekey secret prune',
    summary:
      'Remove from the sealing-keys file every older key that seals no TOTP seed or signing key any more.',
    run: async (useCases, _args, io, config) => {
      const byKey = await useCases.countSealedSecretsByKey();
      const current = useCases.sealingKeyRing().current.id;
      if (config.sealingKeys.source !== 'file') {
        const idle = config.sealingKeys.keys.filter((key) => key.id !== current && !byKey[key.id]);
        io.out(
          idle.length === 0
            ? 'Every key in SPAREKEY_SEALING_KEYS still seals something (or is the current key).'
            : `These keys seal nothing; remove them from SPAREKEY_SEALING_KEYS: ${idle.map((key) => key.id).join(', ')}.`,
        );
        return 0;
      }
      const keys = readSealingKeysFile(config.sealingKeys.path);
      const kept = keys.filter((key) => key.id === current || (byKey[key.id] ?? 0) > 0);
      if (kept.length !== keys.length) writeSealingKeysFile(config.sealingKeys.path, kept);
      io.out(`Removed ${keys.length - kept.length} sealing keys; ${kept.length} kept.`);
      return 0;
    },
  },
};
