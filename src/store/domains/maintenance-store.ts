/** Housekeeping: what can no longer be used goes. */
export interface MaintenanceStore {
  /** Deletes what can no longer be used (a batch at a time, each batch its own short write). */
  purgeExpired(rules: PurgeRules): Promise<PurgedRecords>;
}

/**
 * What may go: rows expired at `at`; throttle counters that count nothing, or whose key starts with a
 * prefix below and has been idle that long (and is neither locked nor blocked); webhook deliveries that
 * finished (delivered or given up) more than `webhookLogRetentionMs` ago.
 */
export interface PurgeRules {
  at: Date;
  throttleForgetting: readonly { keyPrefix: string; idleMs: number }[];
  webhookLogRetentionMs: number;
  /**
   * Reports of second-factor locks that are over. With the counters in the database a report goes once no
   * counter holds its lock any more (unlocked, reset); with the counters elsewhere (Redis) the database
   * cannot tell, so a report goes only after `lockReportRetentionMs` (a lock still standing then is
   * reported once more, see lock-report.ts).
   */
  lockReports: { countersInDatabase: boolean; retentionMs: number };
}

export interface PurgedRecords {
  sessions: number;
  actionTokens: number;
  rememberedDevices: number;
  emailCodes: number;
  webauthnChallenges: number;
  throttleCounters: number;
  lockReports: number;
  webhookDeliveries: number;
  /** oidc-provider's expired objects (codes, sessions, grants, tokens). */
  oidcModels: number;
  /** Rotated-out signing keys past the expiry of every token they signed. */
  oidcSigningKeys: number;
}
