/**
 * The two audited loads of bench/audit-scale-out.ts, driven by autocannon against one or more server
 * processes (connections split between them), each stopping when its seeded material is spent so no
 * request is ever a replay (one pool of users per database, shared by the runs at every concurrency):
 *   - verifyLoad: POST verify-recovery-code with a backend's API key, every request a different code;
 *   - flowLoad: a person's whole sign-in, POST /auth/sign-in then POST /auth/second-factor/totp with the
 *     token it returned, every flow a user who has not used the current step's code (once per user and step).
 * Both report completions (answered requests; finished flows) per second over the time to the last
 * response, and how many answers of either kind were not 200.
 */
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import * as OTPAuth from 'otpauth';
import type { ServerProcess } from './server-process.js';

export interface SeededUser {
  userId: string;
  email: string;
  password: string;
  totpSecret: string;
  recoveryCodes: readonly string[];
  /** The TOTP step of this user's last flow: a code is accepted once per user and step. */
  lastFlowStep: number;
}

/**
 * The users of one database, shared by every load on it: the recovery codes not yet spent (slot by slot,
 * so consecutive spends belong to different users) and where the next flow starts looking for a user.
 */
export class SeededPool {
  readonly spends: { userId: string; code: string }[];
  nextSpend = 0;
  nextUser = 0;
  constructor(readonly users: readonly SeededUser[]) {
    this.spends = Array.from({ length: 10 }, (_, slot) =>
      users.map((user) => ({ userId: user.userId, code: user.recoveryCodes[slot] as string })),
    ).flat();
  }

  /** The step whose code a flow sends now: the next one, inside the accepted window (one step each side). */
  static flowStep(): number {
    return Math.floor(Date.now() / 30_000) + 1;
  }

  /** A user who has not signed in with this step's code yet, marked as taken; undefined when none is left. */
  takeFlowUser(): SeededUser | undefined {
    const step = SeededPool.flowStep();
    for (let tried = 0; tried < this.users.length; tried++) {
      const user = this.users[this.nextUser++ % this.users.length] as SeededUser;
      if (user.lastFlowStep < step) {
        user.lastFlowStep = step;
        return user;
      }
    }
    return undefined;
  }

  /** How many users could still sign in at this step. */
  flowUsersLeft(): number {
    const step = SeededPool.flowStep();
    return this.users.filter((user) => user.lastFlowStep < step).length;
  }
}

export interface LoadResult {
  perSecond: number;
  failed: number;
  /** The failed answers by what they were (`verify 500`, `flow 401`...), so a failure explains itself. */
  failures: Record<string, number>;
  /**
   * Server CPU time (all processes, user + system) per completion, in ms: what one costs the servers,
   * whatever else shares the machine, where the rate depends on that.
   */
  cpuMsEach: number;
}

type Instance = autocannon.Instance & Promise<autocannon.Result>;

/** `connections` split over the servers, the first ones taking the remainder. */
function shares(servers: ServerProcess[], connections: number): number[] {
  return servers.map(
    (_, index) => Math.floor(connections / servers.length) + (index < connections % servers.length ? 1 : 0),
  );
}

/**
 * What a connection asks once the load's material (codes, users at this step) is spent, instead of
 * replaying any: /healthz, which no load counts.
 */
function spare<R extends object>(request: R) {
  return { ...request, method: 'GET' as const, path: '/healthz', headers: {}, body: undefined };
}

/**
 * The next flow's client address: counted across every load of the run, so no two flows share one, on any
 * database, and no address's throttle counter carries over from an earlier load.
 */
let nextAddress = 0;

/** A client address of its own per request or flow (the servers trust X-Forwarded-For from the proxy). */
const addressOf = (n: number) => `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;

async function measure(
  name: string,
  servers: ServerProcess[],
  connections: number,
  start: (server: ServerProcess, connections: number, completed: () => void) => Instance,
): Promise<LoadResult> {
  let completions = 0;
  let failed = 0;
  const failures: Record<string, number> = {};
  const cpu = () => servers.reduce((total, server) => total + server.cpuSeconds(), 0);
  const cpuBefore = cpu();
  const started = performance.now();
  let last = started;
  const completed = () => {
    completions++;
  };
  const running = shares(servers, connections).map((share, index) => {
    if (share === 0) return Promise.resolve();
    const instance = start(servers[index] as ServerProcess, share, completed);
    instance.on('response', (_client, status) => {
      if (status !== 200) {
        failed++;
        failures[`${name} ${status}`] = (failures[`${name} ${status}`] ?? 0) + 1;
      }
      last = performance.now();
    });
    return instance;
  });
  await Promise.all(running);
  return {
    perSecond: completions === 0 ? 0 : completions / ((last - started) / 1000),
    failed,
    failures,
    cpuMsEach: completions === 0 ? Number.NaN : ((cpu() - cpuBefore) * 1000) / completions,
  };
}

export function verifyLoad(
  servers: ServerProcess[],
  apiKey: string,
  pool: SeededPool,
  connections: number,
  seconds: number,
): Promise<LoadResult> {
  return measure('verify', servers, connections, (server, share, completed) => {
    const instance = autocannon({
      url: server.url,
      connections: share,
      duration: seconds,
      requests: [
        {
          method: 'POST',
          onResponse: (status: number, _body: string, context: { spare?: boolean }) => {
            if (status === 200 && !context.spare) completed();
          },
          setupRequest: (request, context: { spare?: boolean }) => {
            // Every code once: when they are all spent (the stop below came late), a connection asks
            // /healthz instead (never counted) rather than sending a used code, which the server must refuse.
            const spend = pool.spends[pool.nextSpend++];
            context.spare = spend === undefined;
            if (!spend) return spare(request);
            return {
              ...request,
              path: `/api/v1/users/${spend.userId}/recovery-codes/verify`,
              headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
              body: JSON.stringify({ code: spend.code }),
            };
          },
        },
      ],
    }) as unknown as Instance;
    // Never reuse a code: stop with a spare one per connection.
    instance.on('response', () => {
      if (pool.nextSpend >= pool.spends.length - connections) instance.stop();
    });
    return instance;
  });
}

interface FlowContext {
  user?: SeededUser;
  address?: string;
  token?: string;
}

export function flowLoad(
  servers: ServerProcess[],
  pool: SeededPool,
  connections: number,
  seconds: number,
): Promise<LoadResult> {
  const json = (context: FlowContext, token?: string) => ({
    'content-type': 'application/json',
    'x-forwarded-for': context.address as string,
    ...(token ? { authorization: `Bearer ${token}` } : {}),
  });
  return measure('flow', servers, connections, (server, share, completed) => {
    const instance = autocannon({
      url: server.url,
      connections: share,
      duration: seconds,
      requests: [
        {
          method: 'POST',
          path: '/api/v1/auth/sign-in',
          setupRequest: (request, context: FlowContext) => {
            // flowUsersLeft() stops the load before the pool runs dry at this step; a connection that
            // still starts a flow after that asks /healthz twice instead (never counted), rather than
            // replaying a user's step, which the server must refuse.
            context.user = pool.takeFlowUser();
            context.address = addressOf(nextAddress++);
            context.token = undefined;
            if (!context.user) return spare(request);
            return {
              ...request,
              headers: json(context),
              body: JSON.stringify({ email: context.user.email, password: context.user.password }),
            };
          },
          onResponse: (status, body, context: FlowContext) => {
            if (status === 200) context.token = (JSON.parse(body) as { token: string }).token;
          },
        },
        {
          method: 'POST',
          path: '/api/v1/auth/second-factor/totp',
          setupRequest: (request, context: FlowContext) => {
            const user = context.user;
            if (!user) return spare(request);
            // The code of the step taken for this user at sign-in (the next one: inside the accepted
            // window, one step each side), later than any step this user used before, so never a replay.
            const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(user.totpSecret) });
            return {
              ...request,
              headers: json(context, context.token ?? 'none'),
              body: JSON.stringify({ code: totp.generate({ timestamp: user.lastFlowStep * 30_000 }) }),
            };
          },
          onResponse: (status: number, _body: string, context: FlowContext) => {
            if (status === 200 && context.user) completed();
          },
        },
      ],
    }) as unknown as Instance;
    // Every user signs in once per step. autocannon's stop() lets the connections start a few more flows,
    // so stop with two spare users per connection (and some), never reaching a user twice in one step.
    instance.on('response', () => {
      if (pool.flowUsersLeft() <= 2 * connections + 8) instance.stop();
    });
    return instance;
  });
}
