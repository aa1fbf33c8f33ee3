// Helpers shared by the journeys: fresh identities, URL waits, test files.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { deflateSync } from 'node:zlib';

import { launch } from './browser.mjs';
import { startServer } from './server.mjs';

/// A valid IIN nobody has registered yet: born on `birth` (YYMMDD) in the century and sex of
/// `centurySex` (3/4: 1900s, 5/6: 2000s), a random serial, its control digit.
/// A girl's IIN, different each call, born on 15 May of the year she turns 6: of first-grade
/// age whichever year the tests run.
export function firstGraderIin() {
  const year = new Date().getFullYear() - 6;
  return freshIin(`${String(year % 100).padStart(2, '0')}0515`, year >= 2000 ? '6' : '4');
}

export function freshIin(birth = '950505', centurySex = '4') {
  for (;;) {
    const first = `${birth}${centurySex}${String(Math.floor(Math.random() * 10000)).padStart(4, '0')}`;
    const d = [...first].map(Number);
    const sum = (w) => d.reduce((acc, x, i) => acc + x * w[i], 0) % 11;
    let c = sum([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    if (c === 10) c = sum([3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2]);
    if (c !== 10) return first + c;
  }
}

/// Waits until the page is at `path` (the path itself: a sign-in URL such as
/// `/login?next=/cabinet` must not count as being at `/cabinet`).
export const at = (page, path) => page.waitForURL((url) => (typeof path === 'string' ? url.pathname === path : path.test(url.pathname)));

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (buf) => {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};

/// A PNG "photo of a page" of `width`×`height` pixels: grey lines of text on white, with the
/// sensor noise of a real phone photo, so that it is as large as one and compresses like one.
export function photoPng(width, height) {
  const rows = [];
  let seed = 2463534242;
  const random = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 4294967296;
  };
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3);
    for (let x = 0; x < width; x++) {
      const ink = (y % 40 < 6 && x % 300 < 260) ? 60 : 235;
      const noise = Math.floor(random() * 20);
      row[1 + x * 3] = ink - noise;
      row[2 + x * 3] = ink - noise;
      row[3 + x * 3] = ink - noise + 3;
    }
    rows.push(row);
  }
  const chunk = (type, data) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.concat(rows), { level: 1 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/// A small but well-formed PDF, as a scanner would produce.
export function scanPdf(text = 'scan') {
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${`BT /F1 24 Tf 72 720 Td (${text}) Tj ET`.length} >>\nstream\nBT /F1 24 Tf 72 720 Td (${text}) Tj ET\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets = [];
  objects.forEach((body, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

/// The text of every page of a PDF, through pdf.js.
export async function pdfText(bytes) {
  const { getDocument } = await import('pdfjs-dist/legacy/build/pdf.mjs');
  const doc = await getDocument({ data: new Uint8Array(bytes), useSystemFonts: false, isEvalSupported: false }).promise;
  let text = '';
  for (let i = 1; i <= doc.numPages; i++) {
    const content = await (await doc.getPage(i)).getTextContent();
    text += content.items.map((item) => item.str).join(' ') + '\n';
  }
  return text;
}

/// A signing key file for `iin`, issued by the running portal's test CA through its CLI
/// (`portal-server pki issue`): the path of the `.p12` file and its password.
export function issueKeyFile(server, iin, { purpose = 'signing', notBefore, days } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'portal-key-'));
  const path = join(dir, `${iin}-${purpose}.p12`);
  const password = 'Test-key-2026';
  const args = ['pki', 'issue', '--iin', iin, '--last-name', 'Омарова', '--first-name', 'Жанар', '--purpose', purpose, '--out', path];
  if (notBefore) args.push('--not-before', notBefore);
  if (days) args.push('--days', String(days));
  execFileSync(process.env.PORTAL_SERVER_BIN, args, {
    env: { ...process.env, ...server.env, PORTAL_NEW_PASSWORD: password, PORTAL_LOG: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { path, password };
}

/// Starts the portal (with `env`) and Chromium before a test file's tests and stops them after;
/// `portal.server` and `portal.browser` are set once the tests run.
export function usePortal(env) {
  const portal = {};
  before(async () => {
    portal.server = await startServer(env);
    portal.browser = await launch();
  });
  after(async () => {
    await portal.browser?.close();
    await portal.server?.stop();
  });
  return portal;
}

/// A complete first-grade draft of `who` (IIN and password), made through the API with
/// `request` (a Playwright APIRequestContext, whose cookies then hold the session): its id.
/// `priority` claims one of School No. 201's priority categories, with a proof attached.
export async function readyEnrolmentDraft(request, url, who, { priority = 'none' } = {}) {
  const api = (path) => url + path;
  const session = await (await request.post(api('/api/session'), { data: who })).json();
  const headers = { 'x-csrf-token': session.csrf_token };
  const draft = await (await request.post(api('/api/applications'), { data: { service_id: 'school-enrollment' }, headers })).json();
  const answers = {
    on_behalf: 'child',
    subject_iin: firstGraderIin(),
    subject_last_name: 'Сәрсенова',
    subject_first_name: 'Айша',
    school: 'almaty-school-201',
    grade: '1',
    study_form: 'full_time',
    priority,
    residence: { locality: 'Алматы', street: 'Тимирязев көшесі', house: '10' },
  };
  const saved = await request.put(api(`/api/applications/${draft.id}`), { data: { version: 1, answers }, headers });
  if (saved.status() !== 200) throw new Error(`saving the draft: ${await saved.text()}`);
  // The child is not in the demo population register: the birth certificate copy goes too.
  const files = [['child-photo', 'photo'], ['child-birth-certificate', 'birth-certificate']];
  if (priority !== 'none') files.push(['first-grade-priority-proof', 'priority-proof']);
  for (const [slot, name] of files) {
    const file = scanPdf(name);
    const announced = await (await request.post(api(`/api/applications/${draft.id}/attachments`), {
      data: { slot, file_name: `${name}.pdf`, size: file.length },
      headers,
    })).json();
    const uploaded = await request.patch(api(`/api/applications/${draft.id}/attachments/${announced.id}/content`), {
      data: file,
      headers: { ...headers, 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' },
    });
    if (uploaded.status() !== 200) throw new Error(`uploading: ${await uploaded.text()}`);
  }
  return draft.id;
}

/// Signs `who` (an officer) in on `desk` and searches the queue for application `number`.
export async function findInQueue(desk, url, who, number) {
  await desk.goto(`${url}/login?lang=en`);
  await desk.getByLabel('IIN', { exact: true }).fill(who.iin);
  await desk.getByLabel('Password', { exact: true }).fill(who.password);
  await desk.getByRole('button', { name: 'Sign in', exact: true }).click();
  await desk.getByRole('heading', { name: 'Applications' }).waitFor();
  await desk.getByLabel('Number or IIN').fill(number);
  await desk.getByRole('button', { name: 'Show' }).click();
}
