import type { SettingsUpdate } from '../service/admin/settings.js';

/** What a caller may send to change settings: any subset of the settings' keys (and possibly more). */
type SettingsInput = {
  [Key in keyof SettingsUpdate]?: Key extends 'format'
    ? { slotLength?: number; secretLength?: number; groupSize?: number }
    : SettingsUpdate[Key];
};

/**
 * The settings update, key by key: only the settings' own keys reach the service, whatever else the body
 * (or a library caller's object) carried. The schema admits slot lengths 1 and 2 only; TypeBox infers
 * the union as number, and the service validates the result either way.
 */
export function settingsUpdateFrom(input: SettingsInput): SettingsUpdate {
  const update: SettingsUpdate = {};
  if (input.enabled !== undefined) update.enabled = input.enabled;
  if (input.allowedRoles !== undefined) update.allowedRoles = input.allowedRoles;
  if (input.codesPerSet !== undefined) update.codesPerSet = input.codesPerSet;
  if (input.format !== undefined) {
    const format: NonNullable<SettingsUpdate['format']> = {};
    if (input.format.slotLength !== undefined) format.slotLength = input.format.slotLength as 1 | 2;
    if (input.format.secretLength !== undefined) format.secretLength = input.format.secretLength;
    if (input.format.groupSize !== undefined) format.groupSize = input.format.groupSize;
    update.format = format;
  }
  if (input.lowThreshold !== undefined) update.lowThreshold = input.lowThreshold;
  if (input.policy !== undefined) update.policy = input.policy;
  if (input.mfaRequiredRoles !== undefined) update.mfaRequiredRoles = input.mfaRequiredRoles;
  return update;
}
