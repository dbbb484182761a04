import type { WriteOutcome } from '../write-outcome.js';
/** Settings: a JSON document per key, validated by the service. */
export interface SettingsStore {
  getSetting(key: string): Promise<unknown | undefined>;
  putSetting(key: string, value: unknown, at: Date): Promise<void>;
  /** Stores `value` only when `key` has never been set: exactly one concurrent claimant wins. */
  claimSetting(key: string, value: unknown, at: Date): Promise<WriteOutcome<'claimed'>>;
}
