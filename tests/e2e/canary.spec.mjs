// Key canary: the mock answers as a careless proxy would, quoting the request's headers (the
// API key among them) in its error bodies. Afterwards the key may be in exactly one place, the
// key store in localStorage: in no IndexedDB record, no other localStorage value, no export,
// no console line and no text on the page.
import { test, expect } from './fixtures.mjs';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { MOCK, failedCall, openApp, resetMock } from './helpers.mjs';

const KEYS_KEY = 'trialogue.keys.v1';
const MODEL = 'openai/gpt-4.1-mini';
const CONFIG = {
  config_version: 'e2e-canary',
  mode: 'debate',
  max_iterations: 2,
  max_attempts: 1,
  solver: { role: 'solver', model: MODEL, prompt_template: 'Solve.\n{problem}\n{feedback}' },
  verifier: { role: 'verifier', model: MODEL, prompt_template: 'Check.\n{problem}\n{solution}' },
  judge: {
    model: MODEL,
    prompt_template: 'Grade.\n{problem}\n{solution}\n{rubric}',
    scoring_rubric: '1.0 when right.',
  },
};

async function download(page, testId) {
  const [file] = await Promise.all([page.waitForEvent('download'), page.getByTestId(testId).click()]);
  return { name: file.suggestedFilename(), text: await readFile(await file.path(), 'utf8') };
}

/** Every record of every object store of every IndexedDB database of the page, as JSON. */
async function dumpIndexedDb(page) {
  return page.evaluate(async () => {
    const out = {};
    for (const { name } of await indexedDB.databases()) {
      const db = await new Promise((resolve, reject) => {
        const open = indexedDB.open(name);
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => reject(open.error);
      });
      for (const store of db.objectStoreNames) {
        out[`${name}/${store}`] = await new Promise((resolve, reject) => {
          const all = db.transaction(store).objectStore(store).getAll();
          all.onsuccess = () => resolve(all.result);
          all.onerror = () => reject(all.error);
        });
      }
      db.close();
    }
    return JSON.stringify(out);
  });
}

test('an API key echoed back by a provider is kept nowhere but the key store', async ({ page, request, problems }) => {
  test.setTimeout(90_000);
  // Chromium logs each echoed error reply (a 400) as a failed resource; the line names the URL
  // only, which the test below also checks holds no key.
  problems.allow(failedCall(400));
  const key = `sk-canary-${randomBytes(12).toString('hex')}`;
  await resetMock(request);
  // Every solver request and the connection check are answered with the echo.
  const res = await request.post(`${MOCK}/__mock/script`, { data: { rules: [{ agent: 'solver', fault: 'echo' }] } });
  expect(res.ok(), await res.text()).toBeTruthy();
  const providers = {
    providers: [{
      id: 'openai', label: 'OpenAI', kind: 'openai_compatible',
      base_url: `${MOCK}/openai/v1`, structured_mode: null, builtin: true,
    }],
  };
  await page.addInitScript(([p, k, c]) => {
    if (!localStorage.getItem('trialogue.canary.seeded')) {
      localStorage.setItem('trialogue.providers.v1', p);
      localStorage.setItem('trialogue.keys.v1', k);
      localStorage.setItem('trialogue.config.v1', c);
      localStorage.setItem('trialogue.canary.seeded', '1');
    }
  }, [JSON.stringify(providers), JSON.stringify({ openai: key }), JSON.stringify(CONFIG)]);
  const consoleLines = [];
  page.on('console', (msg) => consoleLines.push(msg.text()));
  page.on('pageerror', (err) => consoleLines.push(err.message));

  // A run whose solver calls all come back with the key in the error body.
  await openApp(page, '/run');
  await page.getByTestId('problem-input').fill('What is 3 + 4? ANSWER=7');
  await page.getByTestId('ground-truth-input').fill('7');
  await page.getByTestId('run-start').click();
  await expect(page.getByTestId('run-status')).not.toHaveText('running', { timeout: 30_000 });
  // The echo reached the app (so the checks below are not vacuous), redacted.
  const log = await (await request.get(`${MOCK}/__mock/requests`)).json();
  expect(log.requests.filter((r) => r.fault === 'echo').length).toBeGreaterThan(0);
  const shownErrors = await page.getByTestId('error').allTextContents();
  expect(shownErrors.join('\n')).toContain('[key redacted]');
  const runText = await page.locator('body').innerText();
  expect(runText).not.toContain(key);
  const jsonl = await download(page, 'run-download-jsonl');
  expect(jsonl.text).toContain('[key redacted]');
  expect(jsonl.text).not.toContain(key);

  // The connection check shows the provider's words too.
  await page.getByTestId('nav-settings').click();
  await page.getByTestId('provider-test-openai').click();
  await expect(page.getByTestId('error').filter({ hasText: 'key redacted' }).first()).toBeVisible({ timeout: 20_000 });
  const settingsText = await page.locator('body').innerText();
  expect(settingsText).not.toContain(key);

  // Exports of every kind the pages offer without a batch.
  await page.getByTestId('nav-runs').click();
  const all = await download(page, 'runs-export-all');
  expect(all.text).not.toContain(key);
  expect(await page.locator('body').innerText()).not.toContain(key);
  await page.getByTestId('nav-configure').click();
  for (const id of ['config-export-yaml', 'config-export-json']) {
    expect((await download(page, id)).text).not.toContain(key);
  }

  // Storage: IndexedDB holds no copy; localStorage only in the key store.
  const idb = await dumpIndexedDb(page);
  expect(idb).toContain('[key redacted]');
  expect(idb).not.toContain(key);
  const storage = await page.evaluate(() => Object.fromEntries(Object.entries(localStorage)));
  expect(storage[KEYS_KEY]).toContain(key);
  const elsewhere = Object.entries(storage).filter(([k, v]) => k !== KEYS_KEY && v.includes(key));
  expect(elsewhere).toEqual([]);

  // No console line, at any level, ever held it.
  expect(consoleLines.filter((line) => line.includes(key))).toEqual([]);
});
