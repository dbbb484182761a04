import { type Html, html } from '../html.js';
import { csrfField, errorBox, noticeBox } from '../layout.js';
import { securityKeyForm } from './security-key-pages.js';

export interface FormState {
  csrf: string;
  error?: string;
  notice?: string;
  email?: string;
}

const describedBy = (state: FormState) => (state.error ? 'form-error' : undefined);

export function signInPage(state: FormState & { signUpOpen: boolean; passkey?: boolean }): Html {
  return html`<h1>Sign in</h1>
${noticeBox(state.notice)}${errorBox(state.error)}
<form method="post" action="/sign-in" class="stack" aria-describedby="${describedBy(state)}">
  ${csrfField(state.csrf)}
  <label for="email">Email address</label>
  <input id="email" name="email" type="email" autocomplete="username" required value="${state.email ?? ''}" autofocus>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required>
  <button type="submit">Sign in</button>
</form>
${
  state.passkey
    ? securityKeyForm({
        id: 'passkey-sign-in',
        csrf: state.csrf,
        ceremony: 'authenticate',
        action: '/sign-in/passkey',
        options: '/sign-in/passkey/options',
        submit: 'Sign in with a passkey',
        buttonClass: 'secondary',
        lead: 'Or use a passkey: no password needed.',
      })
    : ''
}
<p><a href="/forgot-password">Forgot your password?</a></p>
${state.signUpOpen ? html`<p>New here? <a href="/sign-up">Create an account</a>.</p>` : ''}
<p><a href="/lost-access">Lost access to your two-factor methods?</a></p>`;
}

export function signUpPage(state: FormState): Html {
  return html`<h1>Create an account</h1>
${errorBox(state.error)}
<form method="post" action="/sign-up" class="stack">
  ${csrfField(state.csrf)}
  <label for="email">Email address</label>
  <input id="email" name="email" type="email" autocomplete="username" required value="${state.email ?? ''}" autofocus>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="new-password" minlength="8" required aria-describedby="password-hint">
  <p class="hint" id="password-hint">At least 8 characters. Long passphrases are welcome; common or breached passwords are refused.</p>
  <button type="submit">Create account</button>
</form>
<p>Already have an account? <a href="/sign-in">Sign in</a>.</p>`;
}

export function setupPage(state: FormState & { token: string }): Html {
  return html`<h1>Set up SpareKey</h1>
<p>Create the first administrator account. This link works once.</p>
${errorBox(state.error)}
<form method="post" action="/setup" class="stack">
  ${csrfField(state.csrf)}
  <input type="hidden" name="token" value="${state.token}">
  <label for="email">Administrator email address</label>
  <input id="email" name="email" type="email" autocomplete="username" required value="${state.email ?? ''}" autofocus>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="new-password" minlength="8" required>
  <div class="check"><input type="checkbox" id="recovery-codes" name="recoveryCodes" value="on" checked><label for="recovery-codes">Turn on recovery codes for everyone</label></div>
  <p class="hint">Recovery codes let people back in when they lose their phone. You can change this later.</p>
  <button type="submit">Create administrator</button>
</form>`;
}

export function lostAccessPage(input: { siteName: string }): Html {
  return html`<h1>Lost access to your account?</h1>
<p>If you still have one of your <strong>recovery codes</strong>, sign in with your email and password and choose <em>Use a recovery code</em> on the next page.</p>
<h2>No authenticator, no email and no recovery codes?</h2>
<p>Then only the ${input.siteName} support team can help. For your security they cannot turn off two-factor authentication on request alone. Contact them from the email address of your account and be ready to give:</p>
<ul>
  <li>the email address of the account;</li>
  <li>roughly when you created it and when you last signed in successfully;</li>
  <li>any other proof of ownership they ask for.</li>
</ul>
<p>Once they have checked your identity, an administrator resets your two-factor authentication and recovery codes. You then sign in with your password and set up two-factor authentication again, with new recovery codes.</p>
<p><a href="/sign-in">Back to sign in</a></p>`;
}

export function messagePage(input: {
  heading: string;
  message: string;
  link?: { href: string; text: string };
}): Html {
  return html`<h1>${input.heading}</h1>
<p class="error" role="alert">${input.message}</p>
${input.link ? html`<p><a href="${input.link.href}">${input.link.text}</a></p>` : ''}`;
}
