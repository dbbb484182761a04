/** Remembered browsers: only the SHA-256 of each device cookie's token is stored. */
export interface RememberedDevicesStore {
  rememberDevice(device: NewRememberedDevice): Promise<void>;
  /** The unexpired device whose token hashes to `tokenHash`. */
  findRememberedDevice(tokenHash: string, at: Date): Promise<RememberedDeviceRecord | undefined>;
  touchRememberedDevice(id: string, at: Date): Promise<void>;
  /** The user's unexpired devices, newest first. */
  listRememberedDevices(userId: string, at: Date): Promise<RememberedDeviceRecord[]>;
  /** Forgets the user's device `id` (never another user's), or every one of them when `id` is null. */
  forgetRememberedDevices(userId: string, id: string | null): Promise<number>;
}

export interface NewRememberedDevice {
  id: string;
  tokenHash: string;
  userId: string;
  label: string;
  ip: string | null;
  createdAt: Date;
  expiresAt: Date;
}

export interface RememberedDeviceRecord {
  id: string;
  userId: string;
  label: string;
  ip: string | null;
  createdAt: Date;
  lastUsedAt: Date | null;
  expiresAt: Date;
}
