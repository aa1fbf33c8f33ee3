// Signing with an EDS key file in the browser, nothing installed: the demo citizen's committed
// key files show each refusal (before anything is sent, or from the server's verification),
// and the valid one signs and sends the application.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';

import { expectNoAxeViolations, watchErrors } from '../lib/browser.mjs';
import { readyEnrolmentDraft, usePortal } from '../lib/journey.mjs';

const portal = usePortal({ PORTAL_DEMO: '1' });
const AIGERIM = { iin: '880314412019', password: 'Aigerim-demo-2026' };
const key = (file, password) => ({ path: join(process.env.PORTAL_DEMO_DIR, 'keys', file), password });

const readyDraft = (context) => readyEnrolmentDraft(context.request, portal.server.url, AIGERIM);

async function openKey(page, file) {
  await page.getByLabel('Key file for signing (.p12)').setInputFiles(file.path);
  await page.getByLabel('Key file password').fill(file.password);
  await page.getByRole('button', { name: 'Open the key' }).click();
}

describe('signing with a key file', () => {
  test('each bad key is explained, a revoked one is refused by the server, and a valid one sends', async () => {
    const context = await portal.browser.newContext({ locale: 'en-GB', viewport: { width: 1000, height: 900 } });
    const id = await readyDraft(context);
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.goto(`${portal.server.url}/applications/${id}/check?lang=en`);
    await page.getByRole('heading', { level: 1, name: 'Check your answers before sending' }).waitFor();
    await page.getByLabel(/I agree to the use of my personal data/).check();
    const summary = page.getByRole('alert').filter({ hasText: 'There is a problem' });

    await openKey(page, key('880314412019-signing.p12', 'not-the-password'));
    await summary.getByText('The password does not open this key file.', { exact: false }).waitFor();
    await expectNoAxeViolations(page, 'a wrong key password');

    await openKey(page, key('880314412019-expired.p12', 'Aigerim-old-2024'));
    await summary.getByText('This certificate expired on 31.12.2024.', { exact: false }).waitFor();

    await openKey(page, key('851102322024-signing.p12', 'Dmitriy-key-2026'));
    await summary.getByText('This certificate belongs to КИМ ДМИТРИЙ (IIN 851102322024), not to you.', { exact: false }).waitFor();

    await openKey(page, key('880314412019-authentication.p12', 'Aigerim-key-2026'));
    await summary.getByText('This is an authentication key.', { exact: false }).waitFor();
    // None of these keys can sign: "Sign and send" asks for a usable key and sends nothing.
    await page.getByRole('button', { name: 'Sign and send the application' }).click();
    await summary.getByText('Choose your key file.').waitFor();

    // A revoked certificate looks fine here; the server's check of the CRL refuses it.
    await openKey(page, key('880314412019-revoked.p12', 'Aigerim-lost-2026'));
    await page.getByRole('status').filter({ hasText: 'Certificate of СӘРСЕНОВА АЙГЕРІМ, IIN 880314412019' }).waitFor();
    await page.getByRole('button', { name: 'Sign and send the application' }).click();
    await summary.getByText('The request is refused because the EDS is not confirmed: the certificate has been revoked.').waitFor();
    await expectNoAxeViolations(page, 'a signature refused by the server');

    await openKey(page, key('880314412019-signing.p12', 'Aigerim-key-2026'));
    await page.getByRole('status').filter({ hasText: 'valid until 01.01.2031' }).waitFor();
    await page.getByRole('button', { name: 'Sign and send the application' }).click();
    await page.getByRole('heading', { level: 1, name: 'Application sent' }).waitFor();
    assert.deepEqual(errors, []);
    await context.close();
  });
});
