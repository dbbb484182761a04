import type { Command } from '../command.js';

/** The dashboard's statistics, and the purge a running server does hourly. */
export const maintenanceCommands: Record<string, Command> = {
  stats: {
    usage: 'sparekey stats',
    summary: 'The statistics of the admin dashboard.',
    run: async (useCases, _args, io) => {
      const stats = await useCases.getRecoveryCodeStatistics();
      io.out(
        [
          `Users with codes:       ${stats.usersWithCodes}`,
          `Low on codes (<= ${stats.lowThreshold}):    ${stats.lowOnCodes}`,
          `Used today:             ${stats.usedToday}`,
          `Used this month:        ${stats.usedThisMonth}`,
          `Failed attempts today:  ${stats.failedToday}`,
          ...stats.factorsByKind.map(
            (row) => `Users with ${row.kind} factors: ${row.users} (${row.factors} factors)`,
          ),
          `(time zone ${stats.timeZone})`,
        ].join('\n'),
      );
      return 0;
    },
  },
  purge: {
    usage: 'sparekey purge',
    summary:
      'Delete expired sessions, links, emailed codes, security-key challenges, remembered browsers, idle throttle counters, old webhook deliveries and expired OpenID Connect codes, tokens and retired signing keys (a running server does this hourly).',
    run: async (useCases, _args, io) => {
      const purged = await useCases.purgeExpiredRecords();
      io.out(
        [
          `Expired sessions:              ${purged.sessions}`,
          `Expired links:                 ${purged.actionTokens}`,
          `Expired remembered browsers:   ${purged.rememberedDevices}`,
          `Expired emailed codes:         ${purged.emailCodes}`,
          `Expired security-key challenges: ${purged.webauthnChallenges}`,
          `Idle throttle counters:        ${purged.throttleCounters}`,
          `Reports of ended locks:        ${purged.lockReports}`,
          `Webhook deliveries (30+ days): ${purged.webhookDeliveries}`,
          `Expired sign-in app tokens:    ${purged.oidcModels}`,
          `Retired signing keys:          ${purged.oidcSigningKeys}`,
        ].join('\n'),
      );
      return 0;
    },
  },
};
