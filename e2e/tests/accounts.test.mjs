// Accounts through the built apps: register, sign out, sign in, the cabinet, the inactivity
// warning, and the staff workspaces — in Kazakh, Russian and English, with axe on every page.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { expectNoAxeViolations, watchErrors } from '../lib/browser.mjs';
import { at, freshIin, usePortal } from '../lib/journey.mjs';

const portal = usePortal({ PORTAL_DEMO: '1' });

async function openPage(path, { locale = 'en-GB', clock = false } = {}) {
  const context = await portal.browser.newContext({ locale, viewport: { width: 1000, height: 900 } });
  const page = await context.newPage();
  if (clock) await page.clock.install();
  const errors = watchErrors(page);
  await page.goto(portal.server.url + path);
  return { context, page, errors };
}

/// Lets `milliseconds` of idle time pass on the page's clock (installed with `clock: true`),
/// in 5-second steps so that the page's timers fire as they would, stopping early when `until`
/// holds. The clock is paused meanwhile and resumed after: Playwright's own checks before a
/// click, and axe, need the page's timers running.
async function passTime(page, milliseconds, until = async () => false) {
  await page.clock.pauseAt((await page.evaluate(() => Date.now())) + 1000);
  for (let passed = 0; passed < milliseconds && !(await until()); passed += 5000) {
    await page.clock.runFor(5000);
  }
  await page.clock.resume();
}

const DEMO = {
  citizen: { iin: '880314412019', password: 'Aigerim-demo-2026' },
  officer: { iin: '830217461010', password: 'Gulnar-officer-2026' },
  admin: { iin: '840808477071', password: 'Saule-admin-2026' },
};

describe('a citizen', () => {
  test('registers in Russian, signs out, signs in again and sees the cabinet', async () => {
    const { context, page, errors } = await openPage('/register?lang=ru', { locale: 'ru-RU' });
    await page.getByRole('heading', { level: 1, name: 'Создание учетной записи' }).waitFor();
    await expectNoAxeViolations(page, 'registration (ru)');

    await page.getByRole('button', { name: 'Создать учетную запись' }).click();
    const summary = page.getByRole('alert').filter({ hasText: 'Есть ошибки' });
    await summary.waitFor();
    assert.ok((await summary.textContent()).includes('Введите ИИН.'));
    await expectNoAxeViolations(page, 'registration with errors (ru)');

    await page.getByLabel('ИИН').fill('900101300127');
    await page.getByRole('button', { name: 'Создать учетную запись' }).click();
    await page.getByText('Такой ИИН недействителен: вероятно, одна из цифр введена с ошибкой.').first().waitFor();
    await summary.getByRole('link', { name: /Такой ИИН недействителен/ }).click();
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'register-iin', 'the summary link moves focus to the field');

    const iin = freshIin();
    await page.getByLabel('ИИН').fill(iin);
    await page.getByLabel('Фамилия').fill('Ахметова');
    await page.getByLabel('Имя', { exact: true }).fill('Дана');
    await page.getByLabel('Адрес электронной почты').fill('dana@example.com');
    await page.getByLabel('Придумайте пароль').fill('Весенний-дождь-42');
    await page.getByLabel('Введите пароль еще раз').fill('Весенний-дождь-42');
    await page.getByRole('button', { name: 'Создать учетную запись' }).click();
    await at(page, '/cabinet');
    await page.getByRole('heading', { level: 1, name: 'Личный кабинет' }).waitFor();
    await page.getByText('У вас пока нет заявлений.').waitFor();
    await expectNoAxeViolations(page, 'the cabinet (ru)');

    await page.getByRole('button', { name: 'Выйти' }).click();
    await page.waitForURL(/\/login\?signed_out=1/);
    await page.getByLabel('ИИН').fill(iin);
    await page.getByLabel('Пароль', { exact: true }).fill('Весенний-дождь-42');
    await page.getByRole('button', { name: 'Войти', exact: true }).click();
    await at(page, '/cabinet');
    await page.getByText('Здравствуйте, Дана').waitFor();
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('signs in in Kazakh, and a wrong password gets the same message as an unknown IIN', async () => {
    const { context, page } = await openPage('/login?lang=kk', { locale: 'kk-KZ' });
    await page.getByRole('heading', { level: 1, name: 'Кіру' }).waitFor();
    await expectNoAxeViolations(page, 'sign-in (kk)');
    const attempt = async (iin, password) => {
      await page.getByLabel('ЖСН').fill(iin);
      await page.getByLabel('Құпиясөз', { exact: true }).fill(password);
      assert.equal(await page.getByLabel('ЖСН').inputValue(), iin);
      const answered = page.waitForResponse((r) => r.url().endsWith('/api/session') && r.request().method() === 'POST');
      await page.getByRole('button', { name: 'Кіру', exact: true }).click();
      return (await answered).status();
    };
    assert.equal(await attempt(DEMO.citizen.iin, 'wrong-password'), 401);
    const wrong = await page.getByRole('alert').textContent();
    assert.equal(await attempt(freshIin(), 'wrong-password'), 401);
    assert.equal(await page.getByRole('alert').textContent(), wrong);
    await expectNoAxeViolations(page, 'sign-in refused (kk)');

    await page.getByLabel('Құпиясөз', { exact: true }).fill(DEMO.citizen.password);
    await page.getByLabel('ЖСН').fill(DEMO.citizen.iin);
    await page.getByRole('button', { name: 'Кіру', exact: true }).click();
    await at(page, '/cabinet');
    await page.getByRole('heading', { level: 1, name: 'Жеке кабинет' }).waitFor();
    await context.close();
  });

  test('keeps notifications and a profile, in English', async () => {
    const { context, page } = await openPage('/login?lang=en&next=/cabinet/profile');
    await page.getByLabel('IIN').fill(DEMO.citizen.iin);
    await page.getByLabel('Password', { exact: true }).fill(DEMO.citizen.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await at(page, '/cabinet/profile');
    await page.getByRole('heading', { level: 2, name: 'Contact details' }).waitFor();
    assert.ok((await page.locator('main').textContent()).includes('880314******'), 'the IIN is shown masked');
    await expectNoAxeViolations(page, 'profile');

    await page.getByLabel('Mobile number').fill('12');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('link', { name: 'Enter a Kazakhstan mobile number, like 8 701 123 45 67.' }).waitFor();
    await expectNoAxeViolations(page, 'profile with an error');
    await page.getByLabel('Mobile number').fill('8 701 555 01 01');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Your profile is saved.').waitFor();
    assert.equal(await page.getByLabel('Mobile number').inputValue(), '+77015550101');

    await page.getByRole('link', { name: 'Notifications' }).click();
    await page.getByText('No notifications yet.', { exact: false }).waitFor();
    await expectNoAxeViolations(page, 'notifications');
    await context.close();
  });

  test('is warned two minutes before the session ends, and can stay', async () => {
    const { context, page } = await openPage('/login?lang=en&next=/cabinet', { clock: true });
    await page.getByLabel('IIN').fill(DEMO.citizen.iin);
    await page.getByLabel('Password', { exact: true }).fill(DEMO.citizen.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await at(page, '/cabinet');
    const dialog = page.getByRole('dialog', { name: 'You are about to be signed out' });
    // After 17 idle minutes, no warning yet…
    await passTime(page, 17 * 60 * 1000);
    assert.equal(await dialog.isVisible(), false, 'no warning more than 2 minutes before the end');
    // …and within the next 2 minutes and a bit, the warning.
    await passTime(page, 130 * 1000, () => dialog.isVisible());
    assert.equal(await dialog.isVisible(), true, 'warned before the session ends');
    await expectNoAxeViolations(page, 'the inactivity warning');
    const extended = page.waitForResponse((r) => r.url().endsWith('/api/session/extend') && r.status() === 200);
    await dialog.getByRole('button', { name: 'Stay signed in' }).click();
    await extended;
    assert.equal(await dialog.isVisible(), false, 'the session was extended: no warning now');
    await passTime(page, 60 * 1000);
    assert.equal(await dialog.isVisible(), false, 'a minute later, still no warning');
    await context.close();
  });

  test('comes back to the page they were on after the session has ended', async () => {
    const { context, page } = await openPage('/login?lang=en&next=/cabinet/profile', { clock: true });
    await page.getByLabel('IIN').fill(DEMO.citizen.iin);
    await page.getByLabel('Password', { exact: true }).fill(DEMO.citizen.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await at(page, '/cabinet/profile');

    // The session ends on the server (signed out on another device), and time runs out here.
    const other = await openPage('/login?lang=en&next=/cabinet/profile');
    await other.page.getByLabel('IIN').fill(DEMO.citizen.iin);
    await other.page.getByLabel('Password', { exact: true }).fill(DEMO.citizen.password);
    await other.page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await other.page.getByRole('button', { name: 'Sign out on all devices' }).click();
    await other.page.waitForURL(/\/login/);
    await other.context.close();
    await passTime(page, 21 * 60 * 1000, async () => page.url().includes('/login'));
    await page.waitForURL(/\/login\?expired=1&next=%2Fcabinet%2Fprofile/);
    await page.getByText('You were signed out after a period of inactivity.', { exact: false }).waitFor();
    await expectNoAxeViolations(page, 'signed out after inactivity');

    await page.getByLabel('IIN').fill(DEMO.citizen.iin);
    await page.getByLabel('Password', { exact: true }).fill(DEMO.citizen.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await at(page, '/cabinet/profile');
    await context.close();
  });
});

describe('staff', () => {
  test('an officer lands in the workspace of their organisation', async () => {
    const { context, page, errors } = await openPage('/login?lang=en');
    await page.getByLabel('IIN').fill(DEMO.officer.iin);
    await page.getByLabel('Password', { exact: true }).fill(DEMO.officer.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await at(page, '/workspace/');
    await page.getByRole('heading', { level: 1, name: 'Provider workspace' }).waitFor();
    await page.getByText('School-gymnasium No. 201 (demo)').waitFor();
    await expectNoAxeViolations(page, 'the officer workspace');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('an administrator adds an organisation and an officer, who can sign in', async () => {
    const { context, page } = await openPage('/login?lang=en&next=/workspace/admin');
    await page.getByLabel('IIN').fill(DEMO.admin.iin);
    await page.getByLabel('Password', { exact: true }).fill(DEMO.admin.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await at(page, '/workspace/admin');
    await page.getByRole('heading', { level: 2, name: 'Organisations' }).waitFor();
    await page.getByRole('cell', { name: 'almaty-school-201' }).waitFor();
    await expectNoAxeViolations(page, 'administration: organisations');

    await page.getByRole('button', { name: 'Add an organisation' }).click();
    await page.getByRole('alert').filter({ hasText: 'There is a problem' }).waitFor();
    await expectNoAxeViolations(page, 'administration: organisation errors');
    // The form's own fields: the page has other forms (a school's first grade has names too).
    const form = page.locator('form').filter({ has: page.getByRole('button', { name: 'Add an organisation' }) });
    await form.getByLabel('Identifier').fill('almaty-school-777');
    for (const [language, name, address] of [
      ['Қазақша', '№ 777 мектеп', 'Алматы, Абай даңғылы, 7'],
      ['Русский', 'Школа № 777', 'Алматы, проспект Абая, 7'],
      ['English', 'School No. 777', '7 Abay Avenue, Almaty'],
    ]) {
      await form.getByLabel(`Name (${language})`).fill(name);
      await form.getByLabel(`Address (${language})`).fill(address);
    }
    await form.getByLabel('Phone').fill('+7 727 300 07 77');
    await page.getByRole('button', { name: 'Add an organisation' }).click();
    await page.getByText('The organisation is added.').waitFor();
    await page.getByRole('cell', { name: 'almaty-school-777' }).waitFor();

    await page.getByRole('link', { name: 'Officers' }).click();
    await page.getByRole('heading', { level: 2, name: 'Add an officer' }).waitFor();
    await expectNoAxeViolations(page, 'administration: officers');
    const iin = freshIin();
    await page.getByLabel('IIN').fill(iin);
    await page.getByLabel('Surname').fill('Нұрова');
    await page.getByLabel('Given name').fill('Айша');
    await page.getByLabel('Organisation').selectOption('almaty-school-777');
    await page.getByLabel('Create a password').fill('First-pass-for-Aisha');
    await page.getByRole('button', { name: 'Add an officer' }).click();
    await page.getByText('The officer is added.', { exact: false }).waitFor();
    await context.close();

    const officer = await openPage('/login?lang=en');
    await officer.page.getByLabel('IIN').fill(iin);
    await officer.page.getByLabel('Password', { exact: true }).fill('First-pass-for-Aisha');
    await officer.page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await at(officer.page, '/workspace/');
    await officer.page.getByText('School No. 777').waitFor();
    await officer.context.close();
  });

  test('a citizen cannot use the workspace', async () => {
    const { context, page } = await openPage('/login?lang=en');
    await page.getByLabel('IIN').fill(DEMO.citizen.iin);
    await page.getByLabel('Password', { exact: true }).fill(DEMO.citizen.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await at(page, '/cabinet');
    await page.goto(portal.server.url + '/workspace/admin');
    await page.getByText('You do not have access to this.').waitFor();
    await context.close();
  });
});
