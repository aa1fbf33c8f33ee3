// Headless Debian Chromium through playwright-core, and an axe-core check of the current page.
import { chromium } from 'playwright-core';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';

const require = createRequire(import.meta.url);
// Evaluated through the DevTools protocol, which the page's Content Security Policy does not
// govern: a <script> tag would be (rightly) refused, and bypassing CSP would hide real CSP bugs.
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}

/// Fails with the list of violations when axe finds any (WCAG 2.0/2.1/2.2 A and AA, best practices).
export async function expectNoAxeViolations(page, state) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () =>
    // eslint-disable-next-line no-undef
    axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] } }),
  );
  const violations = result.violations.map((v) => `${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.map((n) => n.target.join(' ')).slice(0, 5).join('\n    ')}`);
  assert.deepEqual(violations, [], `axe violations on ${state}:\n${violations.join('\n')}`);
}

/// Collects uncaught page errors and Content Security Policy violations, so a test fails when
/// the app itself throws or does something its policy forbids.
export function watchErrors(page) {
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    // A Rust panic is logged (console_error_panic_hook) just before the wasm trap ends the app.
    if (message.type() === 'error' && /Content Security Policy|panicked at/i.test(message.text())) errors.push(message.text());
  });
  return errors;
}
