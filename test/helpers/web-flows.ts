import { expect } from 'vitest';
import { authenticatorCode } from './mfa.js';
import type { TestEnvironment } from './service-deps.js';
import type { FormClient, WebTestApp } from './web-client.js';

export const TEST_PASSWORD = 'plum-harbor-quietly-77';

/**
 * Signs up through the pages, then signs in (sign-up answers the same for a new and a taken address, so it
 * never signs anyone in); the client ends signed in.
 */
export async function signUpThroughPages(client: FormClient, email: string, password = TEST_PASSWORD) {
  await client.get('/sign-up');
  const response = await client.post('/sign-up', { email, password });
  expect(response.statusCode, response.body).toBe(303);
  expect(response.headers.location).toBe('/sign-in?notice=signed-up');
  const signedIn = await passwordStep(client, email, password);
  expect(signedIn.statusCode, signedIn.body).toBe(303);
  await client.follow(signedIn);
}

/** Sets up an authenticator app through the pages; returns its key and the codes shown once. */
export async function enableTotpThroughPages(client: FormClient, env: TestEnvironment) {
  await client.get('/settings/two-factor');
  const started = await client.post('/settings/two-factor/totp/start', {});
  expect(started.statusCode).toBe(200);
  const secret = started.body.match(/data-secret="([A-Z2-7]+)"/)?.[1] as string;
  const factorId = started.body.match(/name="factorId" value="([^"]+)"/)?.[1] as string;
  const confirmed = await client.post('/settings/two-factor/totp/confirm', {
    factorId,
    code: authenticatorCode(secret, env.clock.nowMs),
  });
  expect(confirmed.statusCode, confirmed.body).toBe(200);
  env.clock.advance(30_000);
  return { secret, codes: codesOnPage(confirmed.body) };
}

export function codesOnPage(body: string): string[] {
  return [...body.matchAll(/<li><code>([^<]+)<\/code><\/li>/g)].map((match) => match[1] as string);
}

/** Signs in with a password; returns the response of the password step. */
export async function passwordStep(client: FormClient, email: string, password = TEST_PASSWORD) {
  await client.get('/sign-in');
  return client.post('/sign-in', { email, password });
}

/** A user with an authenticator app and codes, signed out, and a fresh client at the second sign-in step. */
export async function userAtSecondStep(web: WebTestApp, email: string) {
  const setup = web.client();
  await signUpThroughPages(setup, email);
  const { secret, codes } = await enableTotpThroughPages(setup, web.env);
  const client = web.client();
  const response = await passwordStep(client, email);
  expect(response.headers.location).toBe('/sign-in/two-factor');
  const page = await client.follow(response);
  expect(page.body).toContain('Use a recovery code');
  return { client, secret, codes, email };
}

/** A client signed up through the pages and made an administrator; returns it with the account's id. */
export async function signedInAdmin(
  web: WebTestApp,
  email: string,
): Promise<{ client: FormClient; id: string }> {
  const client = web.client();
  await signUpThroughPages(client, email);
  const id = (await web.env.deps.store.findUserByEmail(email))?.id as string;
  await web.env.deps.store.setUserRoles(id, ['administrator']);
  return { client, id };
}
