// Signing through NCALayer (a fake one the test starts: NCALayer's WebSocket protocol, signing
// with the demo key files), signing in with an EDS, and the signed document a citizen keeps and
// anyone can verify again.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { expectNoAxeViolations, watchErrors } from '../lib/browser.mjs';
import { startFakeNcaLayer } from '../lib/fake-ncalayer.mjs';
import { readyEnrolmentDraft, usePortal } from '../lib/journey.mjs';

const portal = usePortal({ PORTAL_DEMO: '1' });
const AIGERIM = { iin: '880314412019', password: 'Aigerim-demo-2026' };
const keyFile = (file) => join(process.env.PORTAL_DEMO_DIR, 'keys', file);
const KEYS = {
  signing: [keyFile('880314412019-signing.p12'), 'Aigerim-key-2026'],
  authentication: [keyFile('880314412019-authentication.p12'), 'Aigerim-key-2026'],
  dmitriy: [keyFile('851102322024-signing.p12'), 'Dmitriy-key-2026'],
};

let ncaLayer;
before(async () => {
  ncaLayer = await startFakeNcaLayer({ serverBin: process.env.PORTAL_SERVER_BIN, keyFile: KEYS.signing[0], password: KEYS.signing[1] });
});
after(async () => {
  await ncaLayer?.close();
});

/// A browser context that accepts the fake NCALayer's self-signed certificate, as browsers
/// accept the real NCALayer's once it is installed.
const newContext = () => portal.browser.newContext({ locale: 'en-GB', viewport: { width: 1000, height: 900 }, ignoreHTTPSErrors: true, acceptDownloads: true });

const readyDraft = (context) => readyEnrolmentDraft(context.request, portal.server.url, AIGERIM);

async function openCheckPage(context, id, { clock = false } = {}) {
  const page = await context.newPage();
  if (clock) await page.clock.install();
  const errors = watchErrors(page);
  await page.goto(`${portal.server.url}/applications/${id}/check?lang=en`);
  await page.getByRole('heading', { level: 1, name: 'Check your answers before sending' }).waitFor();
  await page.getByLabel(/I agree to the use of my personal data/).check();
  return { page, errors, summary: page.getByRole('alert').filter({ hasText: 'There is a problem' }) };
}

const ncaButton = (page) => page.getByRole('button', { name: 'Sign through NCALayer and send' });

describe('signing through NCALayer', () => {
  test('not running, cancelled, a wrong key and an old NCALayer each get their answer, then it sends', async () => {
    const context = await newContext();
    const id = await readyDraft(context);
    const { page, errors, summary } = await openCheckPage(context, id);

    await ncaLayer.close();
    await ncaButton(page).click();
    await summary.getByText('NCALayer is not running on this computer.', { exact: false }).waitFor();
    await expectNoAxeViolations(page, 'NCALayer not running');
    ncaLayer = await startFakeNcaLayer({ serverBin: process.env.PORTAL_SERVER_BIN, keyFile: KEYS.signing[0], password: KEYS.signing[1] });

    ncaLayer.setMode('cancel');
    await ncaButton(page).click();
    await summary.getByText('Signing was cancelled in NCALayer. Nothing was sent.').waitFor();

    ncaLayer.setMode('sign');
    ncaLayer.setKey(...KEYS.dmitriy);
    await ncaButton(page).click();
    await summary.getByText('The key chosen in NCALayer cannot be used here. This certificate belongs to КИМ ДМИТРИЙ (IIN 851102322024)', { exact: false }).waitFor();
    const basics = ncaLayer.requests.filter((r) => r.module === 'kz.gov.pki.knca.basics');
    assert.ok(basics.length >= 2, JSON.stringify(ncaLayer.requests));
    for (const request of basics) {
      assert.equal(request.method, 'sign');
      assert.equal(request.args.format, 'cms');
      assert.equal(request.args.signingParams.encapsulate, false);
      assert.equal(request.args.signerParams.iin, AIGERIM.iin, 'NCALayer offers only the applicant’s keys');
    }
    // What NCALayer was asked to sign is the server's document for this draft.
    const signed = JSON.parse(Buffer.from(basics.at(-1).args.data, 'base64').toString('utf8'));
    assert.equal(signed.application_id, id);
    assert.equal(signed.applicant_iin, AIGERIM.iin);

    // An NCALayer without the basics module: the older commonUtils call signs.
    ncaLayer.setMode('no-basics');
    ncaLayer.setKey(...KEYS.signing);
    const before = ncaLayer.requests.length;
    await ncaButton(page).click();
    await page.getByRole('heading', { level: 1, name: 'Application sent' }).waitFor();
    const asked = ncaLayer.requests.slice(before).map((r) => `${r.module}.${r.method}`);
    assert.deepEqual(asked, ['kz.gov.pki.knca.basics.sign', 'kz.gov.pki.knca.commonUtils.createCAdESFromBase64']);
    await page.getByText('The signature was verified', { exact: false }).waitFor();
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('an NCALayer that never answers times out with its own message', async () => {
    const context = await newContext();
    const id = await readyDraft(context);
    const { page, errors, summary } = await openCheckPage(context, id, { clock: true });
    ncaLayer.setMode('silent');
    await ncaButton(page).click();
    await page.getByRole('button', { name: 'Waiting for NCALayer…' }).waitFor();
    await page.clock.fastForward(121_000);
    await summary.getByText('NCALayer did not answer in time.', { exact: false }).waitFor();
    await expectNoAxeViolations(page, 'NCALayer timed out');
    ncaLayer.setMode('sign');
    assert.deepEqual(errors, []);
    await context.close();
  });
});

describe('signing in with an EDS', () => {
  test('with the authentication key file, not the signing one, and through NCALayer', async () => {
    const context = await newContext();
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.goto(`${portal.server.url}/login?lang=en&next=/cabinet`);
    await page.getByRole('heading', { level: 2, name: 'With an EDS key' }).waitFor();
    await expectNoAxeViolations(page, 'the sign-in page');
    const summary = page.getByRole('alert').filter({ hasText: 'There is a problem' });

    await page.getByLabel('Authentication key file (.p12)').setInputFiles(KEYS.signing[0]);
    await page.getByLabel('Key file password').fill(KEYS.signing[1]);
    await page.getByRole('button', { name: 'Sign in with the key' }).click();
    await summary.getByText('This is a signing key. To sign in, choose your authentication key', { exact: false }).waitFor();
    await expectNoAxeViolations(page, 'a signing key offered for sign-in');

    await page.getByLabel('Authentication key file (.p12)').setInputFiles(KEYS.authentication[0]);
    await page.getByLabel('Key file password').fill(KEYS.authentication[1]);
    await page.getByRole('button', { name: 'Sign in with the key' }).click();
    await page.waitForURL((url) => url.pathname === '/cabinet');
    await page.getByText('Айгерім', { exact: false }).first().waitFor();

    // Signed out, then in again through NCALayer with the authentication key.
    const session = await (await context.request.get(portal.server.url + '/api/session')).json();
    await context.request.delete(portal.server.url + '/api/session', { headers: { 'x-csrf-token': session.csrf_token } });
    ncaLayer.setMode('sign');
    ncaLayer.setKey(...KEYS.authentication);
    const before = ncaLayer.requests.length;
    await page.goto(`${portal.server.url}/login?lang=en&next=/cabinet`);
    await page.getByRole('button', { name: 'Sign in through NCALayer' }).click();
    await page.waitForURL((url) => url.pathname === '/cabinet');
    const [request] = ncaLayer.requests.slice(before);
    assert.equal(request.module, 'kz.gov.pki.knca.basics');
    assert.deepEqual(request.args.signerParams.extKeyUsageOids, ['1.3.6.1.5.5.7.3.2'], 'an authentication key is asked for');
    ncaLayer.setKey(...KEYS.signing);
    assert.deepEqual(errors, []);
    await context.close();
  });
});

describe('the signed document', () => {
  test('is downloaded from the application page and verifies again', async () => {
    const context = await newContext();
    const id = await readyDraft(context);
    const { page, errors } = await openCheckPage(context, id);
    ncaLayer.setMode('sign');
    await ncaButton(page).click();
    await page.getByRole('heading', { level: 1, name: 'Application sent' }).waitFor();
    await page.getByText('Signed by СӘРСЕНОВА АЙГЕРІМ, IIN 880314412019', { exact: false }).waitFor();
    await expectNoAxeViolations(page, 'the sent application with its signature');

    const download = async (name) => {
      const [file] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name }).click()]);
      return readFileSync(await file.path());
    };
    const cms = await download('Download the signature (.cms)');
    const document = await download('Download the signed data (.json)');
    assert.equal(JSON.parse(document.toString('utf8')).application_id, id);

    // Anyone holding the two files can have them verified, without signing in.
    const check = async (doc) =>
      (await (await fetch(portal.server.url + '/api/signatures/verification?lang=en', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ document: doc.toString('base64'), signature: cms.toString('base64') }),
      })).json());
    const valid = await check(document);
    assert.equal(valid.outcome, 'valid', JSON.stringify(valid));
    assert.equal(valid.signer.iin, AIGERIM.iin);
    const tampered = await check(Buffer.from(document.toString('utf8').replace('Айша', 'Аиша')));
    assert.equal(tampered.outcome, 'invalid');
    assert.match(tampered.reason, /changed after it was signed/);
    assert.deepEqual(errors, []);
    await context.close();
  });
});
