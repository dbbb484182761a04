import { type Html, html } from '../html.js';
import { csrfField, errorBox, noticeBox } from '../layout.js';
import { adminNav, when } from './admin-pages.js';

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
