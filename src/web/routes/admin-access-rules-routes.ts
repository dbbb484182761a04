import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errorMessage } from '../../core/errors.js';
import { consoleRulesDocument, plainRule } from '../../service/forward-auth/access-rules.js';
import { type AccessTestForm, accessRulesPage } from '../pages/admin-access-rules-pages.js';
import { csrfToken, field, redirect, requestContext, sendPage } from '../web-context.js';
import { noticeFor, type WebOptions } from '../web-options.js';
import { adminOnly } from './admin-guard.js';

const MAX_DOCUMENT_LENGTH = 60_000;

/** Administration → Access rules (forward auth): the rules, their editor, and the "test a URL" preview. */
export function registerAccessRulesRoutes(app: FastifyInstance, web: WebOptions): void {
  const { useCases } = web;
  const csrf = { preHandler: app.csrfProtection };

  const show = async (
    request: FastifyRequest,
    reply: FastifyReply,
    extra: {
      submitted?: string;
      problems?: string[];
      test?: Parameters<typeof accessRulesPage>[0]['test'];
    } = {},
  ) => {
    const rules = await useCases.loadAccessRules();
    return sendPage(request, reply, useCases, {
      title: 'Access rules',
      status: extra.problems ? 400 : 200,
      body: accessRulesPage({
        csrf: csrfToken(request, reply),
        configRules: rules.configRules.map(plainRule),
        consoleRules: rules.consoleRules.map(plainRule),
        defaultPolicy: rules.defaultPolicy,
        defaultPolicySource: rules.defaultPolicySource,
        documentText: extra.submitted ?? JSON.stringify(consoleRulesDocument(rules), null, 2),
        problems: extra.problems,
        notice: noticeFor(request.query),
        test: extra.test,
      }),
    });
  };

  app.get(
    '/admin/access-rules',
    adminOnly(web, async (request, reply) => {
      const form = testForm(request.query);
      if (!form) return show(request, reply);
      const preview = await useCases.previewAccess(form);
      return show(request, reply, {
        test: preview.ok ? { form, preview: preview.value } : { form, error: errorMessage(preview.error) },
      });
    }),
  );

  app.post(
    '/admin/access-rules',
    csrf,
    adminOnly(web, async (request, reply, admin) => {
      const submitted = field(request, 'document', MAX_DOCUMENT_LENGTH);
      let document: unknown;
      try {
        document = JSON.parse(submitted);
      } catch (error) {
        return show(request, reply, { submitted, problems: [`Not JSON: ${(error as Error).message}`] });
      }
      const saved = await useCases.saveConsoleAccessRules({
        document,
        context: { ...requestContext(request), actorId: admin.user.id },
      });
      if (!saved.ok) return show(request, reply, { submitted, problems: saved.problems ?? [] });
      return redirect(reply, '/admin/access-rules?notice=access-rules-saved');
    }),
  );
}

/** The preview's question, from the query string; undefined when none was asked. */
function testForm(query: unknown): AccessTestForm | undefined {
  const values = query as Record<string, unknown> | undefined;
  const text = (name: string, max: number) => {
    const value = values?.[name];
    return typeof value === 'string' ? value.slice(0, max) : '';
  };
  const url = text('test_url', 2048);
  if (!url) return undefined;
  return { url, method: (text('test_method', 16) || 'GET').toUpperCase(), email: text('test_email', 254) };
}
