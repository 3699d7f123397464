// The Playwright config's ports (node --test tests/e2e/): picked free when none are given, the
// same in every process Playwright starts, and taken as given otherwise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CONFIG = new URL('./playwright.config.mjs', import.meta.url).href;
const VARS = ['TRIALOGUE_APP_PORT', 'TRIALOGUE_MOCK_PORT', 'TRIALOGUE_MODEL_PORT'];

// Loads the config in a fresh node process, then forks a child the way Playwright starts its
// workers (with the parent's environment) which loads it again; both report what they use.
const PROBE = `
import { fork } from 'node:child_process';
const config = (await import(process.env.CONFIG)).default;
const seen = {
  baseURL: config.use.baseURL,
  servers: config.webServer.map((s) => s.url),
  env: Object.fromEntries(${JSON.stringify([...VARS, 'TRIALOGUE_MOCK_URL', 'TRIALOGUE_MODEL_URL'])}.map((n) => [n, process.env[n]])),
};
if (process.argv[2] === 'worker') {
  process.send(seen);
} else {
  const child = fork(new URL(import.meta.url), ['worker'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  child.once('message', (worker) => { console.log(JSON.stringify({ main: seen, worker })); child.disconnect(); });
}
`;

function load(env) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('TRIALOGUE_')));
  const dir = mkdtempSync(join(tmpdir(), 'trialogue-pw-config-'));
  try {
    const probe = join(dir, 'probe.mjs');
    writeFileSync(probe, PROBE);
    const out = execFileSync(process.execPath, [probe], { env: { ...clean, ...env, CONFIG }, encoding: 'utf8' });
    return JSON.parse(out.trim().split('\n').at(-1));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const portOf = (url) => Number(new URL(url).port);

test('without port variables it picks three distinct free ports, away from scripts/serve', () => {
  const { main, worker } = load({});
  const ports = VARS.map((name) => Number(main.env[name]));
  assert.equal(new Set(ports).size, 3);
  for (const port of ports) {
    assert.ok(Number.isInteger(port) && port > 0 && port < 65536, `port ${port}`);
    assert.ok(![8080, 8091, 8099].includes(port), `port ${port} is one scripts/serve or the lead uses`);
  }
  const [app, mock, model] = ports;
  assert.equal(portOf(main.baseURL), app);
  assert.deepEqual(main.servers.map(portOf), [app, mock, model]);
  assert.equal(main.env.TRIALOGUE_MOCK_URL, `http://127.0.0.1:${mock}`);
  assert.equal(main.env.TRIALOGUE_MODEL_URL, `http://127.0.0.1:${model}/v1`);
  // The worker, started with the main process's environment, uses the very same ports.
  assert.deepEqual(worker, main);
});

test('given port variables are used as they are', () => {
  const { main, worker } = load({ TRIALOGUE_APP_PORT: '18150', TRIALOGUE_MOCK_PORT: '18151', TRIALOGUE_MODEL_PORT: '18152' });
  assert.equal(main.baseURL, 'http://127.0.0.1:18150');
  assert.deepEqual(main.servers.map(portOf), [18150, 18151, 18152]);
  assert.equal(main.env.TRIALOGUE_MOCK_URL, 'http://127.0.0.1:18151');
  assert.deepEqual(worker, main);
});

test('a port variable that is not a port is refused with its name', () => {
  assert.throws(
    () => execFileSync(process.execPath, ['--input-type=module', '-e', `await import(${JSON.stringify(CONFIG)});`], {
      env: { ...process.env, TRIALOGUE_MOCK_PORT: 'eighty' }, encoding: 'utf8', stdio: 'pipe',
    }),
    (err) => /TRIALOGUE_MOCK_PORT must be a port number from 1 to 65535, not "eighty"/.test(err.stderr),
  );
});
