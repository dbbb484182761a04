import type { AuditEvent } from '../../core/audit.js';
import type { ChainVerification } from '../../service/audit/audit-log.js';
import { type Html, html } from '../html.js';
import { csrfField, errorBox, noticeBox } from '../layout.js';
import { adminNav, when } from './admin-pages.js';

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
