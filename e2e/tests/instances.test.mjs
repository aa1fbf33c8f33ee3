// Two server instances behind nginx, sharing one PostgreSQL database and, when the test runs
// under scripts/with-s3, one S3-compatible bucket instead of a data directory: a citizen sends an
// application through the first instance, an officer opens its files and registers it through
// the second, and the citizen's open page, whose live stream the first instance holds, shows the
// change without a reload. nginx runs with the sample configuration (deploy/nginx-portal.conf), plus a header that
// pins each browser to one instance so the test knows which one served it.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { expectNoAxeViolations, launch, watchErrors } from '../lib/browser.mjs';
import { findInQueue, readyEnrolmentDraft } from '../lib/journey.mjs';
import { startServer } from '../lib/server.mjs';

const AIGERIM = { iin: '880314412019', password: 'Aigerim-demo-2026' };
const GULNAR = { iin: '830217461010', password: 'Gulnar-officer-2026' };
const postgres = process.env.PORTAL_TEST_POSTGRES_URL;
const s3 = process.env.PORTAL_TEST_S3_ENDPOINT;

/// A new bucket on the test S3 server (s3s-fs keeps a bucket as a directory of its root).
function s3Settings() {
  if (!s3) return {};
  const bucket = `e2e-${process.pid}-${Date.now()}`;
  mkdirSync(join(process.env.PORTAL_TEST_S3_ROOT, bucket));
  return {
    PORTAL_S3_BUCKET: bucket,
    PORTAL_S3_ENDPOINT: s3,
    PORTAL_S3_REGION: 'us-east-1',
    PORTAL_S3_ACCESS_KEY_ID: process.env.PORTAL_TEST_S3_ACCESS_KEY_ID,
    PORTAL_S3_SECRET_ACCESS_KEY: process.env.PORTAL_TEST_S3_SECRET_ACCESS_KEY,
  };
}

const freePort = () => new Promise((resolve) => {
  const probe = createServer().listen(0, '127.0.0.1', () => {
    const { port } = probe.address();
    probe.close(() => resolve(port));
  });
});

/// nginx in the foreground with the sample site, its upstream pointing at `instances`.
async function startNginx(port, instances) {
  const dir = mkdtempSync(join(tmpdir(), 'portal-nginx-'));
  const sample = readFileSync(new URL('../../deploy/nginx-portal.conf', import.meta.url), 'utf8');
  const hosts = instances.map((url) => new URL(url).host);
  const site = sample
    .replace(/upstream portal \{[^}]*\}/, `upstream portal {\n${hosts.map((h) => `    server ${h};`).join('\n')}\n}`)
    .replace('listen 8080;', `listen 127.0.0.1:${port};`)
    .replaceAll('proxy_pass http://portal;', 'proxy_pass http://$pinned;');
  const pins = hosts.map((h, i) => `    ${i + 1} ${h};`).join('\n');
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `${t}_temp_path ${dir}/${t};`).join('\n  ');
  writeFileSync(join(dir, 'nginx.conf'), `daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
worker_processes 1;
events {}
http {
  access_log off;
  ${temp}
  # Test only: X-Portal-Instance: N sends the request to instance N; without it, round robin.
  map $http_x_portal_instance $pinned {
${pins}
    default portal;
  }
${site}
}
`);
  const nginx = spawn('/usr/sbin/nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  nginx.stderr.on('data', (chunk) => { stderr += chunk; });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/api/health`)).ok) break;
    } catch { /* not yet */ }
    if (i > 100 || nginx.exitCode !== null) throw new Error(`nginx did not start: ${stderr}${readFileSync(join(dir, 'error.log'), 'utf8')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    async stop() {
      const exited = new Promise((resolve) => nginx.on('exit', resolve));
      nginx.kill('SIGQUIT');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('two instances behind nginx', { skip: !postgres && 'needs PostgreSQL: run through scripts/test' }, () => {
  const world = {};
  before(async () => {
    const database = `e2e_${process.pid}_${Date.now()}`;
    execFileSync('psql', [postgres, '-q', '-c', `CREATE DATABASE ${database}`]);
    const port = await freePort();
    const env = {
      PORTAL_DEMO: '1',
      PORTAL_DATABASE_URL: postgres.replace(/\/[^/]*$/, `/${database}`),
      PORTAL_PUBLIC_URL: `http://127.0.0.1:${port}`,
      PORTAL_TRUST_PROXY: '1',
      ...s3Settings(),
    };
    world.first = await startServer(env);
    // With a bucket each instance has a data directory of its own, as on separate machines.
    world.second = await startServer(s3 ? env : { ...env, PORTAL_DATA_DIR: world.first.dataDir });
    world.nginx = await startNginx(port, [world.first.url, world.second.url]);
    world.browser = await launch();
  });
  after(async () => {
    await world.browser?.close();
    await world.nginx?.stop();
    await world.second?.stop();
    await world.first?.stop();
  });

  test('a change made through one instance reaches the live page held by the other', async () => {
    const url = world.nginx.url;
    // Unpinned requests go round the instances: both are up and reach the database.
    for (let i = 0; i < 4; i++) {
      const health = await fetch(`${url}/api/health`);
      assert.equal(health.status, 200, await health.text());
    }

    const citizen = await world.browser.newContext({ locale: 'en-GB', extraHTTPHeaders: { 'x-portal-instance': '1' } });
    const id = await readyEnrolmentDraft(citizen.request, url, AIGERIM);
    const page = await citizen.newPage();
    const errors = watchErrors(page);
    await page.goto(`${url}/applications/${id}/check?lang=en`);
    await page.getByLabel(/I agree to the use of my personal data/).check();
    await page.getByLabel('Key file for signing (.p12)').setInputFiles(join(process.env.PORTAL_DEMO_DIR, 'keys', '880314412019-signing.p12'));
    await page.getByLabel('Key file password').fill('Aigerim-key-2026');
    await page.getByRole('button', { name: 'Open the key' }).click();
    await page.getByRole('status').filter({ hasText: 'valid until' }).waitFor();
    await page.getByRole('button', { name: 'Sign and send the application' }).click();
    await page.getByRole('heading', { level: 1, name: 'Application sent' }).waitFor();
    const number = (await page.locator('.application-number').textContent()).trim();
    await page.getByText(/^Place in the queue at School-gymnasium No\. 201 \(demo\) for the \d{4}–\d{4} school year: 1\.$/).waitFor();
    await expectNoAxeViolations(page, 'a sent application, through the first instance');

    // The officer works through the second instance.
    const staff = await world.browser.newContext({ locale: 'en-GB', extraHTTPHeaders: { 'x-portal-instance': '2' } });
    const desk = await staff.newPage();
    const deskErrors = watchErrors(desk);
    await findInQueue(desk, url, GULNAR, number);
    // The files the citizen sent through the first instance come through the second.
    const sent = await (await citizen.request.get(`${url}/api/applications/${id}`)).json();
    assert.ok(sent.attachments.length >= 2);
    for (const file of sent.attachments) {
      const got = await staff.request.get(`${url}/api/workspace/applications/${id}/attachments/${file.id}/content`);
      assert.equal(got.status(), 200, await got.text());
      assert.equal((await got.body()).length, file.size);
    }
    await desk.getByRole('link', { name: number }).click();
    await desk.getByRole('button', { name: 'Register the application' }).click();
    await desk.getByRole('status').filter({ hasText: 'Done: Registered' }).waitFor();
    await expectNoAxeViolations(desk, 'a case file, through the second instance');

    // The citizen's page, still open on the first instance, shows it without a reload.
    await page.getByRole('status').filter({ hasText: `Application No. ${number}: Registered` }).waitFor();
    await page.locator('.summary-list').getByText('Registered', { exact: true }).waitFor();
    assert.deepEqual(errors, []);
    assert.deepEqual(deskErrors, []);
    await citizen.close();
    await staff.close();

    // The pins held: with the second instance gone, only what was pinned to it fails.
    await world.second.stop();
    world.second = null;
    const pinned = async (n) => (await fetch(`${url}/api/health`, { headers: { 'x-portal-instance': n } })).status;
    assert.equal(await pinned('2'), 502);
    assert.equal(await pinned('1'), 200);
  });
});
