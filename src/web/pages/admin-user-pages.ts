import type { UserRecord } from '../../service/accounts/user-lookup.js';
import { MAX_RESET_REASON_LENGTH } from '../../service/admin/reset-mfa.js';
import type { UserWithCodes } from '../../service/admin/users-with-codes.js';
import type { MfaOverview } from '../../service/factors/manage-mfa.js';
import { type Html, html } from '../html.js';
import { csrfField, errorBox, noticeBox } from '../layout.js';
import { adminNav, when } from './admin-pages.js';

/** The users-with-codes listing, one page of it, with the search and the next page's link. */
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
