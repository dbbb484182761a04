import type { FastifyInstance } from 'fastify';
import { dashboardPage } from '../pages/admin-pages.js';
import { sendPage } from '../web-context.js';
import type { WebOptions } from '../web-options.js';
import { registerAccessRulesRoutes } from './admin-access-rules-routes.js';
import { registerAdminApiKeyRoutes } from './admin-api-key-routes.js';
import { registerAdminApplicationRoutes } from './admin-application-routes.js';
import { registerAuditRoutes } from './admin-audit-routes.js';
import { adminOnly } from './admin-guard.js';
import { registerAdminSettingsRoutes } from './admin-settings-routes.js';
import { registerAdminUserRoutes } from './admin-user-routes.js';
import { registerWebhookRoutes } from './admin-webhook-routes.js';

/** The administration pages: the dashboard here, each concern in a file of its own. */
export function registerAdminRoutes(app: FastifyInstance, web: WebOptions): void {
  const { useCases } = web;

  app.get(
    '/admin',
    adminOnly(web, async (request, reply) => {
      const [stats, settings] = await Promise.all([
        useCases.getRecoveryCodeStatistics(),
        useCases.getRecoveryCodeSettings(),
      ]);
      return sendPage(request, reply, useCases, {
        title: 'Administration',
        body: dashboardPage({ stats, enabled: settings.enabled }),
      });
    }),
  );

  registerAdminSettingsRoutes(app, web);
  registerAdminUserRoutes(app, web);
  registerAdminApiKeyRoutes(app, web);
  registerAdminApplicationRoutes(app, web);
  registerAuditRoutes(app, web);
  registerWebhookRoutes(app, web);
  registerAccessRulesRoutes(app, web);
}
