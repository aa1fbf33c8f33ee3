// First grade on opening day: a parent prepares and signs before the window opens and lets the
// portal send it at the opening; the open page turns into the confirmation with the queue
// position; the school does not accept the claimed priority's proof and enrols by the queue;
// the parent downloads the signed notice.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';

import { expectNoAxeViolations, watchErrors } from '../lib/browser.mjs';
import { findInQueue, readyEnrolmentDraft, usePortal } from '../lib/journey.mjs';

const portal = usePortal({ PORTAL_DEMO: '1' });
const AIGERIM = { iin: '880314412019', password: 'Aigerim-demo-2026' };
const GULNAR = { iin: '830217461010', password: 'Gulnar-officer-2026' };
const ADMIN = { iin: '840808477071', password: 'Saule-admin-2026' };

describe('first grade', () => {
  test('a draft signed before the window opens is sent by the portal at the opening', async () => {
    // The administrator sets this year's window to open in a little while.
    const office = await portal.browser.newContext();
    const session = await (await office.request.post(`${portal.server.url}/api/session`, { data: ADMIN })).json();
    const year = Number(new Intl.DateTimeFormat('en', { timeZone: 'Asia/Almaty', year: 'numeric' }).format(new Date()));
    // Room for preparing and signing first, even on a slow machine.
    const opensAt = Date.now() + 40_000;
    const set = await office.request.put(`${portal.server.url}/api/admin/first-grade/${year}`, {
      data: { opens_at: opensAt, closes_at: Math.max(opensAt + 3_600_000, opensAt + 1) },
      headers: { 'x-csrf-token': session.csrf_token },
    });
    assert.equal(set.status(), 200, await set.text());

    const parent = await portal.browser.newContext({ locale: 'en-GB', acceptDownloads: true });
    const id = await readyEnrolmentDraft(parent.request, portal.server.url, AIGERIM, { priority: 'sibling' });
    const page = await parent.newPage();
    const errors = watchErrors(page);
    await page.goto(`${portal.server.url}/applications/${id}/check?lang=en`);
    await page.getByText(/^Applications for first grade \(\d{4}–\d{4} school year\) open on .* You can fill in and sign the application now\.$/).waitFor();
    await page.getByText(/^School-gymnasium No\. 201 \(demo\): 100 first-grade places; \d+ applications sent so far\.$/).waitFor();
    await page.getByText("The address you gave is in the school's service territory.").waitFor();
    await page.getByLabel(/I agree to the use of my personal data/).check();
    await page.getByLabel('Key file for signing (.p12)').setInputFiles(join(process.env.PORTAL_DEMO_DIR, 'keys', '880314412019-signing.p12'));
    await page.getByLabel('Key file password').fill('Aigerim-key-2026');
    await page.getByRole('button', { name: 'Open the key' }).click();
    await page.getByRole('status').filter({ hasText: 'valid until' }).waitFor();
    await page.getByRole('button', { name: 'Sign and send automatically when applications open' }).click();
    await page.getByRole('status').filter({ hasText: 'The portal will send your application automatically on' }).waitFor();
    await expectNoAxeViolations(page, 'a first-grade application scheduled for the opening');
    assert.ok(Date.now() < opensAt, 'scheduled before the opening');

    // At the opening the portal sends it; the open page follows without a reload.
    await page.getByRole('heading', { level: 1, name: 'Application sent' }).waitFor({ timeout: 60_000 });
    assert.ok(Date.now() >= opensAt - 1000, 'not before the opening');
    await page.getByText(/^Place in the queue at School-gymnasium No\. 201 \(demo\) for the \d{4}–\d{4} school year: 1\.$/).waitFor();
    await expectNoAxeViolations(page, 'sent at the opening, with the queue position');
    const number = (await page.locator('.application-number').textContent()).trim();

    // An officer enrols the child.
    const staff = await portal.browser.newContext({ locale: 'en-GB' });
    const desk = await staff.newPage();
    const deskErrors = watchErrors(desk);
    await findInQueue(desk, portal.server.url, GULNAR, number);
    await desk.getByRole('link', { name: number }).click();
    await desk.getByRole('definition').filter({ hasText: /^1 \/ 100$/ }).waitFor();
    // The claimed priority category, by name, and its proof.
    await desk.getByRole('definition').filter({ hasText: /^A brother or sister studies at this school$/ }).first().waitFor();
    await desk.getByRole('definition').filter({ hasText: /^priority-proof\.pdf$/ }).first().waitFor();
    await expectNoAxeViolations(desk, 'a first-grade case file with its queue place');
    // The school does not accept the proof: the application keeps its place, without priority.
    await desk.locator('summary').filter({ hasText: 'Do not accept the priority category' }).click();
    const refusePriority = desk.locator('form').getByRole('button', { name: 'Do not accept the priority category' });
    await refusePriority.click();
    await desk.getByRole('alert').getByText('Explain the reason.').waitFor();
    await desk.getByLabel('Why the proof is not accepted, as the parent will read it').fill('The certificate names another school.');
    await refusePriority.click();
    await desk.getByRole('status').filter({ hasText: 'Done:' }).waitFor();
    await desk.getByText('Priority category not accepted').first().waitFor();
    assert.equal(await desk.locator('summary').filter({ hasText: 'Do not accept the priority category' }).count(), 0, 'refused once');
    await expectNoAxeViolations(desk, 'a priority category not accepted');
    // The parent's open page tells them, live.
    await page.getByText('Priority category not accepted').first().waitFor();
    // The school decides its first grade by the queue.
    await desk.goto(`${portal.server.url}/workspace/?lang=en`);
    await desk.getByRole('heading', { name: 'Decide first grade by the queue' }).waitFor();
    await desk.getByRole('button', { name: 'Enrol by the queue' }).click();
    await desk.getByRole('alert').filter({ hasText: 'There is a problem' }).waitFor();
    await expectNoAxeViolations(desk, 'enrolment by the queue, without the texts');
    await desk.getByLabel('Text of the enrolment notice').fill('Enrol in class 1 "B" from 1 September.');
    await desk.getByLabel('Explanation in the refusal').fill('All first-grade places are taken.');
    await desk.getByRole('button', { name: 'Enrol by the queue' }).click();
    await desk.getByRole('status').filter({ hasText: 'Done: 1 enrolled, 0 refused for lack of places.' }).waitFor();
    await expectNoAxeViolations(desk, 'enrolment by the queue, done');

    // The parent's page shows the signed enrolment notice.
    const link = page.getByRole('link', { name: 'Download the document (PDF)' });
    await link.waitFor();
    const [file] = await Promise.all([page.waitForEvent('download'), link.click()]);
    const pdf = readFileSync(await file.path());
    assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
    await expectNoAxeViolations(page, 'the enrolment notice ready');
    assert.deepEqual(errors, []);
    assert.deepEqual(deskErrors, []);
    await staff.close();
    await parent.close();
    await office.close();
  });

  test("a parent fills in the child's details from the population register", async () => {
    const parent = await portal.browser.newContext({ locale: 'en-GB' });
    const session = await (await parent.request.post(`${portal.server.url}/api/session`, { data: AIGERIM })).json();
    const headers = { 'x-csrf-token': session.csrf_token };
    const children = await (await parent.request.get(`${portal.server.url}/api/population/children`)).json();
    const aisha = children.find((c) => c.first_name === 'Айша');
    const draft = await (await parent.request.post(`${portal.server.url}/api/applications`, { data: { service_id: 'school-enrollment' }, headers })).json();
    const page = await parent.newPage();
    const errors = watchErrors(page);
    await page.goto(`${portal.server.url}/applications/${draft.id}/pages/subject?lang=en`);
    await page.getByLabel('My child (as a parent or guardian)').check();
    await page.getByRole('heading', { name: 'Your children in the population register' }).waitFor();
    await expectNoAxeViolations(page, 'the subject page with the register children');
    const [day, month, year] = aisha.birth_date.split('-').reverse();
    await page.getByRole('button', { name: `Fill in for Сәрсенова Айша Нұрланқызы, born ${day}.${month}.${year}` }).click();
    await page.getByRole('status').filter({ hasText: 'Filled in from the population register' }).waitFor();
    assert.equal(await page.getByLabel('Their IIN').inputValue(), aisha.iin);
    assert.equal(await page.getByLabel('Their surname').inputValue(), 'Сәрсенова');
    await page.getByRole('button', { name: 'Save and continue' }).click();
    await page.getByRole('heading', { level: 1, name: 'School and class' }).waitFor();
    // Autosave is debounced: wait until the server has the answers.
    let saved;
    for (let tries = 0; tries < 50; tries++) {
      saved = await (await parent.request.get(`${portal.server.url}/api/applications/${draft.id}`)).json();
      if (saved.answers.subject_iin) break;
      await page.waitForTimeout(200);
    }
    assert.equal(saved.answers.subject_iin, aisha.iin);
    assert.equal(saved.answers.residence.street, 'Тимирязев көшесі', 'the registered address too');
    assert.deepEqual(errors, []);
    await parent.close();
  });
});
