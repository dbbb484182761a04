import type { AccessRule } from '../../core/access-rules.js';
import type { AccessPreview } from '../../service/forward-auth/preview.js';
import { type Html, html } from '../html.js';
import { csrfField, errorBox, noticeBox } from '../layout.js';
import { adminNav } from './admin-pages.js';

export interface AccessTestForm {
  url: string;
  method: string;
  email: string;
}

const verdicts: Record<AccessPreview['decision'], string> = {
  allowed: 'Allowed: the app gets the request with Remote-User.',
  sign_in: 'Sent to sign in first.',
  second_factor_setup: 'Sent to set up a second factor (and save recovery codes) first.',
  denied: 'Denied (403).',
};

function describeRule(rule: AccessRule): string {
  const parts = [rule.hosts.join(', ')];
  if (rule.pathPrefix) parts.push(`path starts with ${rule.pathPrefix}`);
  if (rule.pathRegex) parts.push(`path matches /${rule.pathRegex}/`);
  if (rule.methods) parts.push(rule.methods.join(' '));
  if (rule.roles) parts.push(`roles: ${rule.roles.join(', ')}`);
  return parts.join(' · ');
}

function ruleTable(id: string, rules: readonly AccessRule[]): Html {
  return html`<div class="table-wrap"><table id="${id}"><thead><tr><th scope="col">#</th><th scope="col">Name</th><th scope="col">Matches</th><th scope="col">Policy</th></tr></thead>
<tbody>${rules.map(
    (rule, index) =>
      html`<tr><td>${index + 1}</td><td><code>${rule.name}</code></td><td>${describeRule(rule)}</td><td><code>${rule.policy}</code></td></tr>`,
  )}</tbody></table></div>`;
}

function previewBox(
  form: AccessTestForm | undefined,
  preview: AccessPreview | undefined,
  error?: string,
): Html {
  if (!form) return html``;
  if (error) return html`<div class="error" role="alert" id="access-test-result">${error}</div>`;
  if (!preview) return html``;
  const who = form.email ? form.email : 'someone not signed in';
  const by = preview.rule ? html`rule <code>${preview.rule}</code>` : html`the default policy`;
  const reason =
    preview.reason === 'address_not_protected' ? ' The address is not under the cookie domain.' : '';
  return html`<div class="notice" role="status" id="access-test-result"><p><strong>${verdicts[preview.decision]}</strong>${reason}</p><p>${form.method} ${form.url} as ${who}: decided by ${by}${preview.policy ? html` (<code>${preview.policy}</code>)` : ''}.</p></div>`;
}

/** Administration → Access rules: forward auth's rules, the console's editor and "test a URL as a user". */
export function accessRulesPage(input: {
  csrf: string;
  configRules: readonly AccessRule[];
  consoleRules: readonly AccessRule[];
  defaultPolicy: string;
  defaultPolicySource: 'console' | 'configuration';
  /** The editor's text: the saved document, or what was submitted when it was refused. */
  documentText: string;
  problems?: readonly string[];
  notice?: string;
  test?: { form: AccessTestForm; preview?: AccessPreview; error?: string };
}): Html {
  return html`<h1>Access rules</h1>
${adminNav('/admin/access-rules')}
${noticeBox(input.notice)}
<p>Forward auth (docs/integrations.md) checks each request to a protected app against these rules, in order: the first that matches decides; when none does, the default policy (<code id="default-policy">${input.defaultPolicy}</code>, from the ${input.defaultPolicySource}) decides.</p>
<h2>From the configuration file</h2>
${
  input.configRules.length === 0
    ? html`<p id="no-config-rules">None (SPAREKEY_ACCESS_RULES_FILE is not set or lists no rules).</p>`
    : ruleTable('config-rules', input.configRules)
}
<h2>Set here</h2>
<p>Evaluated after the configuration file's rules.</p>
${input.consoleRules.length === 0 ? html`<p id="no-console-rules">None yet.</p>` : ruleTable('console-rules', input.consoleRules)}
${
  input.problems && input.problems.length > 0
    ? html`<div class="error" role="alert" id="form-error"><p>Those access rules cannot be saved. Nothing was changed:</p><ul>${input.problems.map((problem) => html`<li>${problem}</li>`)}</ul></div>`
    : errorBox(undefined)
}
<form method="post" action="/admin/access-rules" class="stack">
  ${csrfField(input.csrf)}
  <label for="access-rules">Rules (JSON: {"defaultPolicy": "deny", "rules": [...]}; each rule has name, hosts, policy and optionally pathPrefix or pathRegex, methods, roles)</label>
  <textarea id="access-rules" name="document" rows="14" maxlength="60000" spellcheck="false">${input.documentText}</textarea>
  <button type="submit">Save rules</button>
</form>
<h2>Test a URL as a user</h2>
${previewBox(input.test?.form, input.test?.preview, input.test?.error)}
<form method="get" action="/admin/access-rules" class="stack">
  <label for="test-url">Address</label>
  <input id="test-url" name="test_url" type="url" required maxlength="2048" placeholder="https://app.example.com/admin" value="${input.test?.form.url ?? ''}">
  <label for="test-method">Method</label>
  <input id="test-method" name="test_method" maxlength="16" value="${input.test?.form.method ?? 'GET'}">
  <label for="test-email">As the account (empty: not signed in)</label>
  <input id="test-email" name="test_email" type="email" maxlength="254" value="${input.test?.form.email ?? ''}">
  <button type="submit">Test</button>
</form>`;
}
