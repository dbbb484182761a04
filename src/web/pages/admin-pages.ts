import type { AuditEvent } from '../../core/audit.js';
import type { RecoveryCodeSettings } from '../../core/policy.js';
import type { UserRecord } from '../../service/accounts/user-lookup.js';
import { MAX_RESET_REASON_LENGTH } from '../../service/admin/reset-mfa.js';
import type { RecoveryCodeStatistics } from '../../service/admin/statistics.js';
import type { UserWithCodes } from '../../service/admin/users-with-codes.js';
import type { ChainVerification } from '../../service/audit/audit-log.js';
import type { MfaOverview } from '../../service/factors/manage-mfa.js';
import { type Html, html } from '../html.js';
import { csrfField, errorBox, noticeBox } from '../layout.js';

const when = (at: Date | null) => (at ? `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC` : '—');

export function adminNav(current: string): Html {
  const link = (href: string, text: string) =>
    html`<a href="${href}" ${current === href ? html`aria-current="page"` : ''}>${text}</a>`;
  return html`<nav class="admin-nav" aria-label="Administration">${link('/admin', 'Statistics')}${link('/admin/settings', 'Recovery-code settings')}${link('/admin/users', 'Users with codes')}${link('/admin/roles', 'Roles')}${link('/admin/audit', 'Audit log')}${link('/admin/api-keys', 'API keys')}${link('/admin/webhooks', 'Webhooks')}${link('/admin/access-rules', 'Access rules')}</nav>`;
}

/** A bar chart as SVG markup (no script, no inline style), with the numbers in a table for screen readers. */
function usageChart(days: RecoveryCodeStatistics['last30Days']): Html {
  const width = 600;
  const height = 160;
  const max = Math.max(1, ...days.flatMap((day) => [day.used, day.failed]));
  const slot = width / days.length;
  const bar = (value: number) => Math.round((value / max) * (height - 20));
  return html`<figure class="chart">
<svg viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="chart-title" preserveAspectRatio="none">
<title id="chart-title">Recovery codes used and failed attempts per day, last 30 days</title>
<line x1="0" y1="${height - 0.5}" x2="${width}" y2="${height - 0.5}" class="axis"/>
${days.map((day, index) => {
  const x = index * slot;
  return html`<rect class="used" x="${(x + 2).toFixed(1)}" y="${height - bar(day.used)}" width="${(slot / 2 - 2).toFixed(1)}" height="${bar(day.used)}"><title>${day.date}: ${day.used} used</title></rect><rect class="failed" x="${(x + slot / 2).toFixed(1)}" y="${height - bar(day.failed)}" width="${(slot / 2 - 2).toFixed(1)}" height="${bar(day.failed)}"><title>${day.date}: ${day.failed} failed</title></rect>`;
})}
</svg>
<figcaption><span class="key used"></span> used <span class="key failed"></span> failed attempts · ${days[0]?.date} to ${days[days.length - 1]?.date}</figcaption>
</figure>
<details><summary>The numbers</summary>
<table><thead><tr><th scope="col">Date</th><th scope="col">Used</th><th scope="col">Failed</th></tr></thead>
<tbody>${days.map((day) => html`<tr><td>${day.date}</td><td>${day.used}</td><td>${day.failed}</td></tr>`)}</tbody></table>
</details>`;
}

const factorKindLabels = {
  totp: 'Authenticator apps',
  email: 'Email codes',
  webauthn: 'Security keys and passkeys',
} as const;

export function dashboardPage(input: { stats: RecoveryCodeStatistics; enabled: boolean }): Html {
  const { stats } = input;
  const tile = (id: string, label: string, value: number, hint?: string) =>
    html`<div class="tile"><span class="label">${label}</span><strong id="${id}">${value.toLocaleString('en')}</strong>${hint ? html`<span class="hint">${hint}</span>` : ''}</div>`;
  return html`<h1>Administration</h1>
${adminNav('/admin')}
${input.enabled ? '' : html`<p class="warning">Recovery codes are turned off: nobody can generate or use them. <a href="/admin/settings">Change this</a>.</p>`}
<h2>Recovery codes</h2>
<div class="tiles">
${tile('stat-users-with-codes', 'Users with codes', stats.usersWithCodes, 'at least one unused code')}
${tile('stat-low-on-codes', 'Low on codes', stats.lowOnCodes, `${stats.lowThreshold} or fewer left`)}
${tile('stat-used-today', 'Used today', stats.usedToday)}
${tile('stat-used-month', 'Used this month', stats.usedThisMonth)}
${tile('stat-failed-today', 'Failed attempts today', stats.failedToday)}
</div>
<p class="hint">Days and months are in the ${stats.timeZone} time zone.</p>
<h2>Two-factor methods</h2>
<div class="tiles" id="factors-by-kind">
${stats.factorsByKind.map((row) =>
  tile(`stat-factors-${row.kind}`, factorKindLabels[row.kind], row.users, `users (${row.factors} in all)`),
)}
</div>
<h2>Last 30 days</h2>
${usageChart(stats.last30Days)}`;
}

export function adminSettingsPage(input: {
  csrf: string;
  settings: RecoveryCodeSettings;
  roles: readonly string[];
  problems?: string[];
  notice?: string;
}): Html {
  const { settings } = input;
  const policies = [
    ['continue', 'Sign in and keep the other codes (GitHub, Google, most services)'],
    ['disable_mfa', 'Sign in and turn two-factor off, so the user sets it up again'],
    [
      'rotate',
      'Sign in and replace the set with new codes, shown once (Auth0; use 1 code per set for a single code)',
    ],
  ] as const;
  return html`<h1>Recovery-code settings</h1>
${adminNav('/admin/settings')}
${noticeBox(input.notice)}
${input.problems?.length ? html`<div class="error" role="alert"><p>Nothing was saved:</p><ul>${input.problems.map((problem) => html`<li>${problem}</li>`)}</ul></div>` : ''}
<form method="post" action="/admin/settings" class="stack wide">
  ${csrfField(input.csrf)}
  <div class="check"><input type="checkbox" id="enabled" name="enabled" value="on" ${settings.enabled ? html`checked` : ''}><label for="enabled">Enable backup codes</label></div>
  <p class="hint">When off, nobody can generate or use recovery codes, and sign-in does not offer them.</p>

  <label for="allowedRoles">Roles allowed to generate codes</label>
  <select id="allowedRoles" name="allowedRoles" multiple size="${Math.min(8, input.roles.length)}">
    ${input.roles.map((role) => html`<option value="${role}" ${settings.allowedRoles.includes(role) ? html`selected` : ''}>${role}</option>`)}
  </select>
  <div class="actions">
    <button type="submit" name="bulk" value="all" class="secondary" data-select-all="allowedRoles">Select all</button>
    <button type="submit" name="bulk" value="none" class="secondary" data-select-none="allowedRoles">Remove all</button>
  </div>

  <label for="codesPerSet">Codes per set</label>
  <input id="codesPerSet" name="codesPerSet" type="number" min="1" max="1024" required value="${settings.codesPerSet}">
  <label for="secretLength">Code length (symbols after the slot, 5 bits each)</label>
  <input id="secretLength" name="secretLength" type="number" min="8" max="32" required value="${settings.format.secretLength}">
  <label for="slotLength">Slot symbols</label>
  <select id="slotLength" name="slotLength">
    <option value="1" ${settings.format.slotLength === 1 ? html`selected` : ''}>1 (up to 32 codes per set)</option>
    <option value="2" ${settings.format.slotLength === 2 ? html`selected` : ''}>2 (up to 1,024 codes per set)</option>
  </select>
  <label for="groupSize">Group size (symbols between dashes)</label>
  <input id="groupSize" name="groupSize" type="number" min="3" max="8" required value="${settings.format.groupSize}">
  <label for="lowThreshold">Warn when this many codes or fewer are left</label>
  <input id="lowThreshold" name="lowThreshold" type="number" min="0" required value="${settings.lowThreshold}" aria-describedby="lowThreshold-hint">
  <p class="hint" id="lowThreshold-hint">Below the codes per set; a larger number is lowered when saved. With 1 code per set it is 0: there is no low-on-codes warning.</p>

  <fieldset>
    <legend>After a recovery code is used</legend>
    ${policies.map(([value, label]) => html`<div class="check"><input type="radio" id="policy-${value}" name="policy" value="${value}" ${settings.policy === value ? html`checked` : ''}><label for="policy-${value}">${label}</label></div>`)}
  </fieldset>

  <fieldset>
    <legend>Roles that must set up two-factor authentication</legend>
    ${input.roles.map((role) => html`<div class="check"><input type="checkbox" id="mfa-required-${role}" name="mfaRequiredRoles" value="${role}" ${settings.mfaRequiredRoles.includes(role) ? html`checked` : ''}><label for="mfa-required-${role}">${role}</label></div>`)}
  </fieldset>
  <button type="submit" name="bulk" value="">Save changes</button>
</form>`;
}

export function usersWithCodesPage(input: {
  rows: UserWithCodes[];
  search: string;
  next?: string;
  csrf: string;
  lookupError?: string;
}): Html {
  const query = input.search ? `?q=${encodeURIComponent(input.search)}` : '';
  return html`<h1>Users with backup codes</h1>
${adminNav('/admin/users')}
<form method="get" action="/admin/users" class="search" role="search">
  <label for="q">Email starts with</label>
  <input id="q" name="q" type="search" value="${input.search}">
  <button type="submit">Search</button>
  <a href="/admin/users${query}" class="button secondary">Refresh</a>
</form>
${
  input.rows.length === 0
    ? html`<p id="empty-state">${input.search ? 'No user whose email starts with that has backup codes.' : 'Nobody has backup codes yet. Users get them when they turn on two-factor authentication.'}</p>`
    : html`<div class="table-wrap"><table id="users-with-codes">
<thead><tr><th scope="col">Email</th><th scope="col">Roles</th><th scope="col">Codes left</th><th scope="col">Generated</th><th scope="col">Last used</th></tr></thead>
<tbody>${input.rows.map(
        (row) =>
          html`<tr><td><a href="/admin/users/${row.id}">${row.email}</a></td><td>${row.roles.join(', ')}</td><td>${row.remaining} of ${row.total}</td><td>${when(row.generatedAt)}</td><td>${when(row.lastUsedAt)}</td></tr>`,
      )}</tbody></table></div>`
}
${input.next ? html`<p><a href="${input.next}" rel="next">Next page</a></p>` : ''}
<h2>Find any account</h2>
${errorBox(input.lookupError)}
<form method="get" action="/admin/accounts" class="search">
  <label for="lookup-email">Email address</label>
  <input id="lookup-email" name="email" type="email" required>
  <button type="submit">Open</button>
</form>`;
}

export function adminUserPage(input: {
  csrf: string;
  user: UserRecord;
  overview: MfaOverview;
  roles: readonly string[];
  notice?: string;
  error?: string;
  adminHasTotp: boolean;
}): Html {
  const { user, overview } = input;
  const codes = overview.recoveryCodes;
  return html`<h1>${user.email}</h1>
${adminNav('/admin/users')}
${noticeBox(input.notice)}${errorBox(input.error)}
<dl class="facts">
  <dt>Two-factor authentication</dt><dd id="user-mfa">${overview.mfaEnabled ? `on (${overview.factors.map((f) => (f.kind === 'totp' ? 'authenticator app' : 'email codes')).join(', ')})` : 'off'}</dd>
  <dt>Recovery codes</dt><dd id="user-codes">${codes.hasCodes ? `${codes.remaining} of ${codes.total} left` : 'none'}</dd>
  <dt>Remembered browsers</dt><dd id="user-devices">${overview.devices.length === 0 ? 'none' : overview.devices.map((device) => `${device.label} (until ${when(device.expiresAt)})`).join(', ')}</dd>
  <dt>Account created</dt><dd>${when(user.createdAt)}</dd>
</dl>
${
  overview.devices.length > 0
    ? html`<form method="post" action="/admin/users/${user.id}/forget-devices" class="inline">${csrfField(input.csrf)}<button type="submit" class="secondary">Forget this user's remembered browsers</button></form>`
    : ''
}
<h2>Roles</h2>
<form method="post" action="/admin/users/${user.id}/roles" class="stack">
  ${csrfField(input.csrf)}
  <fieldset><legend>Roles of this user</legend>
  ${input.roles.map((role) => html`<div class="check"><input type="checkbox" id="role-${role}" name="roles" value="${role}" ${user.roles.includes(role) ? html`checked` : ''}><label for="role-${role}">${role}</label></div>`)}
  </fieldset>
  <button type="submit">Save roles</button>
</form>
<h2>Reset two-factor authentication</h2>
<p>For a user who lost every factor and every recovery code, after you have checked who they are. This removes all their factors and codes, signs them out everywhere and emails them.</p>
<form method="post" action="/admin/users/${user.id}/reset" class="stack">
  ${csrfField(input.csrf)}
  <label for="reason">Reason (kept in the audit log)</label>
  <textarea id="reason" name="reason" required maxlength="${MAX_RESET_REASON_LENGTH}" rows="3"></textarea>
  <label for="password">Your password, to confirm</label>
  <input id="password" name="password" type="password" autocomplete="current-password">
  ${input.adminHasTotp ? html`<label for="totp-code">or a code from your authenticator app</label><input id="totp-code" name="totpCode" type="text" inputmode="numeric" autocomplete="one-time-code" maxlength="12">` : ''}
  <button type="submit" class="danger">Reset two-factor authentication</button>
</form>`;
}

export function rolesPage(input: {
  csrf: string;
  roles: readonly string[];
  builtIn: readonly string[];
  error?: string;
  notice?: string;
}): Html {
  return html`<h1>Roles</h1>
${adminNav('/admin/roles')}
${noticeBox(input.notice)}${errorBox(input.error)}
<ul id="roles">${input.roles.map((role) => html`<li>${role}${input.builtIn.includes(role) ? html` <span class="hint">(built in)</span>` : ''}</li>`)}</ul>
<form method="post" action="/admin/roles" class="stack">
  ${csrfField(input.csrf)}
  <label for="role-name">New role</label>
  <input id="role-name" name="name" type="text" required maxlength="40" pattern="[a-z0-9][a-z0-9_\\-]*" aria-describedby="role-hint">
  <p class="hint" id="role-hint">Lowercase letters, digits, dashes and underscores.</p>
  <button type="submit">Add role</button>
</form>`;
}

export interface AuditFilterForm {
  user: string;
  action: string;
  from: string;
  to: string;
}

export function auditLogPage(input: {
  csrf: string;
  events: AuditEvent[];
  emails: Map<string, string>;
  filter: AuditFilterForm;
  actions: readonly string[];
  next?: string;
  exportQuery: string;
  error?: string;
  notice?: string;
  adminHasTotp: boolean;
}): Html {
  // An email may break after its @ and nowhere else, so a person's cell is at most two lines.
  const who = (id: string | null) => {
    const email = id ? (input.emails.get(id) ?? id) : '—';
    const at = email.lastIndexOf('@');
    return at > 0 ? html`${email.slice(0, at + 1)}<wbr>${email.slice(at + 1)}` : html`${email}`;
  };
  return html`<h1>Audit log</h1>
${adminNav('/admin/audit')}
${noticeBox(input.notice)}${errorBox(input.error)}
<form method="get" action="/admin/audit" class="filters">
  <div><label for="f-user">User email</label><input id="f-user" name="user" type="email" value="${input.filter.user}"></div>
  <div><label for="f-action">Event</label><select id="f-action" name="action"><option value="">All events</option>${input.actions.map((action) => html`<option value="${action}" ${input.filter.action === action ? html`selected` : ''}>${action}</option>`)}</select></div>
  <div><label for="f-from">From (UTC)</label><input id="f-from" name="from" type="date" value="${input.filter.from}"></div>
  <div><label for="f-to">To (UTC, inclusive)</label><input id="f-to" name="to" type="date" value="${input.filter.to}"></div>
  <div><button type="submit">Filter</button></div>
</form>
<p class="actions"><a class="button secondary" href="/admin/audit/export.csv${input.exportQuery}">Export CSV</a> <a class="button secondary" href="/admin/audit/export.jsonl${input.exportQuery}">Export JSON Lines</a> <a class="button secondary" href="/admin/audit/verify">Verify the chain</a></p>
${
  input.events.length === 0
    ? html`<p id="empty-state">No events match.</p>`
    : html`<div class="table-wrap"><table id="audit-events"><thead><tr><th scope="col">#</th><th scope="col">Time (UTC)</th><th scope="col">Event</th><th scope="col">Outcome</th><th scope="col">User</th><th scope="col">Actor</th><th scope="col">IP</th><th scope="col">Browser</th><th scope="col">Details</th></tr></thead>
<tbody>${input.events.map(
        (event) =>
          html`<tr${event.chainSeq === null ? html` class="unsealed"` : ''}><td>${event.seq}${event.chainSeq === null ? html` <span class="badge" title="Committed; the sealer has not linked it into the hash chain yet">not yet sealed</span>` : ''}</td><td class="time">${when(event.at)}</td><td>${event.action}</td><td>${event.outcome}</td><td class="who">${who(event.userId)}</td><td class="who">${who(event.actorId)}</td><td class="ip">${event.ip ?? '—'}</td><td class="ua" title="${event.userAgent ?? ''}">${event.userAgent ?? '—'}</td><td class="details">${auditDetails(event.details)}</td></tr>`,
      )}</tbody></table></div>`
}
${input.next ? html`<p><a href="${input.next}" rel="next">Older events</a></p>` : ''}
<h2>Retention</h2>
<form method="post" action="/admin/audit/purge" class="stack">
  ${csrfField(input.csrf)}
  <label for="days">Delete events older than (days)</label>
  <input id="days" name="days" type="number" min="30" max="36500" required value="365">
  <p class="hint">The chain stays verifiable: it is re-anchored at the first kept event. At least 30 days are always kept.</p>
  <label for="purge-password">Your password, to confirm</label>
  <input id="purge-password" name="password" type="password" autocomplete="current-password">
  ${input.adminHasTotp ? html`<label for="purge-totp">or a code from your authenticator app</label><input id="purge-totp" name="totpCode" type="text" inputmode="numeric" autocomplete="one-time-code" maxlength="12">` : ''}
  <button type="submit" class="danger">Delete old events</button>
</form>`;
}

/** Longest value shown in a row's one-line summary; the full value is one click away. */
const SUMMARY_VALUE_CHARS = 24;

/**
 * An event's details as a one-line summary (each value cut short) that opens into the full values, so a
 * `settings_changed` row with two JSON documents stays a line tall until someone asks to read it.
 */
function auditDetails(details: AuditEvent['details']): Html {
  const entries = Object.entries(details);
  if (entries.length === 0) return html`—`;
  const text = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));
  const short = (value: string) =>
    value.length > SUMMARY_VALUE_CHARS ? `${value.slice(0, SUMMARY_VALUE_CHARS - 1)}…` : value;
  const summary = entries.map(([key, value]) => `${key}=${short(text(value))}`).join(' ');
  const full = entries.some(([, value]) => text(value).length > SUMMARY_VALUE_CHARS);
  if (!full) return html`${summary}`;
  return html`<details><summary>${summary}</summary><dl>${entries.map(
    ([key, value]) => html`<dt>${key}</dt><dd>${text(value)}</dd>`,
  )}</dl></details>`;
}

export function auditVerifyPage(input: { result: ChainVerification; message?: string }): Html {
  return html`<h1>Audit chain</h1>
${adminNav('/admin/audit')}
${
  input.result.ok
    ? html`<p class="notice" role="status" id="chain-result">The chain verifies: ${input.result.checked.toLocaleString('en')} events, each linked to the one before, none altered or missing.</p>`
    : html`<p class="error" role="alert" id="chain-result">The chain is broken. ${input.message} ${input.result.checked.toLocaleString('en')} events before it verified.</p>`
}
<p><a href="/admin/audit">Back to the audit log</a></p>`;
}

export function apiKeysPage(input: {
  csrf: string;
  keys: {
    id: string;
    name: string;
    scopes: readonly string[];
    createdAt: Date;
    lastUsedAt: Date | null;
    revokedAt: Date | null;
  }[];
  scopes: readonly string[];
  created?: { key: string; name: string };
  error?: string;
  notice?: string;
}): Html {
  return html`<h1>API keys</h1>
${adminNav('/admin/api-keys')}
${noticeBox(input.notice)}${errorBox(input.error)}
${
  input.created
    ? html`<div class="warning" role="status"><p><strong>Copy the key for ${input.created.name} now.</strong> It is shown only this once.</p><p><code id="new-api-key" class="secret">${input.created.key}</code></p></div>`
    : ''
}
<p>Backends call the <a href="/docs">JSON API</a> with <code>Authorization: Bearer sk_…</code>. Keys are stored only as hashes; every use of a key is recorded in the audit log under its id.</p>
${
  input.keys.length === 0
    ? html`<p id="empty-state">No API keys yet.</p>`
    : html`<div class="table-wrap"><table id="api-keys"><thead><tr><th scope="col">Name</th><th scope="col">Id</th><th scope="col">Scopes</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col">Status</th></tr></thead>
<tbody>${input.keys.map(
        (key) =>
          html`<tr><td>${key.name}</td><td><code>${key.id}</code></td><td>${key.scopes.join(' ')}</td><td>${when(key.createdAt)}</td><td>${when(key.lastUsedAt)}</td><td>${
            key.revokedAt
              ? `revoked ${when(key.revokedAt)}`
              : html`<form method="post" action="/admin/api-keys/${key.id}/revoke" class="inline">${csrfField(input.csrf)}<button type="submit" class="link">Revoke ${key.name}</button></form>`
          }</td></tr>`,
      )}</tbody></table></div>`
}
<h2>Create a key</h2>
<form method="post" action="/admin/api-keys" class="stack">
  ${csrfField(input.csrf)}
  <label for="key-name">Name (what uses it)</label>
  <input id="key-name" name="name" type="text" required maxlength="80">
  <fieldset><legend>Scopes</legend>
  ${input.scopes.map((scope) => html`<div class="check"><input type="checkbox" id="scope-${scope}" name="scopes" value="${scope}"><label for="scope-${scope}">${scope}</label></div>`)}
  </fieldset>
  <button type="submit">Create key</button>
</form>`;
}
