import { fail, ok, type Result } from '../../../core/result.js';
import type { WebauthnDeviceType } from '../../../store/store.js';
import { auditEvent } from '../../audit/audit.js';
import type { RequestContext, ServiceDeps } from '../../deps.js';
import { securityKeyName } from './register-key.js';

export interface SecurityKeySummary {
  id: string;
  name: string;
  /** `multiDevice`: may be synced (a passkey in a password manager); `singleDevice`: bound to one device. */
  deviceType: WebauthnDeviceType;
  backedUp: boolean;
  addedAt: Date;
  lastUsedAt: Date | null;
}

/** The user's keys as Settings shows them (never the public key or credential id). */
export async function listSecurityKeys(
  deps: ServiceDeps,
  input: { userId: string },
): Promise<SecurityKeySummary[]> {
  const keys = await deps.store.listWebauthnCredentials(input.userId);
  return keys.map((key) => ({
    id: key.id,
    name: key.name,
    deviceType: key.deviceType,
    backedUp: key.backedUp,
    addedAt: key.createdAt,
    lastUsedAt: key.lastUsedAt,
  }));
}

/** A key's name as it was saved (trimmed). */
export interface RenamedSecurityKey {
  name: string;
}

/** Renames one of the user's own keys. No step-up: a name grants nothing. */
export async function renameSecurityKey(
  deps: ServiceDeps,
  input: { userId: string; factorId: string; name: string; context: RequestContext },
): Promise<Result<RenamedSecurityKey, 'security_key_name_invalid' | 'factor_not_found'>> {
  const name = securityKeyName(input.name);
  if (!name) return fail('security_key_name_invalid');
  const { renamed } = await deps.store.renameWebauthnCredential(input.userId, input.factorId, name);
  if (!renamed) return fail('factor_not_found');
  await deps.store.appendAuditEvent(
    auditEvent(deps.clock.now(), 'security_key_renamed', 'success', input.userId, input.context, {
      factorId: input.factorId,
    }),
  );
  return ok({ name });
}
