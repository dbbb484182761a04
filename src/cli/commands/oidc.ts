import { errorMessage } from '../../core/errors.js';
import type { OidcClientRecord } from '../../service/oidc/clients.js';
import { CLI_CONTEXT, type Command, type Io } from '../command.js';

/** Wrong usage (exit 2), with the command's usage line. */
function wrongUsage(io: Io, problem: string, usage: string): number {
  io.err(`${problem}\nUsage: ${usage}`);
  return 2;
}

const ADD_USAGE =
  'sparekey oidc client add --name <name> --redirect-uri <uri>... [--kind confidential|public] [--scope <scope>...] [--post-logout-uri <uri>...] [--first-party] [--two-factor-required]';

/** One line per application, tab-separated, for a person and for `cut`. */
function describeClient(client: OidcClientRecord): string {
  return [
    client.id,
    client.name,
    client.kind,
    client.disabledAt ? 'disabled' : 'enabled',
    client.twoFactorRequired ? 'two-factor required' : 'one factor allowed',
    client.firstParty ? 'first-party' : 'third-party',
    client.scopes.join(' '),
    client.redirectUris.join(' '),
  ].join('\t');
}

/** An application named by id: the one positional argument of rotate-secret, disable, enable, remove. */
const byId = { positionals: { min: 1, max: 1 } } as const;

/** The OpenID Connect provider: its applications and its signing keys (docs/integrations.md). */
export const oidcCommands: Record<string, Command> = {
  'oidc client add': {
    usage: ADD_USAGE,
    summary:
      'Register an application that signs people in through SpareKey. A confidential one gets a secret, printed once (scopes default to openid).',
    options: {
      name: { type: 'string' },
      'redirect-uri': { type: 'string', multiple: true },
      'post-logout-uri': { type: 'string', multiple: true },
      kind: { type: 'string' },
      scope: { type: 'string', multiple: true },
      'first-party': { type: 'boolean' },
      'two-factor-required': { type: 'boolean' },
    },
    run: async (useCases, { values }, io) => {
      const kind = values.kind ?? 'confidential';
      if (typeof values.name !== 'string') return wrongUsage(io, 'Missing --name.', ADD_USAGE);
      const redirectUris = (values['redirect-uri'] as string[] | undefined) ?? [];
      if (redirectUris.length === 0) return wrongUsage(io, 'Missing --redirect-uri.', ADD_USAGE);
      if (kind !== 'confidential' && kind !== 'public')
        return wrongUsage(io, `--kind is confidential or public, not "${String(kind)}".`, ADD_USAGE);
      const registered = await useCases.registerOidcClient({
        name: values.name,
        redirectUris,
        postLogoutRedirectUris: (values['post-logout-uri'] as string[] | undefined) ?? [],
        kind,
        firstParty: values['first-party'] === true,
        twoFactorRequired: values['two-factor-required'] === true,
        scopes: (values.scope as string[] | undefined) ?? ['openid'],
        context: CLI_CONTEXT,
      });
      if (!registered.ok) {
        io.err(errorMessage(registered.error));
        return 1;
      }
      const { client, secret } = registered.value;
      io.out(`client_id=${client.id}`);
      if (secret !== null) io.out(`client_secret=${secret}`);
      io.err(
        secret === null
          ? `Registered ${client.name} (public: no secret, PKCE required).`
          : `Registered ${client.name}. Store the secret now: it is not shown again.`,
      );
      return 0;
    },
  },
  'oidc client list': {
    usage: 'sparekey oidc client list',
    summary:
      'The registered applications, oldest first: id, name, kind, enabled or disabled, the two-factor rule, first- or third-party, scopes, redirect URIs (tab-separated).',
    run: async (useCases, _args, io) => {
      const clients = await useCases.listOidcClients();
      if (clients.length === 0) io.err('No application is registered.');
      for (const client of clients) io.out(describeClient(client));
      return 0;
    },
  },
  'oidc client rotate-secret': {
    usage: 'sparekey oidc client rotate-secret <client-id>',
    summary: 'Give a confidential application a new secret, printed once; the old one stops working at once.',
    ...byId,
    run: async (useCases, { positionals }, io) => {
      const rotated = await useCases.rotateOidcClientSecret({
        id: positionals[0] ?? '',
        context: CLI_CONTEXT,
      });
      if (!rotated.ok) {
        io.err(errorMessage(rotated.error));
        return 1;
      }
      io.out(`client_secret=${rotated.value.secret}`);
      io.err('Store the new secret now: it is not shown again. The old one no longer works.');
      return 0;
    },
  },
  'oidc client disable': {
    usage: 'sparekey oidc client disable <client-id>',
    summary: 'Disable an application: it can start no sign-in, and its codes and tokens are refused.',
    ...byId,
    run: async (useCases, { positionals }, io) => {
      const id = positionals[0] ?? '';
      const changed = await useCases.setOidcClientDisabled({ id, disabled: true, context: CLI_CONTEXT });
      if (!changed.ok) {
        io.err(errorMessage(changed.error));
        return 1;
      }
      io.out(`Disabled ${id}.`);
      return 0;
    },
  },
  'oidc client enable': {
    usage: 'sparekey oidc client enable <client-id>',
    summary: 'Enable a disabled application again.',
    ...byId,
    run: async (useCases, { positionals }, io) => {
      const id = positionals[0] ?? '';
      const changed = await useCases.setOidcClientDisabled({ id, disabled: false, context: CLI_CONTEXT });
      if (!changed.ok) {
        io.err(errorMessage(changed.error));
        return 1;
      }
      io.out(`Enabled ${id}.`);
      return 0;
    },
  },
  'oidc client remove': {
    usage: 'sparekey oidc client remove <client-id>',
    summary: 'Delete an application; its past sign-ins stay in the audit log.',
    ...byId,
    run: async (useCases, { positionals }, io) => {
      const id = positionals[0] ?? '';
      const deleted = await useCases.deleteOidcClient({ id, context: CLI_CONTEXT });
      if (!deleted.ok) {
        io.err(errorMessage(deleted.error));
        return 1;
      }
      io.out(`Removed ${id}.`);
      return 0;
    },
  },
  'oidc rotate-keys': {
    usage: 'sparekey oidc rotate-keys',
    summary:
      'Publish a new OpenID Connect signing key, which signs from ten minutes on (once applications have fetched it); the previous one stays published two hours more, until the tokens it signed expire.',
    run: async (useCases, _args, io) => {
      const { kid } = await useCases.rotateSigningKeys(CLI_CONTEXT);
      io.out(`New signing key ${kid}: published now; running servers sign with it from ten minutes on.`);
      return 0;
    },
  },
};
