import { errorMessage } from '../../core/errors.js';
import { CLI_CONTEXT, type Command } from '../command.js';

/** API keys for backends: create one (printed once) and revoke one. */
export const apiKeyCommands: Record<string, Command> = {
  'apikey create': {
    usage: 'sparekey apikey create --name <name> --scope <scope>...',
    summary: 'Create an API key for a backend; the key is printed once.',
    options: { name: { type: 'string' }, scope: { type: 'string', multiple: true } },
    run: async (useCases, { values }, io) => {
      const created = await useCases.createApiKey({
        name: String(values.name ?? ''),
        scopes: (values.scope as string[] | undefined) ?? [],
        context: CLI_CONTEXT,
      });
      if (!created.ok) {
        io.err(errorMessage(created.error));
        return 1;
      }
      io.out(created.value.key);
      io.err(
        `Created key ${created.value.id} with ${created.value.scopes.join(' ')}. Store it now: it is not shown again.`,
      );
      return 0;
    },
  },
  'apikey revoke': {
    usage: 'sparekey apikey revoke <id>',
    positionals: { min: 1, max: 1 },
    summary: 'Revoke an API key at once.',
    run: async (useCases, { positionals }, io) => {
      const revoked = await useCases.revokeApiKey({ id: positionals[0] ?? '', context: CLI_CONTEXT });
      if (!revoked.ok) {
        io.err(errorMessage(revoked.error));
        return 1;
      }
      io.out(`Revoked ${revoked.value.id}.`);
      return 0;
    },
  },
};
