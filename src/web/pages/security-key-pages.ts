import type { MfaOverview } from '../../service/factors/manage-mfa.js';
import { type Html, html } from '../html.js';
import { csrfField } from '../layout.js';

/**
 * A form that runs a WebAuthn ceremony (public/webauthn.js): it asks `options` for the ceremony's options,
 * lets the browser talk to the key, puts the answer in `responseField` and submits to `action`. A failed or
 * cancelled ceremony is told in words in the form's own alert box; the page's other ways stay next to it.
 */
export function securityKeyForm(input: {
  id: string;
  csrf: string;
  ceremony: 'register' | 'authenticate';
  action: string;
  options: string;
  submit: string;
  /** The field the key's answer is posted in (`response`; step-up forms use `securityKeyResponse`). */
  responseField?: string;
  lead?: Html | string;
  fields?: Html;
  buttonClass?: string;
}): Html {
  return html`<form method="post" action="${input.action}" class="stack" id="${input.id}" data-webauthn="${input.ceremony}" data-options="${input.options}">
  ${csrfField(input.csrf)}
  <input type="hidden" name="${input.responseField ?? 'response'}" data-webauthn-response>
  ${input.lead ? html`<p>${input.lead}</p>` : ''}
  ${input.fields ?? ''}
  <div class="error webauthn-error" role="alert" tabindex="-1" hidden></div>
  <p class="hint webauthn-needs-script">Security keys and passkeys need JavaScript in this browser.</p>
  <button type="submit" class="${input.buttonClass ?? ''}" disabled>${input.submit}</button>
</form>`;
}

const day = (at: Date) => at.toISOString().slice(0, 10);

/** Settings → Two-factor authentication: the keys, each renamable and removable, and "Add a key". */
export function securityKeysSection(overview: MfaOverview, csrf: string): Html {
  if (!overview.securityKeysAvailable) return html``;
  const canRemove = overview.factors.length > 1;
  return html`<section aria-labelledby="keys-heading">
<h2 id="keys-heading">Security keys and passkeys</h2>
<p>A security key (like a YubiKey) or a passkey (on your phone, computer or password manager) signs you in with a touch, a fingerprint or your screen lock. It cannot be phished: it only answers this site.</p>
${
  overview.securityKeys.length === 0
    ? html`<p id="keys-none">You have no security keys or passkeys.</p>`
    : html`<ul class="factors" id="security-keys">${overview.securityKeys.map(
        (key) => html`<li data-key-id="${key.id}"><span><strong class="key-name">${key.name}</strong> · ${
          key.deviceType === 'multiDevice' ? 'synced passkey' : 'single-device key'
        } · added ${day(key.addedAt)} · ${key.lastUsedAt ? html`last used ${day(key.lastUsedAt)}` : 'never used'}</span>
<details><summary>Rename</summary>
<form method="post" action="/settings/two-factor/security-keys/${key.id}/rename" class="inline">
  ${csrfField(csrf)}
  <label for="rename-${key.id}">New name</label>
  <input id="rename-${key.id}" name="name" type="text" maxlength="64" required value="${key.name}">
  <button type="submit" class="secondary">Save name</button>
</form></details>
${canRemove ? html`<a href="/settings/two-factor/factors/${key.id}/remove">Remove</a>` : ''}</li>`,
      )}</ul>`
}
${securityKeyForm({
  id: 'add-security-key',
  csrf,
  ceremony: 'register',
  action: '/settings/two-factor/security-keys',
  options: '/settings/two-factor/security-keys/options',
  submit: 'Add a security key or passkey',
  fields: html`<label for="key-name">Name it, so you can tell your keys apart</label>
  <input id="key-name" name="name" type="text" maxlength="64" required placeholder="YubiKey 5C, Phone…">`,
})}
</section>`;
}
