// Signing benchmark, browser side: the real app in headless Chromium opens the demo citizen's
// key file (PKCS#12 decryption) and signs her application (RSA-2048, CAdES-BES) in WebAssembly,
// ROUNDS times; the app records both steps as `performance` measures, which this prints
// (median and worst), with the whole "Sign and send" round trip. Figures, not assertions.
//
//   scripts/bench-signing            (builds, runs the server-side benchmark, then this)
import { join } from 'node:path';
import { startServer } from '../e2e/lib/server.mjs';
import { launch } from '../e2e/lib/browser.mjs';
import { readyEnrolmentDraft } from '../e2e/lib/journey.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const AIGERIM = { iin: '880314412019', password: 'Aigerim-demo-2026' };
const KEY = { path: join(process.env.PORTAL_DEMO_DIR, 'keys', '880314412019-signing.p12'), password: 'Aigerim-key-2026' };

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const show = (name, xs) => console.log(`${name}: median ${median(xs).toFixed(1)} ms, worst ${Math.max(...xs).toFixed(1)} ms (${xs.length} rounds)`);

const server = await startServer({ PORTAL_DEMO: '1' });
const browser = await launch();
try {
  const context = await browser.newContext({ locale: 'en-GB' });
  const open = [];
  const sign = [];
  const roundTrip = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    const id = await readyEnrolmentDraft(context.request, server.url, AIGERIM);
    const page = await context.newPage();
    await page.goto(`${server.url}/applications/${id}/check?lang=en`);
    await page.getByRole('heading', { level: 1, name: 'Check your answers before sending' }).waitFor();
    await page.getByLabel(/I agree to the use of my personal data/).check();
    await page.getByLabel('Key file for signing (.p12)').setInputFiles(KEY.path);
    await page.getByLabel('Key file password').fill(KEY.password);
    await page.getByRole('button', { name: 'Open the key' }).click();
    await page.getByRole('status').filter({ hasText: 'valid until' }).waitFor();
    const started = Date.now();
    await page.getByRole('button', { name: 'Sign and send the application' }).click();
    await page.getByRole('heading', { level: 1, name: 'Application sent' }).waitFor();
    roundTrip.push(Date.now() - started);
    const measures = await page.evaluate(() => performance.getEntriesByType('measure').map((m) => [m.name, m.duration]));
    for (const [name, duration] of measures) {
      if (name === 'eds:open-key') open.push(duration);
      if (name === 'eds:sign') sign.push(duration);
    }
    await page.close();
  }
  console.log('Signing in the browser (headless Chromium, WebAssembly, this machine):');
  show('  opening the .p12 key file', open);
  show('  signing the application', sign);
  show('  "Sign and send" to "Application sent" (challenge, signing, server verification, submission)', roundTrip);
} finally {
  await browser.close();
  await server.stop();
}
