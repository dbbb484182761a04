import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/server-process.js';

/**
 * Real reverse proxies (Debian's nginx and caddy) started on random loopback ports with the configuration
 * docs/integrations.md gives a user: the doc's fenced block is read and only names, ports and TLS lines are
 * swapped for the test's, so a doc that stops working fails here.
 */
export const NGINX_PATH = '/usr/sbin/nginx';
export const CADDY_PATH = '/usr/bin/caddy';

/** Test hosts: subdomains of a .localhost domain, which browsers treat as secure contexts over http. */
export const TEST_DOMAIN = 'sparekey.localhost';

export function proxyAvailable(path: string): boolean {
  return existsSync(path) || process.env.CI === 'true';
}

/** The first fenced block of `language` in docs/integrations.md. */
export function documentedConfig(language: 'nginx' | 'caddyfile'): string {
  const doc = readFileSync(new URL('../../docs/integrations.md', import.meta.url), 'utf8');
  const block = doc.match(new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``))?.[1];
  if (!block) throw new Error(`docs/integrations.md has no ${language} block`);
  return block;
}

/** The doc's names and addresses, replaced by the test's. */
function localize(config: string, ports: { sparekey: number; app: number }): string {
  return config
    .replaceAll('127.0.0.1:3000', `127.0.0.1:${ports.sparekey}`)
    .replaceAll('127.0.0.1:8080', `127.0.0.1:${ports.app}`)
    .replaceAll('example.com', TEST_DOMAIN);
}

export interface RunningProxy {
  port: number;
  /** http://<name>.sparekey.localhost:<port> */
  origin(name: string): string;
  close(): Promise<void>;
}

/** nginx with the doc's two server blocks, plus a second protected app (app2) copied from the first. */
export async function startNginx(ports: { sparekey: number; app: number }): Promise<RunningProxy> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sparekey-nginx-'));
  const servers = localize(documentedConfig('nginx'), ports)
    .replaceAll('listen 443 ssl;', `listen 127.0.0.1:${port};`)
    .replace(/^\s*ssl_certificate(_key)?\s.*$/gm, '')
    // "Copy this block for each app (or list several names in server_name)."
    .replace(`server_name app.${TEST_DOMAIN};`, `server_name app.${TEST_DOMAIN} app2.${TEST_DOMAIN};`);
  const conf = `
daemon off;
master_process off;
worker_processes 1;

pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${servers}
}
`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const child = spawn(NGINX_PATH, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return running(child, port, dir, () => readFileSync(join(dir, 'error.log'), 'utf8'));
}

/** caddy with the doc's Caddyfile (plus app2), on plain http, with its admin endpoint and state kept local. */
export async function startCaddy(ports: { sparekey: number; app: number }): Promise<RunningProxy> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sparekey-caddy-'));
  const sites = localize(documentedConfig('caddyfile'), ports)
    .replace(`auth.${TEST_DOMAIN} {`, `http://auth.${TEST_DOMAIN}:${port} {`)
    .replace(
      `app.${TEST_DOMAIN} {`,
      `http://app.${TEST_DOMAIN}:${port}, http://app2.${TEST_DOMAIN}:${port} {`,
    );
  const global = `{\n\tadmin off\n\tauto_https off\n\tstorage file_system ${dir}/data\n}\n\n`;
  writeFileSync(join(dir, 'Caddyfile'), global + sites);
  const child = spawn(CADDY_PATH, ['run', '--config', join(dir, 'Caddyfile'), '--adapter', 'caddyfile'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env,
      HOME: dir,
      XDG_DATA_HOME: join(dir, 'xdg-data'),
      XDG_CONFIG_HOME: join(dir, 'xdg-config'),
    },
  });
  let log = '';
  child.stderr?.on('data', (chunk) => {
    log += String(chunk);
  });
  return running(child, port, dir, () => log);
}

async function running(
  child: ChildProcess,
  port: number,
  dir: string,
  log: () => string,
): Promise<RunningProxy> {
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  child.stderr?.resume();
  const deadline = Date.now() + 15_000;
  while (!(await accepts(port))) {
    if (exited || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the proxy did not start on ${port}:\n${safeLog(log)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    port,
    origin: (name) => `http://${name}.${TEST_DOMAIN}:${port}`,
    close: async () => {
      if (!exited) {
        const gone = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 5000))]);
        if (!exited) child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function safeLog(log: () => string): string {
  try {
    return log();
  } catch {
    return '(no log)';
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The protected app: answers with the path and the Remote-* headers it received, and counts requests. */
export interface UpstreamApp {
  port: number;
  requests: { path: string; headers: Record<string, string | undefined> }[];
  close(): Promise<void>;
}

export async function startUpstreamApp(): Promise<UpstreamApp> {
  const requests: UpstreamApp['requests'] = [];
  const server: Server = createServer((request, response) => {
    const seen = {
      path: request.url ?? '',
      headers: {
        host: request.headers.host,
        'remote-user': header(request.headers['remote-user']),
        'remote-email': header(request.headers['remote-email']),
        'remote-name': header(request.headers['remote-name']),
        'remote-groups': header(request.headers['remote-groups']),
      },
    };
    requests.push(seen);
    response.setHeader('content-type', 'text/html; charset=utf-8');
    response.end(
      `<!doctype html><title>upstream</title><pre id="seen">${escapeHtml(JSON.stringify(seen))}</pre>`,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

function escapeHtml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;');
}
