import { Type } from 'typebox';
import { apiKeyScopes } from '../../core/api-key.js';

/** The JSON bodies and answers of the API-key routes (routes/admin-api-keys.ts). */

export const NewApiKey = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 80 }),
  scopes: Type.Array(Type.String({ enum: [...apiKeyScopes] }), {
    minItems: 1,
    maxItems: apiKeyScopes.length,
  }),
});

export const CreatedApiKey = Type.Object({
  id: Type.String(),
  key: Type.String(),
  scopes: Type.Array(Type.String()),
});

export const ApiKeyIdParams = Type.Object({ keyId: Type.String({ maxLength: 64 }) });
