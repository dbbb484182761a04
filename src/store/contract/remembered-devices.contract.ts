import { randomUUID } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { at, givenUser, type MakeStore, useFreshStore } from './fixtures.js';

export function defineRememberedDeviceContract(makeStore: MakeStore): void {
  describe('remembered browsers', () => {
    const opened = useFreshStore(makeStore);

    async function givenDevice(userId: string, expiresInMs = 1000) {
      const device = {
        id: randomUUID(),
        tokenHash: randomUUID(),
        userId,
        label: 'Firefox on Linux',
        ip: '198.51.100.4',
        createdAt: at(0),
        expiresAt: at(expiresInMs),
      };
      await opened().store.rememberDevice(device);
      return device;
    }

    test('a device is found by its token hash until it expires, and records its last use', async () => {
      const { store } = opened();
      const user = await givenUser(store);
      const device = await givenDevice(user.id);
      expect(await store.findRememberedDevice(device.tokenHash, at(999))).toEqual({
        id: device.id,
        userId: user.id,
        label: 'Firefox on Linux',
        ip: '198.51.100.4',
        createdAt: at(0),
        lastUsedAt: null,
        expiresAt: at(1000),
      });
      expect(await store.findRememberedDevice(device.tokenHash, at(1000))).toBeUndefined();
      expect(await store.findRememberedDevice('unknown', at(1))).toBeUndefined();
      await store.touchRememberedDevice(device.id, at(500));
      expect((await store.listRememberedDevices(user.id, at(600)))[0]?.lastUsedAt).toEqual(at(500));
      expect(await store.listRememberedDevices(user.id, at(1000))).toEqual([]);
    });

    test("forgetting one device never touches another user's; forgetting all clears the user's only", async () => {
      const { store } = opened();
      const user = await givenUser(store);
      const other = await givenUser(store);
      const [first, second] = [await givenDevice(user.id), await givenDevice(user.id)];
      const others = await givenDevice(other.id);
      expect(await store.forgetRememberedDevices(user.id, others.id)).toBe(0);
      expect(await store.forgetRememberedDevices(user.id, first.id)).toBe(1);
      expect((await store.listRememberedDevices(user.id, at(1))).map((d) => d.id)).toEqual([second.id]);
      await givenDevice(user.id);
      expect(await store.forgetRememberedDevices(user.id, null)).toBe(2);
      expect(await store.listRememberedDevices(user.id, at(1))).toEqual([]);
      expect(await store.findRememberedDevice(others.tokenHash, at(1))).toMatchObject({ userId: other.id });
    });
  });
}
