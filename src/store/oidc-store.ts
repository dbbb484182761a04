import type { WriteOutcome } from './write-outcome.js';
/**
 * What the OpenID Connect provider keeps in the store: oidc-provider's short-lived objects (codes,
 * sessions, grants, tokens), the registered applications and the signing keys. Part of `Store`.
 */
export interface OidcStore {
  /** Creates or replaces one object of an oidc-provider model (its adapter's `upsert`). */
  upsertOidcModel(model: string, id: string, row: NewOidcModelRow): Promise<void>;
  findOidcModel(model: string, id: string): Promise<OidcModelRecord | undefined>;
  findOidcModelByUid(model: string, uid: string): Promise<OidcModelRecord | undefined>;
  findOidcModelByUserCode(model: string, userCode: string): Promise<OidcModelRecord | undefined>;
  /**
   * Marks an object consumed: `UPDATE ... WHERE consumed_at IS NULL`. Of concurrent callers exactly one
   * gets `consumed: true`, so an authorization code is redeemed at most once, on any instance.
   */
  consumeOidcModel(model: string, id: string, at: Date): Promise<WriteOutcome<'consumed'>>;
  destroyOidcModel(model: string, id: string): Promise<void>;
  /** Deletes every object issued under the grant (codes, tokens, the grant); returns how many went. */
  revokeOidcGrant(grantId: string): Promise<number>;

  createOidcClient(client: NewOidcClient): Promise<void>;
  findOidcClient(id: string): Promise<OidcClientRecord | undefined>;
  /** Every registered application, oldest first. */
  listOidcClients(): Promise<OidcClientRecord[]>;
  /** Changes an application's settings; `updated` is false when it does not exist. */
  updateOidcClient(id: string, changes: OidcClientChanges, at: Date): Promise<WriteOutcome<'updated'>>;
  deleteOidcClient(id: string): Promise<WriteOutcome<'deleted'>>;

  /**
   * Counts one sign-in by `userId` to the application in the UTC quarter hour of `at` (one statement: an
   * upsert that adds one, so concurrent sign-ins on any number of instances are all counted), in the
   * user's counter shard, so unrelated users' sign-ins do not wait for each other (decision 0011). Called
   * in the transaction that issues the authorization code and audits the sign-in.
   */
  countOidcSignIn(clientId: string, userId: string, at: Date): Promise<void>;
  /**
   * Sign-ins per application per quarter hour in [from, to) (both rounded down to quarter hours), oldest
   * first. Applications with none are absent.
   */
  listOidcSignInCounts(query: { from: Date; to: Date }): Promise<OidcSignInBucket[]>;

  /**
   * The signing keys still published at `at`: the current one first, then the rotated-out ones not yet
   * expired, newest first.
   */
  listOidcSigningKeys(at: Date): Promise<OidcSigningKeyRecord[]>;
  /**
   * Adds `key` as the current signing key. Every key that was current gets `retireAt` as its expiry, in
   * the same transaction, so there is always exactly one current key.
   */
  addOidcSigningKey(key: NewOidcSigningKey, retireAt: Date): Promise<void>;
  /**
   * Replaces a signing key's sealed form (a sealing-key rotation) if it is still `expected`: a
   * compare-and-set, so two rotations running at once never undo each other.
   */
  replaceSealedOidcSigningKey(kid: string, expected: string, next: string): Promise<WriteOutcome<'replaced'>>;
}

export interface NewOidcModelRow {
  /** The object as oidc-provider gave it, as JSON. */
  payload: string;
  grantId: string | null;
  uid: string | null;
  userCode: string | null;
  expiresAt: Date | null;
}

export interface OidcModelRecord {
  payload: string;
  expiresAt: Date | null;
  consumedAt: Date | null;
}

export type OidcClientKind = 'public' | 'confidential';

export interface NewOidcClient {
  id: string;
  name: string;
  redirectUris: readonly string[];
  postLogoutRedirectUris: readonly string[];
  kind: OidcClientKind;
  /** No consent page: the operator vouches for the application. */
  firstParty: boolean;
  /** Never receives a sign-in with only one factor. */
  twoFactorRequired: boolean;
  scopes: readonly string[];
  /** SHA-256 of the client secret (confidential clients only). */
  secretHash: string | null;
  createdAt: Date;
}

export interface OidcClientRecord extends NewOidcClient {
  updatedAt: Date;
  disabledAt: Date | null;
}

export interface OidcClientChanges {
  name?: string;
  redirectUris?: readonly string[];
  postLogoutRedirectUris?: readonly string[];
  firstParty?: boolean;
  twoFactorRequired?: boolean;
  scopes?: readonly string[];
  secretHash?: string;
  disabledAt?: Date | null;
}

export interface OidcSignInBucket {
  clientId: string;
  bucketStart: Date;
  events: number;
}

export interface NewOidcSigningKey {
  kid: string;
  /** The private JWK, sealed (see core/secret-box.ts) with the kid as associated data. */
  sealedJwk: string;
  createdAt: Date;
}

export interface OidcSigningKeyRecord extends NewOidcSigningKey {
  /** Null for the current key; a rotated-out key is published until then. */
  expiresAt: Date | null;
}
