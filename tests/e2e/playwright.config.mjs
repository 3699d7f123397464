// End-to-end tests: the release build in Debian's headless Chromium, with the mock provider and
// the real local model.
import net from 'node:net';
import { defineConfig } from '@playwright/test';

/**
 * `count` distinct ports the system has free now: each is bound to port 0 (the kernel picks)
 * and all are held until the last is known, so no two are the same.
 */
async function freePorts(count) {
  const servers = await Promise.all(Array.from({ length: count }, () => new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  })));
  const ports = servers.map((s) => s.address().port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

// Ports come from TRIALOGUE_APP_PORT, TRIALOGUE_MOCK_PORT and TRIALOGUE_MODEL_PORT (a port block
// per engineer), or are picked free here, so the tests never meet `./scripts/serve` on 8080 and
// 8091. Playwright reads this file in its main process first and starts every worker with that
// process's environment: what is written into process.env here is what the workers read back,
// so they all use the ports the servers were started on.
const PORT_VARS = ['TRIALOGUE_APP_PORT', 'TRIALOGUE_MOCK_PORT', 'TRIALOGUE_MODEL_PORT'];
const missing = PORT_VARS.filter((name) => !process.env[name]);
if (missing.length > 0) {
  const picked = await freePorts(missing.length);
  missing.forEach((name, i) => { process.env[name] = String(picked[i]); });
}
const [APP_PORT, MOCK_PORT, MODEL_PORT] = PORT_VARS.map((name) => {
  const port = Number(process.env[name]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`${name} must be a port number from 1 to 65535, not "${process.env[name]}"`);
  }
  return port;
});
process.env.TRIALOGUE_MOCK_URL = `http://127.0.0.1:${MOCK_PORT}`;
process.env.TRIALOGUE_MODEL_URL = `http://127.0.0.1:${MODEL_PORT}/v1`;
// The build under test: scripts/test builds into a fresh folder and names it here, so a failed
// build can never leave the tests running against an older one.
const DIST = process.env.TRIALOGUE_DIST ?? 'dist';
const RESULTS = process.env.TRIALOGUE_RESULTS ?? '../../test-results';

export default defineConfig({
  testDir: '.',
  testMatch: '*.spec.mjs',
  timeout: 60_000,
  fullyParallel: false,
  workers: 1,
  retries: 0,
  // A private results folder (TRIALOGUE_RESULTS) keeps parallel runs from sharing trace files.
  outputDir: `${RESULTS}/artifacts`,
  reporter: [['list'], ['json', { outputFile: `${RESULTS}/playwright.json` }]],
  use: {
    baseURL: `http://127.0.0.1:${APP_PORT}`,
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
        '--disable-component-update', '--no-first-run', '--disable-dev-shm-usage',
      ],
    },
  },
  webServer: [
    {
      command: `python3 scripts/static_server.py --port ${APP_PORT} --dir ${DIST}`,
      cwd: '../..',
      url: `http://127.0.0.1:${APP_PORT}/`,
      reuseExistingServer: false,
      timeout: 30_000,
    },
    {
      command: `python3 tests/mock/mock_provider.py --port ${MOCK_PORT}`,
      cwd: '../..',
      url: `http://127.0.0.1:${MOCK_PORT}/__mock/health`,
      reuseExistingServer: false,
      timeout: 30_000,
    },
    {
      command: `./scripts/local-llm run --port ${MODEL_PORT}`,
      cwd: '../..',
      url: `http://127.0.0.1:${MODEL_PORT}/v1/models`,
      reuseExistingServer: false,
      timeout: 180_000,
    },
  ],
});
