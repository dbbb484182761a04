import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineStoreContract } from '../../src/store/contract/define-store-contract.js';
import { openStore } from '../../src/store/open-store.js';

// A fresh database file per suite, in a directory that goes away with it (WAL and SHM files included).
defineStoreContract('sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sparekey-store-'));
  const opened = await openStore({ kind: 'sqlite', path: join(dir, 'sparekey.db') });
  return {
    ...opened,
    close: async () => {
      await opened.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
