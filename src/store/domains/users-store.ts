import type { WriteOutcome } from '../write-outcome.js';
/** Accounts: their email, password hash and roles, and the custom roles administrators add. */
export interface UsersStore {
  createUser(user: NewUser): Promise<WriteOutcome<'created', 'email_taken' | 'external_id_taken'>>;
  /** Case-insensitive on the email address. */
  findUserByEmail(email: string): Promise<UserRecord | undefined>;
  findUserById(userId: string): Promise<UserRecord | undefined>;
  /** The user a host application created under its own id (exact match). */
  findUserByExternalId(externalId: string): Promise<UserRecord | undefined>;
  /**
   * Only whether the user exists, as SpareKey's id, by either id (exact match): one indexed read, no
   * roles, for the API's by-user paths, which look their user up on every request.
   */
  findUserId(ref: { userId: string } | { externalId: string }): Promise<string | undefined>;
  /** Sets (or, with null, removes) the email address; refused when another account has it. */
  setUserEmail(
    userId: string,
    email: string | null,
  ): Promise<WriteOutcome<'updated', 'user_not_found' | 'email_taken'>>;
  /**
   * Deletes the user and, through the foreign keys, everything that is theirs (roles, factors, recovery
   * codes, sessions, remembered browsers, links, emailed codes, throttle rows), and the API keys they
   * created, under the user's lock, and says how many of each went (`deleted` is false for an unknown
   * user). Audit events are not touched (they hold the id only). Refused (`last_administrator`) for the
   * only administrator: someone must still be able to run the site.
   */
  deleteUser(
    userId: string,
  ): Promise<WriteOutcome<'deleted', 'user_not_found' | 'last_administrator', { removed: DeletedUser }>>;
  /** Replaces the user's password hash; `updated` is false for an unknown user. */
  setPasswordHash(userId: string, passwordHash: string): Promise<WriteOutcome<'updated'>>;
  /**
   * Replaces the user's roles. Refused (`last_administrator`) when it would take the administrator role
   * from the only administrator; concurrent removals of administrators are serialized, so two of them
   * never leave none.
   */
  setUserRoles(
    userId: string,
    roles: readonly string[],
  ): Promise<WriteOutcome<'updated', 'user_not_found' | 'last_administrator'>>;
  countUsers(): Promise<number>;
  /** Every account, by email (keyset: pass the last email as `afterEmail`). */
  listUsers(query: { afterEmail?: string; limit: number }): Promise<UserRecord[]>;
  /** Roles administrators added (the built-in ones are not stored). */
  listCustomRoles(): Promise<string[]>;
  /** Adds a role; `added` is false when it already exists. */
  addCustomRole(name: string, at: Date): Promise<WriteOutcome<'added'>>;
  /**
   * Users that have a recovery-code set, ordered by email then id (keyset pagination: pass the last row's
   * email and id as `after`), optionally only emails starting with `emailPrefix` (case-insensitive).
   */
  listUsersWithCodes(query: UsersWithCodesQuery): Promise<UserWithCodes[]>;
}

export interface NewUser {
  id: string;
  /** Null only for a host application's user (one with an `externalId`). */
  email: string | null;
  /** The host application's id (1 to 255 characters), unique; absent for SpareKey's own accounts. */
  externalId?: string;
  passwordHash: string | null;
  roles: readonly string[];
  createdAt: Date;
}

export interface UserRecord {
  id: string;
  /** Null for a host application's user created without one: nothing is mailed to them. */
  email: string | null;
  /** Present for a host application's user: the host's own id. */
  externalId?: string;
  passwordHash: string | null;
  roles: string[];
  createdAt: Date;
}

/** What deleting a user removed with them (the counts go into the audit event). */
export interface DeletedUser {
  factors: number;
  recoveryCodeSets: number;
  sessions: number;
  rememberedDevices: number;
  apiKeys: number;
}

export interface UsersWithCodesQuery {
  emailPrefix?: string;
  after?: { email: string; id: string };
  limit: number;
}

export interface UserWithCodes {
  id: string;
  email: string;
  roles: string[];
  total: number;
  remaining: number;
  generatedAt: Date;
  lastUsedAt: Date | null;
}
