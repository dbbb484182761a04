import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { UseCases } from '../../service/use-cases.js';
import { apiContext, sendApiError } from '../api-replies.js';
import {
  Application,
  ApplicationList,
  ApplicationSettings,
  applicationBody,
  ClientIdParams,
  NewApplication,
  RegisteredApplication,
  RotatedSecret,
} from '../schemas/admin-applications.js';
import { answer, errors } from '../schemas/common.js';

const TAGS = ['applications'];

/** A secret is in one response only: never cached on the way. */
const noStore = (reply: FastifyReply) => reply.header('cache-control', 'no-store');

/**
 * The applications that sign people in through SpareKey (OpenID Connect clients) over HTTP, for the
 * `admin` scope: register (the secret is in that response only), list, read, change, rotate the secret,
 * disable and enable, delete. Every change is audited by the use case, with the key as the actor.
 */
export function registerAdminApplicationRoutes(parent: FastifyInstance, useCases: UseCases): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const admin = { scope: 'admin' } as const;

  app.get(
    '/applications',
    {
      config: admin,
      schema: {
        operationId: 'listApplications',
        summary: 'The registered applications, oldest first (never their secrets)',
        tags: TAGS,
        response: { 200: answer('The applications, without their secrets', ApplicationList), ...errors() },
      },
    },
    async function listApplications() {
      return { applications: (await useCases.listOidcClients()).map(applicationBody) };
    },
  );

  app.post(
    '/applications',
    {
      config: admin,
      schema: {
        operationId: 'registerApplication',
        summary: 'Register an application; a confidential one gets its secret in this response only',
        tags: TAGS,
        body: NewApplication,
        response: {
          201: answer(
            'Registered: the application, and for a confidential one its secret (shown once)',
            RegisteredApplication,
          ),
          ...errors(),
        },
      },
    },
    async function registerApplication(request, reply) {
      const { body } = request;
      const registered = await useCases.registerOidcClient({
        name: body.name,
        redirectUris: body.redirectUris,
        postLogoutRedirectUris: body.postLogoutRedirectUris ?? [],
        kind: body.kind,
        firstParty: body.firstParty ?? false,
        twoFactorRequired: body.twoFactorRequired ?? false,
        scopes: body.scopes,
        context: apiContext(request),
      });
      if (!registered.ok) return sendApiError(reply, registered.error);
      return noStore(reply)
        .code(201)
        .send({
          application: applicationBody(registered.value.client),
          clientSecret: registered.value.secret,
        });
    },
  );

  app.get(
    '/applications/:clientId',
    {
      config: admin,
      schema: {
        operationId: 'getApplication',
        summary: 'One registered application',
        tags: TAGS,
        params: ClientIdParams,
        response: { 200: answer('The application, without its secret', Application), ...errors(404) },
      },
    },
    async function getApplication(request, reply) {
      const client = await useCases.findOidcClient(request.params.clientId);
      return client ? applicationBody(client) : sendApiError(reply, 'oidc_client_not_found');
    },
  );

  app.put(
    '/applications/:clientId',
    {
      config: admin,
      schema: {
        operationId: 'updateApplication',
        summary: 'Replace an application’s settings (its kind and secret stay)',
        tags: TAGS,
        params: ClientIdParams,
        body: ApplicationSettings,
        response: { 200: answer('Saved: the application as it is now', Application), ...errors(404) },
      },
    },
    async function updateApplication(request, reply) {
      const { body } = request;
      const id = request.params.clientId;
      const updated = await useCases.updateOidcClient({
        id,
        name: body.name,
        redirectUris: body.redirectUris,
        postLogoutRedirectUris: body.postLogoutRedirectUris ?? [],
        firstParty: body.firstParty ?? false,
        twoFactorRequired: body.twoFactorRequired ?? false,
        scopes: body.scopes,
        context: apiContext(request),
      });
      if (!updated.ok) return sendApiError(reply, updated.error);
      const client = await useCases.findOidcClient(id);
      return client ? applicationBody(client) : sendApiError(reply, 'oidc_client_not_found');
    },
  );

  app.post(
    '/applications/:clientId/secret',
    {
      config: admin,
      schema: {
        operationId: 'rotateApplicationSecret',
        summary: 'A new secret, in this response only; the old one stops working at once',
        tags: TAGS,
        params: ClientIdParams,
        response: {
          200: answer('The new secret, in this answer only', RotatedSecret),
          ...errors(404, 409),
        },
      },
    },
    async function rotateApplicationSecret(request, reply) {
      const rotated = await useCases.rotateOidcClientSecret({
        id: request.params.clientId,
        context: apiContext(request),
      });
      if (!rotated.ok) return sendApiError(reply, rotated.error);
      return noStore(reply).send({ clientSecret: rotated.value.secret });
    },
  );

  for (const [action, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    app.post(
      `/applications/:clientId/${action}`,
      {
        config: admin,
        schema: {
          operationId: `${action}Application`,
          summary: disabled
            ? 'Disable an application: no new sign-ins, and its codes and tokens are refused'
            : 'Enable a disabled application again',
          tags: TAGS,
          params: ClientIdParams,
          response: {
            200: answer(
              disabled ? 'Disabled: the application as it is now' : 'Enabled: the application as it is now',
              Application,
            ),
            ...errors(404),
          },
        },
      },
      async function setApplicationDisabled(request, reply) {
        const id = request.params.clientId;
        const changed = await useCases.setOidcClientDisabled({ id, disabled, context: apiContext(request) });
        if (!changed.ok) return sendApiError(reply, changed.error);
        const client = await useCases.findOidcClient(id);
        return client ? applicationBody(client) : sendApiError(reply, 'oidc_client_not_found');
      },
    );
  }

  app.delete(
    '/applications/:clientId',
    {
      config: admin,
      schema: {
        operationId: 'deleteApplication',
        summary: 'Delete an application; its sign-ins stay in the audit log',
        tags: TAGS,
        params: ClientIdParams,
        response: {
          204: { type: 'null', description: 'Deleted: its client id no longer works' },
          ...errors(404),
        },
      },
    },
    async function deleteApplication(request, reply) {
      const deleted = await useCases.deleteOidcClient({
        id: request.params.clientId,
        context: apiContext(request),
      });
      return deleted.ok ? reply.code(204).send(null) : sendApiError(reply, deleted.error);
    },
  );
}
