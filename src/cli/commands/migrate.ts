import { schemaMigrationCount } from '../../service/maintenance/schema-version.js';
import type { Command } from '../command.js';

/** The schema: opening the database (which every command does first) applies the migrations. */
export const migrateCommands: Record<string, Command> = {
  migrate: {
    usage: 'sparekey migrate',
    summary: 'Bring the database to the latest schema (the server also does this at start).',
    run: async (_deps, _args, io) => {
      io.out(`The database is at the latest schema (${schemaMigrationCount()} migrations).`);
      return 0;
    },
  },
};
