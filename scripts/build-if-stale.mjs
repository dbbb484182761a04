// Runs before `npm start`: production runs compiled JavaScript (dist/), so a checkout whose sources are
// newer than dist/ (a fresh clone, a pull) is compiled first. An installed package ships dist/ and no
// src/, so nothing happens there; tsx stays a development tool (`npm run dev`).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const built = join(root, 'dist/main.js');

function newestSourceMs(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSourceMs(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

if (existsSync(join(root, 'src'))) {
  const inputsMs = Math.max(newestSourceMs(join(root, 'src')), statSync(join(root, 'tsconfig.build.json')).mtimeMs);
  if (!existsSync(built) || statSync(built).mtimeMs < inputsMs) {
    let tsc;
    try {
      tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
    } catch {
      console.error('dist/ is missing or older than src/, and TypeScript is not installed: run npm install, then npm run build.');
      process.exit(1);
    }
    console.error('Compiling src/ to dist/ (sources changed since the last build)…');
    const run = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
    process.exit(run.status ?? 1);
  }
}
