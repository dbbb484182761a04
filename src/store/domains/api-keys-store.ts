import type { WriteOutcome } from '../write-outcome.js';
/** API keys (server-to-server). */
export interface ApiKeysStore {
  createApiKey(key: NewApiKey): Promise<void>;
  findApiKey(id: string): Promise<ApiKeyRecord | undefined>;
  listApiKeys(): Promise<ApiKeyRecord[]>;
  /** `revoked` is false when the key was unknown or already revoked. */
  revokeApiKey(id: string, at: Date): Promise<WriteOutcome<'revoked'>>;
  touchApiKey(id: string, at: Date): Promise<void>;
}

export interface NewApiKey {
  id: string;
  name: string;
  secretHash: string;
  scopes: readonly string[];
  createdAt: Date;
  createdBy: string | null;
}

export interface ApiKeyRecord extends NewApiKey {
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}
