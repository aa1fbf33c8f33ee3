// Starts the real portal server binary on a free port with a fresh data directory.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const required = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the end-to-end tests through scripts/test`);
  return value;
};

export async function startServer(extraEnv = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'portal-e2e-'));
  // The settings one-off commands (`portal-server pki issue`) share with the running server.
  const env = {
    PORTAL_DATA_DIR: dataDir,
    PORTAL_SERVICES_DIR: required('PORTAL_SERVICES_DIR'),
    PORTAL_DEMO_DIR: required('PORTAL_DEMO_DIR'),
    PORTAL_CALENDAR_FILE: join(required('PORTAL_SERVICES_DIR'), '..', 'calendar', 'kz.json'),
    ...extraEnv,
  };
  const child = spawn(required('PORTAL_SERVER_BIN'), ['serve'], {
    env: {
      ...process.env,
      PORTAL_ADDR: '127.0.0.1:0',
      PORTAL_DIST_DIR: required('PORTAL_DIST_DIR'),
      PORTAL_LOG: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  const url = await new Promise((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new Error(`the server did not start in 60 s:\n${stderr}`)), 60_000);
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      const match = stdout.match(/Portal running at (http:\/\/[^\s]+?)\/?\s/);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited with ${code}:\n${stderr}`));
    });
  });
  return {
    url,
    dataDir,
    env,
    pid: child.pid,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.on('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
