// The public catalogue through the built app: find a service, read what it needs, in three
// languages, by keyboard and on a narrow screen, with axe-core on every page state.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { expectNoAxeViolations, watchErrors } from '../lib/browser.mjs';
import { usePortal } from '../lib/journey.mjs';

const portal = usePortal();

async function openPage(path, { locale = 'en-GB', viewport = { width: 1100, height: 900 } } = {}) {
  const context = await portal.browser.newContext({ locale, viewport });
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto(portal.server.url + path);
  return { context, page, errors };
}

const cards = (page) => page.locator('.service-card');

describe('catalogue', () => {
  test('lists all 16 services and narrows them while the user types', async () => {
    const { context, page, errors } = await openPage('/services');
    await page.getByRole('heading', { level: 1, name: 'Public services' }).waitFor();
    await assert.doesNotReject(cards(page).nth(15).waitFor());
    assert.equal(await cards(page).count(), 16);
    assert.equal(await page.getByRole('status').filter({ hasText: 'services' }).textContent(), '16 services');
    await expectNoAxeViolations(page, 'the full catalogue');

    await page.getByLabel('Search for a service').fill('guardianship');
    await page.waitForFunction(() => document.querySelectorAll('.service-card').length < 16);
    const titles = await cards(page).locator('h2').allTextContents();
    assert.ok(titles.length >= 2, titles.join(', '));
    assert.ok(titles.every((t) => /guardian|trustee/i.test(t) || t.length > 0));
    assert.ok(titles.some((t) => /guardianship/i.test(t)), titles.join(', '));
    assert.match(page.url(), /q=guardianship/);
    await expectNoAxeViolations(page, 'search results');

    await page.getByLabel('Search for a service').fill('spaceship');
    await page.getByText('No service matches your search.').waitFor();
    await expectNoAxeViolations(page, 'no results');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('filters by category', async () => {
    const { context, page } = await openPage('/services');
    await page.getByRole('navigation', { name: 'Category' }).getByRole('link', { name: 'Teachers' }).click();
    await page.waitForFunction(() => document.querySelectorAll('.service-card').length === 1);
    assert.equal(await cards(page).locator('h2').textContent(), 'Teacher attestation: handing in documents');
    assert.match(page.url(), /category=teachers/);
    await expectNoAxeViolations(page, 'a category');
    await context.close();
  });

  test('switches language everywhere, and remembers the choice', async () => {
    const { context, page } = await openPage('/services');
    await page.getByRole('heading', { level: 1, name: 'Public services' }).waitFor();
    await page.getByRole('navigation', { name: 'Language' }).getByRole('link', { name: 'Русский' }).click();
    await page.getByRole('heading', { level: 1, name: 'Государственные услуги' }).waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'ru');
    assert.equal(await page.title(), 'Государственные услуги — Портал государственных услуг');
    assert.equal(await page.getByRole('status').filter({ hasText: 'услуг' }).textContent(), '16 услуг');
    await expectNoAxeViolations(page, 'the catalogue in Russian');

    await page.goto(portal.server.url + '/services');
    await page.getByRole('heading', { level: 1, name: 'Государственные услуги' }).waitFor();

    await page.goto(portal.server.url + '/services?lang=kk');
    await page.getByRole('heading', { level: 1, name: 'Мемлекеттік қызметтер' }).waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'kk');
    await expectNoAxeViolations(page, 'the catalogue in Kazakh');
    await context.close();
  });

  test("starts in the browser's language when the user has not chosen one", async () => {
    const { context, page } = await openPage('/', { locale: 'ru-RU' });
    await page.getByRole('heading', { level: 1, name: 'Государственные услуги онлайн' }).waitFor();
    await context.close();
    const other = await openPage('/', { locale: 'de-DE' });
    await other.page.getByRole('heading', { level: 1, name: 'Мемлекеттік қызметтер онлайн' }).waitFor();
    await other.context.close();
  });
});

describe('service page', () => {
  test('shows what a person needs before applying in person', async () => {
    const { context, page, errors } = await openPage('/services');
    await page.getByRole('link', { name: 'Certificate for unfinished college studies' }).click();
    await page.getByRole('heading', { level: 1, name: 'Certificate for unfinished college studies' }).waitFor();
    assert.match(page.url(), /\/services\/tvet-incomplete-certificate$/);
    for (const section of ['Documents', 'How to apply', 'What happens after you apply', 'Grounds for refusal', 'Opening hours']) {
      await page.getByRole('heading', { level: 2, name: section, exact: true }).waitFor();
    }
    await page.getByRole('heading', { level: 2, name: 'How to apply in person' }).waitFor();
    assert.equal(await page.getByRole('link', { name: 'Start now' }).count(), 0);
    const grounds = page.locator('section', { has: page.getByRole('heading', { name: 'Grounds for refusal' }) }).locator('ol > li');
    assert.equal(await grounds.count(), 4);
    assert.ok((await page.locator('main').textContent()).includes('3 working days'));
    await expectNoAxeViolations(page, 'an in-person service');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('offers to apply online and marks what the regulation does not say', async () => {
    const { context, page } = await openPage('/services/guardianship-reference?lang=en');
    await page.getByRole('heading', { level: 1 }).waitFor();
    await page.getByRole('link', { name: 'Start now' }).waitFor();
    const main = await page.locator('main').textContent();
    assert.ok(main.includes('Not stated in the regulation'), 'the fee is not in the seed');
    assert.ok(main.includes('an estimate from the procedure steps'), 'the term is derived');
    await expectNoAxeViolations(page, 'an online service');
    await page.getByText('Official name').click();
    await expectNoAxeViolations(page, 'the official name expanded');
    await context.close();
  });

  test('tells the user when a service does not exist', async () => {
    const { context, page } = await openPage('/services/no-such-service');
    await page.getByRole('heading', { level: 1, name: 'Page not found' }).waitFor();
    await page.getByRole('link', { name: 'All services' }).first().waitFor();
    await expectNoAxeViolations(page, 'an unknown service');
    await context.close();
  });
});

describe('every page', () => {
  test('works by keyboard: skip link, links, language switch', async () => {
    const { context, page } = await openPage('/');
    await page.getByRole('heading', { level: 1 }).waitFor();
    await page.keyboard.press('Tab');
    const skip = page.getByRole('link', { name: 'Skip to main content' });
    assert.ok(await skip.evaluate((el) => el === document.activeElement), 'the skip link comes first');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'main');

    await page.getByRole('link', { name: 'Русский' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Государственные услуги онлайн' }).waitFor();

    await page.getByLabel('Поиск услуги').focus();
    await page.keyboard.type('опека');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/services\?q=/);
    await page.getByRole('heading', { level: 1, name: 'Государственные услуги' }).waitFor();
    assert.ok((await cards(page).count()) >= 1);
    await context.close();
  });

  test('fits a 320 px wide screen without sideways scrolling', async () => {
    for (const path of ['/', '/services', '/services/tvet-incomplete-certificate', '/services/school-enrollment']) {
      const { context, page } = await openPage(path, { viewport: { width: 320, height: 640 } });
      await page.getByRole('heading', { level: 1 }).waitFor();
      await page.waitForLoadState('networkidle');
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `${path} is ${overflow}px too wide`);
      await expectNoAxeViolations(page, `${path} at 320 px`);
      await context.close();
    }
  });

  test('serves hashed assets as immutable and the page itself uncached', async () => {
    const page = await fetch(portal.server.url + '/services');
    assert.equal(page.headers.get('cache-control'), 'no-cache');
    const html = await page.text();
    const wasm = html.match(/\/(portal-web-[0-9a-f]+_bg\.wasm)/)[1];
    const asset = await fetch(`${portal.server.url}/${wasm}`, { headers: { 'accept-encoding': 'br' } });
    assert.equal(asset.status, 200);
    assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(asset.headers.get('content-type'), 'application/wasm');
  });
});
