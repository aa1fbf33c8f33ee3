// Processing end to end: a citizen sends an application; an officer registers, assigns and
// approves it in the workspace; the citizen's open pages change without a reload; the citizen
// downloads the pickup's .ics and the signed result and checks it by its QR address.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';

import { expectNoAxeViolations, watchErrors } from '../lib/browser.mjs';
import { readyEnrolmentDraft, usePortal } from '../lib/journey.mjs';

const portal = usePortal({ PORTAL_DEMO: '1' });
const AIGERIM = { iin: '880314412019', password: 'Aigerim-demo-2026' };
const GULNAR = { iin: '830217461010', password: 'Gulnar-officer-2026' };

async function download(page, click) {
  const [file] = await Promise.all([page.waitForEvent('download'), click()]);
  return readFileSync(await file.path());
}

describe('processing', () => {
  test('an officer processes an application while the citizen watches it live', async () => {
    const citizen = await portal.browser.newContext({ locale: 'en-GB', acceptDownloads: true });
    const id = await readyEnrolmentDraft(citizen.request, portal.server.url, AIGERIM);
    const page = await citizen.newPage();
    const errors = watchErrors(page);
    await page.goto(`${portal.server.url}/applications/${id}/check?lang=en`);
    await page.getByLabel(/I agree to the use of my personal data/).check();
    await page.getByLabel('Key file for signing (.p12)').setInputFiles(join(process.env.PORTAL_DEMO_DIR, 'keys', '880314412019-signing.p12'));
    await page.getByLabel('Key file password').fill('Aigerim-key-2026');
    await page.getByRole('button', { name: 'Open the key' }).click();
    await page.getByRole('status').filter({ hasText: 'valid until' }).waitFor();
    await page.getByRole('button', { name: 'Sign and send the application' }).click();
    await page.getByRole('heading', { level: 1, name: 'Application sent' }).waitFor();
    const number = (await page.locator('.application-number').textContent()).trim();
    await page.getByRole('heading', { name: 'Progress' }).waitFor();
    await page.getByText('Withdraw the application').waitFor();
    await expectNoAxeViolations(page, 'a sent application with its progress');
    // The notification centre, open in another tab.
    const centre = await citizen.newPage();
    await centre.goto(`${portal.server.url}/cabinet/notifications?lang=en`);
    await centre.getByText(`Application No. ${number} sent`).waitFor();

    // The officer finds it in the queue and opens the case file.
    const staff = await portal.browser.newContext({ locale: 'en-GB' });
    const desk = await staff.newPage();
    const deskErrors = watchErrors(desk);
    await desk.goto(`${portal.server.url}/login?lang=en`);
    await desk.getByLabel('IIN', { exact: true }).fill(GULNAR.iin);
    await desk.getByLabel('Password', { exact: true }).fill(GULNAR.password);
    await desk.getByRole('button', { name: 'Sign in', exact: true }).click();
    await desk.getByRole('heading', { name: 'Applications' }).waitFor();
    await desk.getByLabel('Number or IIN').fill(number);
    await desk.getByRole('button', { name: 'Show' }).click();
    await expectNoAxeViolations(desk, 'the officer queue');
    await desk.getByRole('link', { name: number }).click();
    await desk.getByRole('heading', { name: 'Actions' }).waitFor();
    await desk.getByText('The history is intact').waitFor();
    await expectNoAxeViolations(desk, 'a case file');

    await desk.getByRole('button', { name: 'Register the application' }).click();
    await desk.getByRole('status').filter({ hasText: 'Done: Registered' }).waitFor();
    // Without a reload, the citizen's pages show it.
    await page.getByRole('status').filter({ hasText: `Application No. ${number}: Registered` }).waitFor();
    await page.locator('.summary-list').getByText('Registered', { exact: true }).waitFor();
    await centre.getByText(`Application No. ${number}: Registered`).first().waitFor();

    await desk.getByRole('button', { name: 'Assign the executor' }).click();
    await desk.getByRole('status').filter({ hasText: 'Done: Under review' }).waitFor();
    await desk.getByLabel('Text of the decision').fill('Enrol in class 1 "A" from 1 September.');
    await desk.getByRole('button', { name: 'Approve and issue the signed result' }).click();
    await desk.getByRole('status').filter({ hasText: 'Done: Result ready' }).waitFor();
    await expectNoAxeViolations(desk, 'a case file with a ready result');

    // The result-ready notice names the time and the place; the page shows the pickup.
    await page.getByRole('status').filter({ hasText: 'is ready. Collect it on' }).waitFor();
    await page.getByRole('heading', { name: 'Collecting the result' }).waitFor();
    await page.getByText('Timiryazev', { exact: false }).first().waitFor();
    await expectNoAxeViolations(page, 'a ready result with its pickup');
    const ics = (await download(page, () => page.getByRole('link', { name: 'Add to my calendar (.ics)' }).click())).toString('utf8');
    assert.ok(ics.startsWith('BEGIN:VCALENDAR\r\n'), ics);
    assert.ok(ics.replaceAll('\r\n ', '').includes(`DESCRIPTION:Application No. ${number}`), ics);
    const pdf = await download(page, () => page.getByRole('link', { name: 'Download the document (PDF)' }).click());
    assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');

    // Its QR address confirms it, publicly.
    await page.getByRole('link', { name: 'Check the document' }).click();
    await page.getByText('This document is genuine').waitFor();
    await page.getByText('Result of a public service').waitFor();
    await page.getByText(`${number}-R`).waitFor();
    await expectNoAxeViolations(page, 'a verified result');
    // The form for typing a number and code: a wrong code is explained before anything is sent.
    await page.getByRole('link', { name: 'Check another document' }).click();
    await page.getByLabel('Document number').fill(`${number}-R`);
    await page.getByLabel('Check code').fill('not-a-code');
    await page.getByRole('button', { name: 'Check', exact: true }).click();
    await page.getByRole('alert').getByText('The check code has 32 letters').waitFor();
    await expectNoAxeViolations(page, 'the verification form with an error');

    await desk.getByLabel('Who received it (full name)').fill('Sarsenova Aigerim');
    await desk.getByRole('button', { name: 'Mark as issued' }).click();
    await desk.getByRole('status').filter({ hasText: 'Done: Issued' }).waitFor();
    await centre.getByText(`Application No. ${number}: Issued`).first().waitFor();
    await expectNoAxeViolations(centre, 'the notification centre after live updates');

    assert.deepEqual(errors, []);
    assert.deepEqual(deskErrors, []);
    await staff.close();
    await citizen.close();
  });
});
