import type { Command } from '../command.js';
import { apiKeyCommands } from './apikey.js';
import { auditCommands } from './audit.js';
import { maintenanceCommands } from './maintenance.js';
import { mfaCommands } from './mfa.js';
import { migrateCommands } from './migrate.js';
import { oidcCommands } from './oidc.js';
import { secretCommands } from './secret.js';
import { userCommands } from './user.js';

/**
 * Every command by name, in the order `sparekey --help` lists them. Each group is a file of its own; each
 * command is one use case, printed for a person: exit 0 done, 1 refused or found a problem, 2 misuse.
 */
export const commands: Record<string, Command> = {
  ...migrateCommands,
  ...userCommands,
  ...mfaCommands,
  ...maintenanceCommands,
  ...auditCommands,
  ...apiKeyCommands,
  ...secretCommands,
  ...oidcCommands,
};
