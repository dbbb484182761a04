import { type Html, html } from '../html.js';
import { csrfField, errorBox, noticeBox } from '../layout.js';
import type { FormState } from './account-pages.js';

/**
 * Settings → Password. The account's address rides along as a hidden `username` field, so a password
 * manager knows which of its entries to update (the autocomplete tokens say which field is which).
 */
export function changePasswordPage(state: FormState & { account: string }): Html {
  return html`<h1>Change your password</h1>
${noticeBox(state.notice)}${errorBox(state.error)}
<p>For <strong>${state.account}</strong>. Every other device signed in to your account will be signed out, and remembered browsers will ask for your second factor again.</p>
<form method="post" action="/settings/password" class="stack">
  ${csrfField(state.csrf)}
  <input type="email" name="username" autocomplete="username" value="${state.account}" hidden readonly>
  <label for="current-password">Current password</label>
  <input id="current-password" name="currentPassword" type="password" autocomplete="current-password" maxlength="4096" required autofocus>
  <label for="new-password">New password</label>
  <input id="new-password" name="newPassword" type="password" autocomplete="new-password" minlength="8" maxlength="4096" required aria-describedby="new-password-hint">
  <p class="hint" id="new-password-hint">At least 8 characters. Long passphrases are welcome; common or breached passwords are refused.</p>
  <button type="submit">Change password</button>
</form>
<p><a href="/forgot-password">Forgot your current password?</a></p>
<p><a href="/settings/two-factor">Back to settings</a></p>`;
}
