// Applying through the built app, for three services: fill in, attach, leave, come back in a
// fresh browser profile, check answers, send, download the receipt and find the number in it.
// Also: answers survive going offline, and an upload resumes after the connection drops.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { expectNoAxeViolations, watchErrors } from '../lib/browser.mjs';
import { at, firstGraderIin, freshIin, issueKeyFile, pdfText, photoPng, scanPdf, usePortal } from '../lib/journey.mjs';

const portal = usePortal({ PORTAL_DEMO: '1' });

const PASSWORD = 'Kóktem-jańbyry-2026';

/// A new browser profile signed in as `iin` (registering it first when `register`).
async function profile(iin, { register = false } = {}) {
  const context = await portal.browser.newContext({ locale: 'en-GB', viewport: { width: 1000, height: 900 }, acceptDownloads: true });
  const url = register ? '/api/accounts' : '/api/session';
  const data = register
    ? { iin, password: PASSWORD, last_name: 'Омарова', first_name: 'Жанар', email: 'zhanar@example.com', preferred_lang: 'en' }
    : { iin, password: PASSWORD };
  const response = await context.request.post(portal.server.url + url, { data });
  assert.ok(response.ok(), `${url}: ${response.status()} ${await response.text()}`);
  const page = await context.newPage();
  const errors = watchErrors(page);
  return { context, page, errors };
}

const saveAndContinue = (page) => page.getByRole('button', { name: 'Save and continue' }).click();

/// Waits until the draft says it is saved (autosave is debounced).
const saved = (page) => page.getByRole('status').filter({ hasText: /^Saved at \d\d:\d\d$/ }).waitFor();

async function startDraft(page, service) {
  await page.goto(`${portal.server.url}/services/${service}?lang=en`);
  await page.getByRole('link', { name: 'Start now' }).click();
  await at(page, /^\/applications\/[0-9a-f]{32}$/);
  await page.getByRole('heading', { level: 1, name: 'Your application' }).waitFor();
  return new URL(page.url()).pathname;
}

/// Opens the key file on the check page; the certificate it holds is shown.
async function openKey(page, key, { file = 'Key file for signing (.p12)', password = 'Key file password', open = 'Open the key' } = {}) {
  await page.getByLabel(file).setInputFiles(key.path);
  await page.getByLabel(password).fill(key.password);
  await page.getByRole('button', { name: open }).click();
}

async function sendFromCheckPage(page, key) {
  await page.getByRole('heading', { level: 1, name: 'Check your answers before sending' }).waitFor();
  await expectNoAxeViolations(page, 'check your answers');
  // Without consent: the summary says why, and nothing is sent.
  await page.getByRole('button', { name: 'Sign and send the application' }).click();
  await page.getByRole('alert').filter({ hasText: 'agree to the use of your personal data' }).waitFor();
  await expectNoAxeViolations(page, 'check your answers, no consent');
  await page.getByLabel(/I agree to the use of my personal data/).check();
  // Without a key: the summary asks for the key file.
  await page.getByRole('button', { name: 'Sign and send the application' }).click();
  await page.getByRole('alert').filter({ hasText: 'Choose your key file.' }).waitFor();
  await openKey(page, key);
  await page.getByRole('status').filter({ hasText: /^Certificate of ОМАРОВА ЖАНАР, IIN \d{12}, valid until \d\d\.\d\d\.\d{4}\.$/ }).waitFor();
  await expectNoAxeViolations(page, 'check your answers, key opened');
  await page.getByRole('button', { name: 'Sign and send the application' }).click();
  await page.getByRole('heading', { level: 1, name: 'Application sent' }).waitFor();
  const number = (await page.locator('.application-number').textContent()).trim();
  assert.match(number, /^\d{6}-\d{6}-\d$/);
  await expectNoAxeViolations(page, 'confirmation');
  return number;
}

async function downloadReceipt(page, number) {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download the receipt (PDF)' }).click()]);
  const bytes = readFileSync(await download.path());
  assert.equal(bytes.subarray(0, 5).toString(), '%PDF-');
  const text = await pdfText(bytes);
  assert.ok(text.includes(number), `the receipt names ${number}:\n${text}`);
  assert.ok(text.includes('Receipt for the application'), text);
  return text;
}

describe('applying', () => {
  test('first-grade enrolment: fill in, attach a photo, leave, resume on a fresh profile, send, receipt', async () => {
    const iin = freshIin();
    const first = await profile(iin, { register: true });
    const { page } = first;
    const draftPath = await startDraft(page, 'school-enrollment');
    await expectNoAxeViolations(page, 'task list');

    // For whom: a child. Errors first, GOV.UK style.
    await page.getByRole('link', { name: 'Who the application is for' }).click();
    await saveAndContinue(page);
    const summary = page.getByRole('alert').filter({ hasText: 'There is a problem' });
    await summary.waitFor();
    await expectNoAxeViolations(page, 'subject page with errors');
    await summary.getByRole('link', { name: 'Choose one of the options.' }).first().click();
    await page.getByLabel('My child (as a parent or guardian)').check();
    await page.getByLabel('Their IIN').fill('190515612345');
    await saveAndContinue(page);
    await page.getByRole('alert').filter({ hasText: 'one of the digits is probably mistyped' }).waitFor();
    await page.getByLabel('Their IIN').fill(firstGraderIin());
    await page.getByLabel('Their surname').fill('Омарова');
    await page.getByLabel('Their given name').fill('Айгүл');
    await saveAndContinue(page);

    // School and class.
    await page.getByRole('heading', { level: 1, name: 'School and class' }).waitFor();
    await page.getByLabel('School', { exact: true }).selectOption({ label: 'School-gymnasium No. 201 (demo)' });
    await page.getByLabel('Class to enrol in').fill('1');
    await page.getByLabel('Full-time').check();
    await expectNoAxeViolations(page, 'school page');
    await saveAndContinue(page);

    // The school's priority categories, each with the document that proves it.
    await page.getByRole('heading', { level: 1, name: 'Priority category' }).waitFor();
    await page.getByText('Proof: The conclusion of the psychological, medical and pedagogical consultation (PMPK)').waitFor();
    await page.getByLabel('A brother or sister studies at this school').check();
    await page.getByLabel(/Proof of the category/).waitFor();
    await expectNoAxeViolations(page, 'priority page with a category claimed');
    await page.getByLabel('None of these').check();
    await page.getByLabel(/Proof of the category/).waitFor({ state: 'detached' });
    await saveAndContinue(page);

    // Where the child lives.
    await page.getByRole('heading', { level: 1, name: 'Where the child lives' }).waitFor();
    await page.getByLabel('City, town or village').fill('Алматы');
    await page.getByLabel('Street or microdistrict').fill('Абай даңғылы');
    await page.getByLabel('House').fill('10');
    await saveAndContinue(page);

    // A phone photo of the child: made smaller and sent as JPEG.
    await page.getByRole('heading', { level: 1, name: 'Copies of documents' }).waitFor();
    const photo = photoPng(2400, 3200);
    await page.getByLabel(/Photo, 3×4 cm/).setInputFiles({ name: 'IMG_2041.png', mimeType: 'image/png', buffer: photo });
    const attached = page.getByRole('link', { name: 'IMG_2041.jpg' });
    await attached.waitFor({ timeout: 30_000 });
    // Two photographed pages of a medical form become one PDF before they leave the phone.
    const form063 = page.locator('.form-group').filter({ has: page.getByLabel(/Form 063\/у/) });
    await form063.getByLabel('Combine the chosen photos into one PDF').check();
    await page.getByLabel(/Form 063\/у/).setInputFiles([
      { name: 'page-1.png', mimeType: 'image/png', buffer: photoPng(900, 1200) },
      { name: 'page-2.png', mimeType: 'image/png', buffer: photoPng(900, 1200) },
    ]);
    await page.getByRole('link', { name: 'page-1.pdf' }).waitFor({ timeout: 30_000 });
    await expectNoAxeViolations(page, 'documents page with a file');
    await saved(page);
    await first.context.close();

    // Another device: nothing in its storage, everything on the server.
    const second = await profile(iin);
    const p2 = second.page;
    await p2.goto(`${portal.server.url}/cabinet?lang=en`);
    await p2.getByRole('link', { name: 'First-grade enrolment' }).or(p2.getByRole('link', { name: /school/i })).first().click();
    await at(p2, draftPath);
    await p2.getByRole('heading', { level: 1, name: 'Your application' }).waitFor();
    await expectNoAxeViolations(p2, 'task list on another device');
    for (const section of ['Who the application is for', 'School and class', 'Where the child lives']) {
      const row = p2.getByRole('listitem').filter({ has: p2.getByRole('link', { name: section }) });
      assert.equal((await row.getByText('Completed').count()), 1, `${section} is completed`);
    }
    const application = await (await second.context.request.get(portal.server.url + '/api/applications/' + draftPath.split('/').pop())).json();
    const jpeg = application.attachments.find((a) => a.slot === 'child-photo');
    assert.equal(jpeg.content_type, 'image/jpeg');
    assert.ok(jpeg.size < photo.length / 3, `the photo shrank: ${jpeg.size} bytes from ${photo.length}`);
    const combined = application.attachments.find((a) => a.slot === 'child-health-record-063');
    assert.equal(combined.content_type, 'application/pdf');
    assert.equal(combined.file_name, 'page-1.pdf');

    await p2.getByRole('link', { name: 'Check your answers and send' }).click();
    await p2.getByText('School-gymnasium No. 201 (demo)', { exact: true }).waitFor();
    await p2.getByText('IMG_2041.jpg').waitFor();
    // A change link goes to the page and comes back.
    await p2.getByRole('link', { name: 'Change Class to enrol in' }).click();
    await p2.getByLabel('Class to enrol in').fill('2');
    await saveAndContinue(p2);
    await at(p2, `${draftPath}/check`);
    await p2.getByRole('definition').filter({ hasText: /^2$/ }).waitFor();
    const number = await sendFromCheckPage(p2, issueKeyFile(portal.server, iin));
    const text = await downloadReceipt(p2, number);
    assert.ok(text.includes('IMG_2041.jpg'), 'the receipt lists the attachment');
    assert.ok(text.includes('School-gymnasium No. 201 (demo)'));

    // The receipt's QR code leads to a public page that confirms it.
    const verification = application.submission ?? (await (await second.context.request.get(portal.server.url + '/api/applications/' + draftPath.split('/').pop())).json()).submission;
    const verifyPath = new URL(verification.verification_url).pathname;
    const stranger = await portal.browser.newContext({ locale: 'en-GB' });
    const p3 = await stranger.newPage();
    await p3.goto(`${portal.server.url}${verifyPath}?lang=en`);
    await p3.getByText('This document is genuine').waitFor();
    await p3.getByText(number, { exact: true }).waitFor();
    await p3.getByText('Receipt for the application').waitFor();
    await expectNoAxeViolations(p3, 'receipt verification');
    await stranger.close();

    await p2.goto(`${portal.server.url}/cabinet?lang=en`);
    await p2.getByText(`No. ${number}`).waitFor();
    assert.deepEqual(second.errors, []);
    await second.context.close();
  });

  test('a guardianship certificate by a representative with a power of attorney, in Russian', async () => {
    const iin = freshIin();
    const { context, page, errors } = await profile(iin, { register: true });
    await page.goto(`${portal.server.url}/services/guardianship-reference?lang=ru`);
    await page.getByRole('link', { name: 'Начать' }).click();
    await at(page, /^\/applications\/[0-9a-f]{32}$/);
    await page.getByRole('link', { name: 'Для кого заявление' }).click();
    await page.getByLabel('За другого человека по нотариально удостоверенной доверенности').check();
    await page.getByLabel('Его или ее ИИН').fill(freshIin('120304', '5'));
    await page.getByLabel('Его или ее фамилия').fill('Ахметов');
    await page.getByLabel('Его или ее имя').fill('Арман');
    await page.getByLabel('Номер доверенности в реестре').fill('12-3456');
    await page.getByLabel('Дата удостоверения доверенности').fill('2026-01-15');
    await page.getByLabel('Копия доверенности').setInputFiles({ name: 'доверенность.pdf', mimeType: 'application/pdf', buffer: scanPdf('power of attorney') });
    await page.getByRole('link', { name: 'доверенность.pdf' }).waitFor({ timeout: 30_000 });
    await expectNoAxeViolations(page, 'representative page (ru)');
    await page.getByRole('button', { name: 'Сохранить и продолжить' }).click();
    await page.getByRole('heading', { level: 1, name: 'Справка об опеке и попечительстве' }).waitFor();
    await page.getByLabel('Управление образования').selectOption({ label: 'Управление образования города Алматы (демо)' });
    await page.getByRole('button', { name: 'Сохранить и продолжить' }).click();
    await page.getByRole('heading', { level: 1, name: 'Проверьте ответы перед отправкой' }).waitFor();
    await page.getByLabel(/Я согласен/).check();
    await openKey(page, issueKeyFile(portal.server, iin), { file: 'Файл ключа для подписи (.p12)', password: 'Пароль файла ключа', open: 'Открыть ключ' });
    await page.getByRole('status').filter({ hasText: 'Сертификат: ОМАРОВА ЖАНАР' }).waitFor();
    await page.getByRole('button', { name: 'Подписать и отправить заявление' }).click();
    await page.getByRole('heading', { level: 1, name: 'Заявление отправлено' }).waitFor();
    const number = (await page.locator('.application-number').textContent()).trim();
    await expectNoAxeViolations(page, 'confirmation (ru)');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Скачать расписку (PDF)' }).click()]);
    const text = await pdfText(readFileSync(await download.path()));
    assert.ok(text.includes(number), text);
    assert.ok(text.includes('Расписка о приеме заявления'), text);
    assert.ok(text.includes('доверенность.pdf'), text);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('external study for oneself: answers survive going offline, and an upload resumes after a dropped connection', async () => {
    const iin = freshIin();
    const { context, page, errors } = await profile(iin, { register: true });
    const draftPath = await startDraft(page, 'externat-permission');
    await page.getByRole('link', { name: 'Who the application is for' }).click();
    await page.getByLabel('Myself').check();
    await saved(page);
    await saveAndContinue(page);

    await page.getByRole('heading', { level: 1, name: 'Permission for external study' }).waitFor();
    await context.setOffline(true);
    await page.getByLabel('Education department').selectOption({ label: 'Almaty City Education Department (demo)' });
    await page.getByLabel('General secondary education').check();
    await page.getByRole('status').filter({ hasText: 'No connection' }).waitFor();
    // A reload while offline would lose nothing either: the answers are in this browser's storage.
    const local = await page.evaluate((id) => localStorage.getItem(`portal.draft.${id}`), draftPath.split('/').pop());
    assert.ok(local.includes('general_secondary'), local);
    await context.setOffline(false);
    await saved(page);
    const onServer = await (await context.request.get(portal.server.url + '/api/applications/' + draftPath.split('/').pop())).json();
    assert.equal(onServer.answers.education_level, 'general_secondary');

    // Straight to "check your answers" with the school still missing: the summary says so and
    // leads to the row, whose change link leads to the question.
    await page.getByRole('link', { name: 'Back to the sections of the application' }).click();
    await page.getByRole('link', { name: 'Check your answers and send' }).click();
    await page.getByLabel(/I agree to the use of my personal data/).check();
    await page.getByRole('button', { name: 'Sign and send the application' }).click();
    const summary = page.getByRole('alert').filter({ hasText: 'There is a problem' });
    await summary.getByRole('link', { name: 'Choose one of the options.' }).click();
    await page.waitForFunction(() => document.activeElement?.id === 'check-school');
    await expectNoAxeViolations(page, 'check your answers with a missing answer');
    await page.getByRole('link', { name: 'Change School for external study' }).click();
    await page.getByLabel('School for external study').selectOption({ label: 'School-lyceum No. 203 (demo)' });
    await saveAndContinue(page);
    await at(page, `${draftPath}/check`);

    // The first upload request dies mid-way; the browser asks how far it got and continues.
    let dropped = 0;
    await page.route('**/attachments/*/content', async (route) => {
      if (route.request().method() === 'PATCH' && dropped === 0) {
        dropped += 1;
        return route.abort('connectionreset');
      }
      return route.continue();
    });
    await page.getByRole('heading', { level: 1, name: 'Check your answers before sending' }).waitFor();
    await page.getByLabel(/Other documents/).setInputFiles({ name: 'certificate.pdf', mimeType: 'application/pdf', buffer: scanPdf('medical certificate') });
    await page.getByRole('link', { name: 'certificate.pdf' }).waitFor({ timeout: 30_000 });
    assert.equal(dropped, 1, 'the connection was dropped once');

    // An upload abandoned on another device is shown as unfinished and can be removed.
    const { csrf_token: csrf } = await (await context.request.get(portal.server.url + '/api/session')).json();
    const leftover = await context.request.post(`${portal.server.url}/api/applications/${draftPath.split('/').pop()}/attachments`, {
      data: { slot: 'other', file_name: 'leftover.pdf', size: 5000 },
      headers: { 'x-csrf-token': csrf },
    });
    assert.equal(leftover.status(), 201);
    await page.reload();
    await page.getByText('Not fully uploaded: remove it and attach the file again.').waitFor();
    await page.getByRole('button', { name: 'Remove leftover.pdf' }).click();
    await page.getByText('leftover.pdf', { exact: true }).waitFor({ state: 'detached' });
    const number = await sendFromCheckPage(page, issueKeyFile(portal.server, iin));
    const text = await downloadReceipt(page, number);
    assert.ok(text.includes('certificate.pdf'), text);
    assert.deepEqual(errors, []);
    await context.close();
  });
});
