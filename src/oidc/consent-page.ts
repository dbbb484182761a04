import { type Html, html } from '../web/html.js';

/** What each scope gives the application, in words a person can judge. */
const SCOPE_WORDS: Record<string, string> = {
  openid: 'Know who you are on SpareKey (an identifier)',
  email: 'See your email address',
  profile: 'See your name',
  groups: 'See your roles',
  offline_access: 'Stay signed in while you are away (a refresh token)',
};

export function consentPage(input: {
  csrf: string;
  uid: string;
  clientName: string;
  scopes: readonly string[];
  account: string;
}): Html {
  const known = input.scopes.filter((scope) => Object.hasOwn(SCOPE_WORDS, scope));
  return html`<h1>Allow ${input.clientName} to sign you in?</h1>
<p>You are signed in as <strong>${input.account}</strong>. <strong>${input.clientName}</strong> asks to:</p>
<ul id="consent-scopes">${known.map((scope) => html`<li data-scope="${scope}">${SCOPE_WORDS[scope] ?? scope}</li>`)}</ul>
<form method="post" action="/oidc/interaction/${input.uid}/consent" class="actions">
  <input type="hidden" name="_csrf" value="${input.csrf}">
  <button type="submit" name="decision" value="allow" id="consent-allow">Allow</button>
  <button type="submit" name="decision" value="deny" class="secondary" id="consent-deny">Deny</button>
</form>`;
}
