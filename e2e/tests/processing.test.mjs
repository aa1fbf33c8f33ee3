// Processing end to end: a citizen sends an application; an officer registers, assigns and
// approves it in the workspace; the citizen's open pages change without a reload; the citizen
// downloads the pickup's .ics and the signed result and checks it by its QR address.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';

import { expectNoAxeViolations, watchErrors } from '../lib/browser.mjs';
import { findInQueue, readyEnrolmentDraft, usePortal } from '../lib/journey.mjs';

const portal = usePortal({ PORTAL_DEMO: '1' });
const AIGERIM = { iin: '880314412019', password: 'Aigerim-demo-2026' };
const GULNAR = { iin: '830217461010', password: 'Gulnar-officer-2026' };

async function download(page, click) {
  const [file] = await Promise.all([page.waitForEvent('download'), click()]);
  return readFileSync(await file.path());
}

describe('processing', () => {
  test('an officer processes an application while the citizen watches it live', async () => {
    // The citizen allowed browser notifications; the spy records what the page shows.
    const citizen = await portal.browser.newContext({ locale: 'en-GB', acceptDownloads: true, permissions: ['notifications'] });
    await citizen.addInitScript(() => {
      const Real = window.Notification;
      window.shownNotifications = [];
      function Spy(title, options) {
        window.shownNotifications.push({ title, body: options && options.body });
        return new Real(title, options);
      }
      Object.defineProperty(Spy, 'permission', { get: () => Real.permission });
      Spy.requestPermission = (...args) => Real.requestPermission(...args);
      Spy.prototype = Real.prototype;
      window.Notification = Spy;
    });
    const id = await readyEnrolmentDraft(citizen.request, portal.server.url, AIGERIM);
    const page = await citizen.newPage();
    const errors = watchErrors(page);
    await page.goto(`${portal.server.url}/applications/${id}/check?lang=en`);
    await page.getByText(/^Applications for first grade \(\d{4}–\d{4} school year\) are open until 31\.12\.\d{4} at 23:59 \(Astana time\)\.$/).waitFor();
    await page.getByLabel(/I agree to the use of my personal data/).check();
    await page.getByLabel('Key file for signing (.p12)').setInputFiles(join(process.env.PORTAL_DEMO_DIR, 'keys', '880314412019-signing.p12'));
    await page.getByLabel('Key file password').fill('Aigerim-key-2026');
    await page.getByRole('button', { name: 'Open the key' }).click();
    await page.getByRole('status').filter({ hasText: 'valid until' }).waitFor();
    await page.getByRole('button', { name: 'Sign and send the application' }).click();
    await page.getByRole('heading', { level: 1, name: 'Application sent' }).waitFor();
    const number = (await page.locator('.application-number').textContent()).trim();
    // First grade: the place in the school's queue and its places.
    await page.getByRole('heading', { name: 'Your place in the queue' }).waitFor();
    await page.getByText(/^Place in the queue at School-gymnasium No\. 201 \(demo\) for the \d{4}–\d{4} school year: \d+\.$/).waitFor();
    await page.getByText('First-grade places at this school: 100.').waitFor();
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
    await findInQueue(desk, portal.server.url, GULNAR, number);
    await expectNoAxeViolations(desk, 'the officer queue');
    await desk.getByRole('link', { name: number }).click();
    await desk.getByRole('heading', { name: 'Actions' }).waitFor();
    await desk.getByText('The history is intact').waitFor();
    await desk.getByRole('definition').filter({ hasText: /^\d+ \/ 100$/ }).waitFor();
    await expectNoAxeViolations(desk, 'a case file');
    // The answers read as the form asks them, not as stored data.
    const answers = desk.locator('h2:has-text("Answers") ~ dl.summary-list');
    await answers.getByText('School-gymnasium No. 201 (demo)').first().waitFor();
    assert.equal(await answers.getByText('almaty-school-201').count(), 0, 'the school by its name');

    await desk.getByRole('button', { name: 'Register the application' }).click();
    await desk.getByRole('status').filter({ hasText: 'Done: Registered' }).waitFor();
    // Without a reload, the citizen's pages show it.
    await page.getByRole('status').filter({ hasText: `Application No. ${number}: Registered` }).waitFor();
    await page.locator('.summary-list').getByText('Registered', { exact: true }).waitFor();
    await centre.getByText(`Application No. ${number}: Registered`).first().waitFor();
    await page.waitForFunction(
      (n) => window.shownNotifications.some((x) => x.title === `Application No. ${n}: Registered` && x.body.length > 0),
      number,
    );

    await desk.getByRole('button', { name: 'Assign the executor' }).click();
    await desk.getByRole('status').filter({ hasText: 'Done: Under review' }).waitFor();
    await desk.getByLabel('Text of the decision').fill('Enrol in class 1 "A" from 1 September.');
    // The signed class list goes with the decision.
    const classList = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(2000, 7)]);
    await desk.getByLabel('Attach documents (optional)').setInputFiles({ name: 'class-1A.pdf', mimeType: 'application/pdf', buffer: classList });
    await desk.getByRole('button', { name: 'Approve and issue the signed result' }).click();
    await desk.getByRole('status').filter({ hasText: 'Done: Result ready' }).waitFor();
    await desk.locator('.timeline').getByRole('link', { name: 'class-1A.pdf' }).waitFor();
    await expectNoAxeViolations(desk, 'a case file with a ready result');

    // The result-ready notice names the time and the place; the page shows the pickup.
    await page.getByRole('status').filter({ hasText: 'is ready. Collect it on' }).waitFor();
    await page.getByRole('heading', { name: 'Collecting the result' }).waitFor();
    await page.getByText('Timiryazev', { exact: false }).first().waitFor();
    await expectNoAxeViolations(page, 'a ready result with its pickup');
    const attached = await download(page, () => page.locator('.timeline').getByRole('link', { name: 'class-1A.pdf' }).click());
    assert.deepEqual(attached, classList, 'the applicant gets the document attached to the decision');
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

  test('an administrator edits the working-day calendar, a first-grade window, a school\'s first grade and a place\'s pickup capacity', async () => {
    const context = await portal.browser.newContext({ locale: 'en-GB' });
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.goto(`${portal.server.url}/login?lang=en&next=/workspace/admin`);
    await page.getByLabel('IIN', { exact: true }).fill('840808477071');
    await page.getByLabel('Password', { exact: true }).fill('Saule-admin-2026');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { level: 2, name: 'Pickup capacity' }).waitFor();
    await page.getByLabel('Pickup place').selectOption('almaty-school-201');
    await page.getByLabel('Places per slot').fill('0');
    await page.getByRole('button', { name: 'Save the capacity' }).click();
    await page.getByRole('alert').getByText('Enter a whole number from 1 to 50.').waitFor();
    await expectNoAxeViolations(page, 'administration: a capacity error');
    await page.getByLabel('Places per slot').fill('3');
    await page.getByRole('button', { name: 'Save the capacity' }).click();
    await page.getByRole('status').getByText('serves 3 people per slot').waitFor();
    await page.getByRole('row', { name: /almaty-school-201/ }).getByRole('cell', { name: '3', exact: true }).waitFor();

    // A school's first grade: its places, its territory and its priority categories.
    await page.getByRole('heading', { level: 2, name: "A school's first grade" }).waitFor();
    const school = page.locator('form').filter({ has: page.getByRole('button', { name: "Save the school's first grade" }) });
    await school.getByLabel('School', { exact: true }).selectOption('almaty-school-203');
    await school.getByText('No priority categories: children are enrolled in the order applications were received.').waitFor();
    await school.getByRole('button', { name: 'Add a category' }).click();
    await school.getByRole('group', { name: 'Category 1' }).waitFor();
    // Focus moves to the new category's first field.
    await page.waitForFunction(() => document.activeElement?.id === 'school-first_grade_priorities-0--id', null, { timeout: 5000 });
    await school.getByLabel('Service territory: one street or microdistrict per line (English)').press('Control+End');
    await school.getByLabel('Service territory: one street or microdistrict per line (English)').pressSequentially('\nZhandosov Street');
    await school.getByRole('button', { name: "Save the school's first grade" }).click();
    const problems = page.getByRole('alert').filter({ hasText: 'There is a problem' });
    await problems.getByText('Write the same streets or microdistricts in each language').waitFor();
    await problems.getByText('Give each category a different identifier').waitFor();
    await expectNoAxeViolations(page, "administration: a school's first grade with errors");
    for (const [lang, street] of [['Қазақша', 'Жандосов көшесі'], ['Русский', 'ул. Жандосова']]) {
      const field = school.getByLabel(`Service territory: one street or microdistrict per line (${lang})`);
      await field.press('Control+End');
      await field.pressSequentially(`\n${street}`);
    }
    const category = school.getByRole('group', { name: 'Category 1' });
    const typed = ['large-family', 'Көпбалалы отбасы', 'Многодетная семья', 'A large family', 'Анықтама', 'Справка', 'A certificate of a large family'];
    const boxes = category.getByRole('textbox');
    assert.equal(await boxes.count(), typed.length);
    for (let i = 0; i < typed.length; i++) await boxes.nth(i).fill(typed[i]);
    await school.getByRole('button', { name: 'Add a category' }).click();
    await school.getByRole('button', { name: 'Remove category 2' }).click();
    await school.getByRole('button', { name: "Save the school's first grade" }).click();
    await page.getByRole('status').getByText(': the first grade is saved.').waitFor();
    // It is kept: a fresh load shows it.
    await page.reload();
    await school.getByLabel('School', { exact: true }).selectOption('almaty-school-203');
    assert.equal(await school.getByRole('group', { name: 'Category 1' }).getByLabel('Category identifier').inputValue(), 'large-family');
    assert.match(await school.getByLabel('Service territory: one street or microdistrict per line (Русский)').inputValue(), /\nул\. Жандосова$/);
    assert.equal(await school.getByRole('group', { name: 'Category 2' }).count(), 0);
    await expectNoAxeViolations(page, "administration: a school's first grade saved");

    await page.getByRole('link', { name: 'Working-day calendar' }).click();
    await page.getByLabel('Year', { exact: true }).selectOption('2027');
    await page.getByRole('heading', { name: 'Public holidays' }).waitFor();
    await page.getByText(/Working days in the year: \d+/).waitFor();
    const before = Number((await page.getByText(/Working days in the year/).textContent()).match(/(\d+)/)[1]);
    await expectNoAxeViolations(page, 'administration: the calendar');
    // 9 January 2027 is a Saturday: it cannot be an extra day off.
    const dayOff = page.locator('form').filter({ has: page.getByRole('button', { name: 'Add the day' }) }).first();
    await dayOff.getByLabel('Date').fill('2027-01-09');
    await dayOff.getByLabel('Reason').fill('Decree No. 1');
    await dayOff.getByRole('button', { name: 'Add the day' }).click();
    await page.getByRole('alert').getByText('an extra day off must be a weekday').waitFor();
    await expectNoAxeViolations(page, 'administration: a calendar error');
    await dayOff.getByLabel('Date').fill('2027-11-24');
    await dayOff.getByRole('button', { name: 'Add the day' }).click();
    await page.getByRole('button', { name: 'Remove 24.11.2027' }).waitFor();
    await page.getByText('Changes are not saved until you save the year.').waitFor();
    await page.getByRole('button', { name: 'Save the year' }).click();
    await page.getByRole('status').getByText('The calendar for 2027 is saved').waitFor();
    await page.getByText(`Working days in the year: ${before - 1}`).waitFor();
    await page.getByText('Changed by an administrator.').waitFor();
    // It is kept: a fresh load shows it.
    await page.reload();
    await page.getByLabel('Year', { exact: true }).selectOption('2027');
    await page.getByRole('button', { name: 'Remove 24.11.2027' }).waitFor();
    await expectNoAxeViolations(page, 'administration: an edited calendar');
    // The first-grade window of the same year, to the minute.
    await page.getByRole('heading', { name: 'First-grade applications' }).waitFor();
    await page.getByLabel('Opens (Astana time)').fill('2027-05-01T09:00');
    await page.getByLabel('Closes (Astana time)').fill('2027-04-01T09:00');
    await page.getByRole('button', { name: 'Save the window' }).click();
    await page.getByRole('alert').getByText('The window must close after it opens.').waitFor();
    await expectNoAxeViolations(page, 'administration: a first-grade window error');
    await page.getByLabel('Opens (Astana time)').fill('2027-04-01T09:00');
    await page.getByLabel('Closes (Astana time)').fill('2027-09-01T00:00');
    // The age rule of the year goes with it.
    await page.getByLabel('Youngest age (the child turns it in the year school starts, at the latest)').fill('3');
    await page.getByRole('button', { name: 'Save the window' }).click();
    await page.getByRole('alert').getByText('Enter a whole number from 4 to 8.').waitFor();
    await page.getByLabel('Youngest age (the child turns it in the year school starts, at the latest)').fill('7');
    await page.getByLabel('Oldest age on 1 September').fill('8');
    await page.getByRole('button', { name: 'Save the window' }).click();
    await page.getByRole('status').getByText('The first-grade window is saved.').waitFor();
    await page.getByText('For the 2027–2028 school year: from 01.04.2027 at 09:00 (Astana time) to 31.08.2027 at 23:59 (Astana time). Set by an administrator.').waitFor();
    await page.getByText('Age: children who turn 7 by the end of 2027 and are at most 8 on 1 September.').waitFor();
    assert.deepEqual(errors, []);
    await context.close();
  });
});
