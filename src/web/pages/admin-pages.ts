import type { RecoveryCodeSettings } from '../../core/policy.js';
import type { RecoveryCodeStatistics } from '../../service/admin/statistics.js';
import { type Html, html } from '../html.js';
import { csrfField, errorBox, noticeBox } from '../layout.js';

/** A time as administrators read it everywhere: minutes, UTC; a dash for never. */
export const when = (at: Date | null) =>
  at ? `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC` : '—';

export function adminNav(current: string): Html {
  const link = (href: string, text: string) =>
    html`<a href="${href}" ${current === href ? html`aria-current="page"` : ''}>${text}</a>`;
  return html`<nav class="admin-nav" aria-label="Administration">${link('/admin', 'Statistics')}${link('/admin/settings', 'Recovery-code settings')}${link('/admin/users', 'Users with codes')}${link('/admin/roles', 'Roles')}${link('/admin/audit', 'Audit log')}${link('/admin/applications', 'Applications')}${link('/admin/api-keys', 'API keys')}${link('/admin/webhooks', 'Webhooks')}${link('/admin/access-rules', 'Access rules')}</nav>`;
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
${usageChart(stats.last30Days)}
<h2>Sign-ins per application</h2>
${
  stats.signInsByApplication.length === 0
    ? html`<p id="no-application-sign-ins">No application signs in through SpareKey yet: <a href="/admin/applications">register one</a>.</p>`
    : html`<div class="table-wrap"><table id="sign-ins-by-application"><thead><tr><th scope="col">Application</th><th scope="col">Today</th><th scope="col">Last 30 days</th></tr></thead>
<tbody>${stats.signInsByApplication.map(
        (row) =>
          html`<tr data-client-id="${row.clientId}"><td>${row.name}${row.disabled ? ' (disabled)' : ''}</td><td>${row.today.toLocaleString('en')}</td><td>${row.last30Days.toLocaleString('en')}</td></tr>`,
      )}</tbody></table></div>`
}`;
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
