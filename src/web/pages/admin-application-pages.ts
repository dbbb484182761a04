import type { OidcClientRecord } from '../../service/oidc/clients.js';
import { OIDC_SCOPES } from '../../service/oidc/clients.js';
import { type Html, html } from '../html.js';
import { csrfField, errorBox, noticeBox } from '../layout.js';
import { adminNav, when } from './admin-pages.js';

/** What each scope lets an application read, as the form explains it. */
const scopeHints: Record<(typeof OIDC_SCOPES)[number], string> = {
  openid: 'who signed in and how (required)',
  email: 'the email address',
  profile: 'the name',
  groups: 'the SpareKey roles',
  offline_access: 'refresh tokens: stays signed in',
};

/** What the form sent back after a refusal, so nothing typed is lost. */
export interface ApplicationDraft {
  name: string;
  redirectUris: string;
  postLogoutRedirectUris: string;
  kind: 'confidential' | 'public';
  firstParty: boolean;
  twoFactorRequired: boolean;
  scopes: readonly string[];
}

export const EMPTY_DRAFT: ApplicationDraft = {
  name: '',
  redirectUris: '',
  postLogoutRedirectUris: '',
  kind: 'confidential',
  firstParty: false,
  twoFactorRequired: true,
  scopes: ['openid', 'email', 'profile'],
};

const checked = (on: boolean) => (on ? html` checked` : '');

function clientRow(client: OidcClientRecord, csrf: string): Html {
  // Short words on the buttons; each one's accessible name says which application it acts on.
  const action = (path: string, label: string, name: string, extra = '') =>
    html`<form method="post" action="/admin/applications/${client.id}/${path}" class="inline">${csrfField(csrf)}<button type="submit" class="link${extra}" aria-label="${name}">${label}</button></form> `;
  return html`<tr data-client-id="${client.id}"><td><strong>${client.name}</strong><br><code>${client.id}</code><br><span class="hint">${client.redirectUris.join(' ')}</span></td><td>${client.kind}</td><td>${client.disabledAt ? `disabled ${when(client.disabledAt)}` : 'enabled'}</td><td>${client.twoFactorRequired ? 'two factors required' : 'as the person’s role requires'}; ${client.firstParty ? 'first-party (no consent page)' : 'asks for consent'}</td><td>${client.scopes.join(' ')}</td><td>${
    client.kind === 'confidential'
      ? action('rotate-secret', 'Rotate secret', `Rotate the secret of ${client.name}`)
      : ''
  }${
    client.disabledAt
      ? action('enable', 'Enable', `Enable ${client.name}`)
      : action('disable', 'Disable', `Disable ${client.name}`)
  }${action('delete', 'Delete', `Delete ${client.name}`, ' danger')}</td></tr>`;
}

/** Administration → Applications: the OpenID Connect clients, with the one-time secret when just made. */
export function applicationsPage(input: {
  csrf: string;
  clients: readonly OidcClientRecord[];
  issuer: string | null;
  secret?: { name: string; clientId: string; secret: string; rotated: boolean };
  registered?: { name: string; clientId: string };
  draft?: ApplicationDraft;
  error?: string;
  notice?: string;
}): Html {
  const draft = input.draft ?? EMPTY_DRAFT;
  return html`<h1>Applications</h1>
${adminNav('/admin/applications')}
${noticeBox(input.notice)}${errorBox(input.error)}
${
  input.secret
    ? html`<div class="warning" role="status"><p><strong>Copy the ${input.secret.rotated ? 'new ' : ''}client secret of ${input.secret.name} now.</strong> It is shown only this once${input.secret.rotated ? '; the old one no longer works' : ''}.</p><p>Client id <code id="new-client-id">${input.secret.clientId}</code></p><p>Client secret <code id="new-client-secret" class="secret">${input.secret.secret}</code></p></div>`
    : input.registered
      ? html`<div class="notice" role="status"><p>${input.registered.name} was registered as a public application (no secret: it must use PKCE).</p><p>Client id <code id="new-client-id">${input.registered.clientId}</code></p></div>`
      : ''
}
<p>Applications that speak OpenID Connect (Grafana, Gitea, Nextcloud, your own) can use SpareKey as their sign-in, with every second factor and recovery codes. ${
    input.issuer
      ? html`Their issuer is <code id="issuer">${input.issuer}</code> (discovery at <code>${input.issuer}/.well-known/openid-configuration</code>).`
      : html`Set <code>SPAREKEY_PUBLIC_URL</code> to turn the provider on.`
  } Settings for common applications are in docs/integrations.md.</p>
${
  input.clients.length === 0
    ? html`<p id="empty-state">No applications yet.</p>`
    : html`<div class="table-wrap"><table id="applications"><thead><tr><th scope="col">Application, client id, redirect URIs</th><th scope="col">Kind</th><th scope="col">Status</th><th scope="col">Sign-in rules</th><th scope="col">Scopes</th><th scope="col">Actions</th></tr></thead>
<tbody>${input.clients.map((client) => clientRow(client, input.csrf))}</tbody></table></div>`
}
<h2>Register an application</h2>
<form method="post" action="/admin/applications" class="stack" id="register-application">
  ${csrfField(input.csrf)}
  <label for="app-name">Name (shown to people on the consent page)</label>
  <input id="app-name" name="name" type="text" required maxlength="100" value="${draft.name}">
  <label for="app-redirect-uris">Redirect URIs, one per line (exact; https, or http on 127.0.0.1 or localhost)</label>
  <textarea id="app-redirect-uris" name="redirectUris" rows="2" required>${draft.redirectUris}</textarea>
  <label for="app-post-logout-uris">Post-logout redirect URIs, one per line (optional)</label>
  <textarea id="app-post-logout-uris" name="postLogoutRedirectUris" rows="2">${draft.postLogoutRedirectUris}</textarea>
  <fieldset><legend>Kind</legend>
  <div class="check"><input type="radio" id="kind-confidential" name="kind" value="confidential"${checked(draft.kind === 'confidential')}><label for="kind-confidential">Confidential: a server that keeps a secret</label></div>
  <div class="check"><input type="radio" id="kind-public" name="kind" value="public"${checked(draft.kind === 'public')}><label for="kind-public">Public: a browser or mobile app (no secret, PKCE)</label></div>
  </fieldset>
  <fieldset><legend>Rules</legend>
  <div class="check"><input type="checkbox" id="app-two-factor" name="twoFactorRequired" value="on"${checked(draft.twoFactorRequired)}><label for="app-two-factor">Two-factor required: never a sign-in with the password alone</label></div>
  <div class="check"><input type="checkbox" id="app-first-party" name="firstParty" value="on"${checked(draft.firstParty)}><label for="app-first-party">First-party: run by you, no consent page</label></div>
  </fieldset>
  <fieldset><legend>Allowed scopes</legend>
  ${OIDC_SCOPES.map((scope) => html`<div class="check"><input type="checkbox" id="scope-${scope}" name="scopes" value="${scope}"${checked(draft.scopes.includes(scope))}><label for="scope-${scope}"><code>${scope}</code>: ${scopeHints[scope]}</label></div>`)}
  </fieldset>
  <button type="submit">Register application</button>
</form>`;
}
