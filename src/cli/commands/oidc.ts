import { CLI_CONTEXT, type Command } from '../command.js';

/** The OpenID Connect provider's signing keys (docs/integrations.md). */
export const oidcCommands: Record<string, Command> = {
  'oidc rotate-keys': {
    usage: 'sparekey oidc rotate-keys',
    summary:
      'Make a new OpenID Connect signing key current; the previous one stays published for two hours, until the tokens it signed expire.',
    run: async (useCases, _args, io) => {
      const { kid } = await useCases.rotateSigningKeys(CLI_CONTEXT);
      io.out(`New signing key ${kid}: running servers sign with it within 30 seconds.`);
      return 0;
    },
  },
};
