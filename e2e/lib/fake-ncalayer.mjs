/**
 * A fake NCALayer, the national CA's local signing application, for the end-to-end tests.
 *
 * It imitates NCALayer's WebSocket protocol on `wss://127.0.0.1:13579`:
 * - a version greeting, `{"result":{"version":"1.4"}}`, as soon as a client connects;
 * - `--heartbeat--` text frames every 500 ms, and one just before every reply, which clients
 *   must ignore;
 * - the `kz.gov.pki.knca.basics` module's `sign` method (a detached CMS of base64 data), answered
 *   with `{"status":true,"body":{"result":["<CMS>"]}}`;
 * - the older `kz.gov.pki.knca.commonUtils` module's `createCAdESFromBase64`, answered with
 *   `{"code":"200","responseObject":"<CMS>"}`.
 *
 * Instead of showing a dialog, it signs with a key file through the portal's own CLI
 * (`portal-server pki sign`). The mode says how the "user" behaves: `sign` (signs), `cancel`
 * (closes the dialog), `silent` (never answers) or `no-basics` (an old NCALayer without the
 * basics module). The TLS certificate is a test-only self-signed one (fixtures/ncalayer-tls).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { WebSocket, WebSocketServer } from 'ws';

const BASICS = 'kz.gov.pki.knca.basics';
const COMMON_UTILS = 'kz.gov.pki.knca.commonUtils';
const HEARTBEAT = '--heartbeat--';
const MODES = ['sign', 'cancel', 'silent', 'no-basics'];

const fixture = (name) => readFileSync(new URL(`../fixtures/ncalayer-tls/${name}`, import.meta.url));
const run = promisify(execFile);

/// Signs `base64` data with `keyFile` through `serverBin pki sign`: the base64 detached CMS, or
/// `{ error }` with the command's stderr when it fails.
async function signData(serverBin, keyFile, password, base64) {
  const dir = await mkdtemp(join(tmpdir(), 'fake-ncalayer-'));
  try {
    const file = join(dir, 'data.bin');
    await writeFile(file, Buffer.from(base64, 'base64'));
    const { stdout } = await run(serverBin, ['pki', 'sign', '--key', keyFile, '--in', file], {
      env: { ...process.env, PORTAL_KEY_PASSWORD: password },
    });
    return { cms: stdout.trim() };
  } catch (error) {
    return { error: error.stderr?.trim() || error.message };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/// What the basics module's `sign` cannot accept: the reason, or null when the request is fine.
function badBasicsRequest(args) {
  if (args?.format !== 'cms') return `format must be "cms", not ${JSON.stringify(args?.format)}`;
  if (args.signingParams?.encapsulate !== false) return 'signingParams.encapsulate must be false';
  if (typeof args.data !== 'string') return 'data must be a base64 string';
  return null;
}

/// What `createCAdESFromBase64` cannot accept: the reason, or null when the request is fine.
function badCommonUtilsRequest(args) {
  if (!Array.isArray(args) || args.length !== 4) return 'args must be [storage, keyType, base64, attached]';
  const [storage, keyType, data, attached] = args;
  if (storage !== 'PKCS12') return `unknown storage ${JSON.stringify(storage)}`;
  if (keyType !== 'SIGNATURE' && keyType !== 'AUTHENTICATION') return `unknown key type ${JSON.stringify(keyType)}`;
  if (typeof data !== 'string') return 'data must be a base64 string';
  if (attached !== false) return 'only detached signatures are expected';
  return null;
}

/// Starts the fake on `wss://127.0.0.1:<port>`. `requests` collects every parsed request (a frame
/// that is not JSON is kept as its text); `setMode` and `setKey` apply to the requests that follow.
export async function startFakeNcaLayer({ port = 13579, serverBin, keyFile, password, mode = 'sign' }) {
  const setMode = (next) => {
    if (!MODES.includes(next)) throw new Error(`unknown fake NCALayer mode ${next}: one of ${MODES.join(', ')}`);
    mode = next;
  };
  setMode(mode);
  const key = { keyFile, password };
  const requests = [];

  /// The reply to `request` in the current mode, or undefined for none. A malformed request is
  /// refused before any "dialog", so in `cancel` mode too.
  async function answer(request) {
    if (mode === 'silent') return undefined;
    const { module, method, args } = request ?? {};
    if (module === BASICS && method === 'sign' && mode !== 'no-basics') {
      const bad = badBasicsRequest(args);
      if (bad) return { status: false, code: 'BAD_REQUEST', details: bad };
      if (mode === 'cancel') return { status: true, body: {} };
      const signed = await signData(serverBin, key.keyFile, key.password, args.data);
      if (signed.error !== undefined) return { status: false, code: 'SIGN_FAILED', details: signed.error };
      return { status: true, body: { result: [signed.cms] } };
    }
    if (module === COMMON_UTILS && method === 'createCAdESFromBase64') {
      const bad = badCommonUtilsRequest(args);
      if (bad) return { code: '500', message: bad };
      if (mode === 'cancel') return { code: '500', message: 'action.canceled' };
      const signed = await signData(serverBin, key.keyFile, key.password, args[2]);
      if (signed.error !== undefined) return { code: '500', message: signed.error };
      return { code: '200', responseObject: signed.cms };
    }
    return { status: false, code: 'MODULE_NOT_FOUND', details: String(module) };
  }

  const server = createServer({ cert: fixture('cert.pem'), key: fixture('key.pem') });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  // Made once the port is ours: a listening error is then the promise's, not an unhandled event.
  const wss = new WebSocketServer({ server });

  wss.on('connection', (ws) => {
    const send = (text) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(text);
    };
    ws.on('error', () => {}); // a broken client is just closed
    send(JSON.stringify({ result: { version: '1.4' } }));
    const heartbeat = setInterval(() => send(HEARTBEAT), 500);
    ws.on('close', () => clearInterval(heartbeat));

    ws.on('message', async (data, isBinary) => {
      if (isBinary) return;
      const text = data.toString('utf8');
      if (text === HEARTBEAT) return;
      let request;
      try {
        request = JSON.parse(text);
      } catch {
        request = text;
      }
      requests.push(request);
      const reply = await answer(request);
      if (reply === undefined) return;
      send(HEARTBEAT);
      send(JSON.stringify(reply));
    });
  });

  return {
    requests,
    setMode,
    setKey(nextKeyFile, nextPassword) {
      key.keyFile = nextKeyFile;
      key.password = nextPassword;
    },
    /// Drops every client and stops listening; resolves once the port is free again.
    async close() {
      for (const client of wss.clients) client.terminate();
      await new Promise((resolve) => wss.close(resolve));
      server.closeAllConnections();
      await new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
