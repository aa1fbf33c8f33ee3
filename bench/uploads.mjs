// Upload benchmark: the real server binary, attachments of 1 MB and of 20 MB uploaded
// concurrently through the resumable upload API, as the browser sends them (1 MB parts).
// Prints throughput and the server's peak resident memory for each size, so one can see that
// memory does not grow with file size. Figures, not assertions: machines here are noisy.
//
//   scripts/bench-uploads            (builds the release server, then runs this)
import { readFileSync, writeFileSync } from 'node:fs';
import { startServer } from '../e2e/lib/server.mjs';
import { freshIin } from '../e2e/lib/journey.mjs';

const CONCURRENT = Number(process.env.BENCH_CONCURRENT ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PART = 1024 * 1024;

function peakRssKb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)[1]);
}

function currentRssKb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]);
}

async function signUp(url) {
  const iin = freshIin('850606', '3');
  const response = await fetch(`${url}/api/accounts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ iin, password: 'Bench-upload-2026', last_name: 'Бенч', first_name: 'Марк', email: 'bench@example.com', preferred_lang: 'en' }),
  });
  if (response.status !== 201) throw new Error(`register: ${response.status} ${await response.text()}`);
  const cookie = response.headers.get('set-cookie').split(';')[0];
  const { csrf_token: csrf } = await response.json();
  return { cookie, csrf };
}

async function call(url, who, method, path, body, headers = {}) {
  const response = await fetch(url + path, {
    method,
    headers: { cookie: who.cookie, 'x-csrf-token': who.csrf, ...(body && !(body instanceof Uint8Array) ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body instanceof Uint8Array ? body : body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function uploadOne(url, who, file) {
  const draft = await call(url, who, 'POST', '/api/applications', { service_id: 'school-enrollment' });
  const attachment = await call(url, who, 'POST', `/api/applications/${draft.id}/attachments`, { slot: 'other', file_name: 'scan.pdf', size: file.length });
  let view = attachment;
  for (let offset = 0; offset < file.length; offset += PART) {
    view = await call(url, who, 'PATCH', `/api/applications/${draft.id}/attachments/${attachment.id}/content`, file.subarray(offset, offset + PART), {
      'upload-offset': String(offset),
      'content-type': 'application/offset+octet-stream',
    });
  }
  if (!view.complete) throw new Error('upload incomplete');
  await call(url, who, 'DELETE', `/api/applications/${draft.id}`);
}

function pdfOf(bytes) {
  const file = new Uint8Array(bytes);
  file.set(new TextEncoder().encode('%PDF-1.7\n'));
  for (let i = 9; i < file.length; i++) file[i] = (i * 2654435761) >>> 24;
  return file;
}

async function run(sizeMb) {
  const server = await startServer({ PORTAL_LOG: 'warn', PORTAL_MAX_FILE_MB: '25', PORTAL_REGISTRATIONS_PER_HOUR: '1000' });
  try {
    const pid = server.pid;
    const idleKb = currentRssKb(pid);
    const who = await Promise.all(Array.from({ length: CONCURRENT }, () => signUp(server.url)));
    // Signing up hashes passwords with Argon2id (19 MiB each): reset the peak so that it
    // measures the uploads alone.
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    const file = pdfOf(sizeMb * 1024 * 1024);
    const started = performance.now();
    for (let round = 0; round < ROUNDS; round++) {
      await Promise.all(who.map((w) => uploadOne(server.url, w, file)));
    }
    const seconds = (performance.now() - started) / 1000;
    const total = CONCURRENT * ROUNDS * sizeMb;
    return { sizeMb, uploads: CONCURRENT * ROUNDS, seconds, mbPerSecond: total / seconds, idleKb, peakKb: peakRssKb(pid) };
  } finally {
    await server.stop();
  }
}

const results = [];
for (const size of [1, 20]) results.push(await run(size));
console.log(`uploads of ${CONCURRENT} at a time, ${ROUNDS} rounds, in 1 MB parts, against the release server:`);
for (const r of results) {
  console.log(
    `  ${String(r.sizeMb).padStart(2)} MB files: ${r.uploads} uploads in ${r.seconds.toFixed(1)} s = ${r.mbPerSecond.toFixed(1)} MB/s; ` +
      `server memory ${Math.round(r.idleKb / 1024)} MB at start, ${Math.round(r.peakKb / 1024)} MB peak while uploading`,
  );
}
const [small, large] = results;
console.log(`  peak memory, 20 MB files vs 1 MB files: ${((large.peakKb - small.peakKb) / 1024).toFixed(1)} MB more (files are 20× larger)`);
