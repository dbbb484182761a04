import type { OidcModelRecord } from '../../store/oidc-store.js';
import { auditEvent } from '../audit/audit.js';
import type { ServiceDeps } from '../deps.js';
import { clientMetadata } from './clients.js';

/** What oidc-provider hands its adapter: a plain JSON object with a few well-known fields. */
export type OidcPayload = Record<string, unknown> & {
  grantId?: string;
  uid?: string;
  userCode?: string;
  consumed?: unknown;
};

/**
 * The interface oidc-provider calls for every model it persists (its `Adapter`), over SpareKey's store:
 * nothing is kept in process memory, so any instance can continue a flow another began.
 */
export interface OidcAdapter {
  upsert(id: string, payload: OidcPayload, expiresIn?: number): Promise<void>;
  find(id: string): Promise<OidcPayload | undefined>;
  findByUid(uid: string): Promise<OidcPayload | undefined>;
  findByUserCode(userCode: string): Promise<OidcPayload | undefined>;
  consume(id: string): Promise<void>;
  destroy(id: string): Promise<void>;
  revokeByGrantId(grantId: string): Promise<void>;
}

/** Thrown by `consume` when another redemption of the code won (oidc-provider maps it to invalid_grant). */
export type LostConsumeError = (message: string) => Error;

/**
 * The adapter class oidc-provider instantiates once per model name. `lostConsume` makes the error
 * oidc-provider answers with (its InvalidGrant), so this file does not depend on the library.
 */
export function oidcAdapterFor(
  deps: ServiceDeps,
  lostConsume: LostConsumeError,
): new (
  model: string,
) => OidcAdapter {
  return class StoreAdapter implements OidcAdapter {
    constructor(private readonly model: string) {}

    async upsert(id: string, payload: OidcPayload, expiresIn?: number): Promise<void> {
      const now = deps.clock.now();
      const row = {
        payload: JSON.stringify(payload),
        // A grant is its own member: revoking it deletes the grant with its codes and tokens.
        grantId: this.model === 'Grant' ? id : (payload.grantId ?? null),
        uid: payload.uid ?? null,
        userCode: payload.userCode ?? null,
        expiresAt: expiresIn === undefined ? null : new Date(now.getTime() + expiresIn * 1000),
      };
      if (this.model !== 'AuthorizationCode') return deps.store.upsertOidcModel(this.model, id, row);
      // A code is issued when a person signs in to an application: audited with it, in one transaction,
      // with the client and the authentication methods the application is told (amr), and counted for
      // the statistics' sign-ins per application.
      const clientId = String(payload.clientId ?? '');
      const accountId = String(payload.accountId ?? '');
      await deps.store.transaction(async (tx) => {
        await tx.upsertOidcModel(this.model, id, row);
        await tx.countOidcSignIn(clientId, accountId, now);
        await tx.appendAuditEvent(
          auditEvent(
            now,
            'oidc_sign_in',
            'success',
            accountId,
            {},
            {
              client_id: clientId,
              amr: Array.isArray(payload.amr) ? payload.amr.join(' ') : '',
              acr: typeof payload.acr === 'string' ? payload.acr : null,
            },
          ),
        );
      });
    }

    async find(id: string): Promise<OidcPayload | undefined> {
      if (this.model === 'Client') return clientMetadata(deps, id);
      return this.live(await deps.store.findOidcModel(this.model, id));
    }

    async findByUid(uid: string): Promise<OidcPayload | undefined> {
      return this.live(await deps.store.findOidcModelByUid(this.model, uid));
    }

    async findByUserCode(userCode: string): Promise<OidcPayload | undefined> {
      return this.live(await deps.store.findOidcModelByUserCode(this.model, userCode));
    }

    async consume(id: string): Promise<void> {
      const { consumed } = await deps.store.consumeOidcModel(this.model, id, deps.clock.now());
      if (consumed) return;
      // Two redemptions of one code raced and this one lost: treated as the replay it is (RFC 6749
      // 4.1.2, RFC 9700 4.2.4): everything issued from the code is revoked and this request refused.
      const record = await deps.store.findOidcModel(this.model, id);
      const grantId = record && (JSON.parse(record.payload) as OidcPayload).grantId;
      if (grantId) await deps.store.revokeOidcGrant(grantId);
      throw lostConsume(`${this.model} already consumed`);
    }

    async destroy(id: string): Promise<void> {
      await deps.store.destroyOidcModel(this.model, id);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await deps.store.revokeOidcGrant(grantId);
    }

    /** Expired rows wait for the purge; they are never handed out meanwhile. */
    private live(record: OidcModelRecord | undefined): OidcPayload | undefined {
      if (!record) return undefined;
      if (record.expiresAt && record.expiresAt.getTime() <= deps.clock.now().getTime()) return undefined;
      const payload = JSON.parse(record.payload) as OidcPayload;
      if (record.consumedAt) payload.consumed = Math.floor(record.consumedAt.getTime() / 1000);
      return payload;
    }
  };
}
