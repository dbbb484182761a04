// Security keys and passkeys. A form marked data-webauthn asks this server for the ceremony's options
// (POST data-options with the form's CSRF token), lets the browser talk to the key through
// @simplewebauthn/browser (served from /assets/simplewebauthn-browser.js), puts the key's answer in the
// form's `response` field and submits the form. Without JavaScript the forms say a key needs it.
const { startRegistration, startAuthentication, browserSupportsWebAuthn } = window.SimpleWebAuthnBrowser ?? {};

function showProblem(form, message) {
  const box = document.getElementById(form.dataset.errorBox ?? '') ?? form.querySelector('.webauthn-error');
  if (!box) return;
  box.textContent = message;
  box.hidden = false;
  box.focus?.();
}

/** A person's words for what the browser reported (W3C WebAuthn L2 error names). */
function describe(error) {
  const name = error?.name ?? '';
  if (name === 'NotAllowedError' || name === 'AbortError') {
    return 'The security key request was cancelled or timed out. Try again, or use another way below.';
  }
  if (name === 'InvalidStateError') return 'That security key is already registered to your account.';
  if (name === 'SecurityError') return 'This address is not allowed to use security keys for this site.';
  return 'Your browser could not use a security key. Try again, or use another way below.';
}

for (const form of document.querySelectorAll('form[data-webauthn]')) {
  const noScript = form.querySelector('.webauthn-needs-script');
  if (noScript) noScript.hidden = true;
  for (const button of form.querySelectorAll('button')) button.disabled = false;
  if (!browserSupportsWebAuthn?.()) {
    showProblem(form, 'This browser cannot use security keys or passkeys. Use another way below.');
    continue;
  }
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!form.reportValidity()) return;
    const csrf = form.querySelector('input[name="_csrf"]')?.value ?? '';
    let options;
    try {
      const answer = await fetch(form.dataset.options, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ _csrf: csrf }),
        credentials: 'same-origin',
      });
      const body = await answer.json();
      if (!answer.ok) return showProblem(form, body?.error?.message ?? 'Something went wrong. Try again.');
      options = body.options;
    } catch {
      return showProblem(form, 'The site could not be reached. Check your connection and try again.');
    }
    let result;
    try {
      result =
        form.dataset.webauthn === 'register'
          ? await startRegistration({ optionsJSON: options })
          : await startAuthentication({ optionsJSON: options });
    } catch (error) {
      return showProblem(form, describe(error));
    }
    form.querySelector('input[data-webauthn-response]').value = JSON.stringify(result);
    form.submit();
  });
}
