// End-to-end tests: the release build in Debian's headless Chromium, with the mock provider.
import { defineConfig } from '@playwright/test';

// Ports can be moved (TRIALOGUE_APP_PORT, TRIALOGUE_MOCK_PORT) so parallel runs don't collide.
const APP_PORT = Number(process.env.TRIALOGUE_APP_PORT ?? 8080);
const MOCK_PORT = Number(process.env.TRIALOGUE_MOCK_PORT ?? 8099);
process.env.TRIALOGUE_MOCK_URL = `http://127.0.0.1:${MOCK_PORT}`;
// The real local model (scripts/local-llm): 8091 is where the app's `local` provider points.
const MODEL_PORT = Number(process.env.TRIALOGUE_MODEL_PORT ?? 8091);
process.env.TRIALOGUE_MODEL_URL = `http://127.0.0.1:${MODEL_PORT}/v1`;
// Engineers building in parallel can point the tests at a private build: TRIALOGUE_DIST=/tmp/x.
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
