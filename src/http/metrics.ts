import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Counter, collectDefaultMetrics, Histogram, type LabelValues, Registry } from 'prom-client';
import type { ServiceMetrics } from '../service/ports/metrics.js';
import { sendApiError } from './api-replies.js';

/**
 * Prometheus metrics for one app (a registry of its own, so several apps in one process never mix):
 * requests by route template (never the raw URL, which can carry ids and tokens), recovery-code
 * attempts, throttled attempts, and the process's own figures. No label ever holds a user or a code.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'sparekey_' });
  const labelNames = ['method', 'route', 'status'] as const;
  const requests = new Counter({
    name: 'sparekey_http_requests_total',
    help: 'HTTP requests answered, by route template and status.',
    labelNames,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'sparekey_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by route template and status.',
    labelNames,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const recoveryCodes = new Counter({
    name: 'sparekey_recovery_code_attempts_total',
    help: 'Recovery-code verifications: accepted, or refused with the reason.',
    labelNames: ['outcome', 'reason'] as const,
    registers: [registry],
  });
  const throttled = new Counter({
    name: 'sparekey_throttled_attempts_total',
    help: 'Attempts refused by the failed-attempt throttle before being evaluated.',
    labelNames: ['kind'] as const,
    registers: [registry],
  });

  const forwardAuth = new Counter({
    name: 'sparekey_forward_auth_decisions_total',
    help: 'Forward-auth verdicts for requests to protected apps: allowed, sign_in, second_factor_setup, denied.',
    labelNames: ['decision'] as const,
    registers: [registry],
  });

  const forwardAuthSeries = seriesOnce(forwardAuth);
  const serviceMetrics: ServiceMetrics = {
    recoveryCodeAttempt: (outcome, reason) => recoveryCodes.inc({ outcome, reason: reason ?? '' }),
    attemptThrottled: (kind) => throttled.inc({ kind }),
    // Once per verdict: each decision's series is looked up once.
    forwardAuthDecision: (decision) => forwardAuthSeries(decision, () => ({ decision })).inc(),
  };

  /**
   * Counts and times every request of `app` and its contexts, except the routes in `except`: forward
   * auth's verdicts, which count themselves (countVerdictRequest).
   */
  function countRequests(app: FastifyInstance, options: { except?: readonly string[] } = {}): void {
    const except = new Set(options.except);
    app.addHook('onResponse', function countRequest(request, reply, done) {
      const route = request.routeOptions.url ?? 'unmatched';
      if (except.has(route)) return done();
      const labels = { method: request.method, route, status: String(reply.statusCode) };
      requests.inc(labels);
      duration.observe(labels, reply.elapsedTime / 1000);
      done();
    });
  }

  /**
   * Counts one verdict request, in the same series as every other request, without timing it: a verdict
   * is asked for every request a proxy serves, and the histogram's observation (a label lookup and a bucket
   * search) would be paid on that hot path; the verdicts' decisions are counted apart too
   * (sparekey_forward_auth_decisions_total). The few label sets are looked up once each.
   */
  const verdictSeries = seriesOnce(requests);
  function countVerdictRequest(route: string, method: string, status: number): void {
    verdictSeries(`${route} ${method} ${status}`, () => ({ method, route, status: String(status) })).inc();
  }

  /** GET /metrics behind `token` (or, without one, for loopback clients only). */
  function registerEndpoint(app: FastifyInstance, options: { token: string | null }): void {
    app.get('/metrics', async (request, reply) => {
      if (!mayScrape(request, options.token)) {
        return sendApiError(reply, 'metrics_token_required');
      }
      return reply
        .header('content-type', registry.contentType)
        .header('cache-control', 'no-store')
        .send(await registry.metrics());
    });
  }

  return { registry, serviceMetrics, countRequests, countVerdictRequest, registerEndpoint };
}

/**
 * A counter's series by a key that stands for its labels, each looked up (labels hashed) once: for the
 * counters incremented on every forward-auth verdict. The label sets are few (decisions, statuses).
 */
function seriesOnce<T extends string>(counter: Counter<T>) {
  const byKey = new Map<string, Counter.Internal>();
  return (key: string, labels: () => LabelValues<T>): Counter.Internal => {
    let series = byKey.get(key);
    if (!series) {
      series = counter.labels(labels());
      byKey.set(key, series);
    }
    return series;
  };
}

function mayScrape(request: FastifyRequest, token: string | null): boolean {
  if (token === null) {
    // The socket's address, not request.ip: a forwarded-for header must not make a remote client local.
    const address = request.socket.remoteAddress ?? '';
    return address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';
  }
  const given = Buffer.from(request.headers.authorization ?? '');
  const expected = Buffer.from(`Bearer ${token}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export type Metrics = ReturnType<typeof createMetrics>;
