// API keys end to end: "sent only to the provider they belong to", and never in an export.
// Every built-in provider points at its own route of the mock with a key of its own; runs, a
// batch and the connection tests call all six; the mock's raw record of each request (keys
// unredacted, GET /__mock/raw-requests) shows which key went where. Every export is made while
// the keys are remembered in localStorage, and none may hold any of them.
import { test, expect } from './fixtures.mjs';
import {
  MOCK, download, expectEachRequestCarriesItsOwnKeyOnly, importDataset, keysIn as keysOf, openApp, resetMock, seedApp,
} from './helpers.mjs';

const KEYS = {
  openai: 'sk-e2e-openai-7f3a91',
  anthropic: 'sk-ant-e2e-anthropic-91c2d4',
  cohere: 'co-e2e-cohere-55d0e8',
  gemini: 'AIza-e2e-gemini-3b8e17',
  openrouter: 'sk-or-e2e-openrouter-c41f06',
  local: 'local-e2e-key-0a9d52',
};
const PROVIDERS = [
  ['openai', 'OpenAI', 'openai_compatible', '/openai/v1'],
  ['anthropic', 'Anthropic', 'anthropic', '/anthropic/v1'],
  ['cohere', 'Cohere', 'cohere', '/cohere/v2'],
  ['gemini', 'Google Gemini', 'gemini', '/gemini/v1beta'],
  ['openrouter', 'OpenRouter', 'openai_compatible', '/openrouter/v1'],
  ['local', 'Local', 'openai_compatible', '/local/v1'],
].map(([id, label, kind, path]) => ({ id, label, kind, base_url: `${MOCK}${path}`, structured_mode: null, builtin: true }));

const agents = (solver, verifier, judge) => ({
  solver: { role: 'solver', model: solver, prompt_template: 'Solve: {problem}\nCritique: {feedback}' },
  verifier: { role: 'verifier', model: verifier, prompt_template: 'Verify: {problem}\nSolution: {solution}' },
  judge: { model: judge, prompt_template: 'Grade: {problem}\nSolution: {solution}\nRubric: {rubric}', scoring_rubric: '1.0 when right.' },
});
const CONFIG = {
  config_version: 'e2e-keys', mode: 'debate', max_iterations: 1, max_attempts: 1,
  ...agents('openai/gpt-4.1-mini', 'anthropic/claude-sonnet-4-5', 'gemini/gemini-2.5-flash'),
};

/** The keys the page has remembered in localStorage, by provider id. */
async function rememberedKeys(page) {
  return page.evaluate(() => JSON.parse(localStorage.getItem('trialogue.keys.v1') ?? 'null'));
}

/** Ids of the providers whose key occurs in `text`. */
const keysIn = (text) => keysOf(text, KEYS);

test.beforeEach(async ({ page, request }) => {
  await resetMock(request);
  await seedApp(page, { providers: PROVIDERS, keys: KEYS, config: CONFIG, once: true });
});

test('each request carries its own provider\'s key and no other, and no export made while keys are remembered holds one', async ({ page, context, request }) => {
  test.setTimeout(120_000);
  const urls = [];
  context.on('request', (r) => urls.push(r.url()));
  const exports = [];
  const keep = async (what, click) => {
    const file = await download(page, click);
    expect(file.text.length, `${what} is not empty`).toBeGreaterThan(0);
    exports.push({ what, ...file });
    return file;
  };

  // A debate over OpenAI, Anthropic and Gemini.
  await openApp(page, '/run');
  expect(await rememberedKeys(page)).toEqual(KEYS);
  await page.getByTestId('problem-input').fill('Keys one ANSWER=4');
  await page.getByTestId('ground-truth-input').fill('4');
  await page.getByTestId('run-start').click();
  await expect(page.getByTestId('run-status')).toHaveText('completed', { timeout: 30_000 });
  const run = await keep('the run\'s JSONL', () => page.getByTestId('run-download-jsonl').click());
  expect(run.text.trim().split('\n')).toHaveLength(3);

  // The same loop over Cohere, OpenRouter and the local provider, as a two-problem batch.
  await page.getByTestId('nav-configure').click();
  await page.locator('[name="solver.model"]').fill('cohere/command-r-plus');
  await page.locator('[name="verifier.model"]').fill('openrouter/openai/gpt-4o-mini');
  await page.locator('[name="judge.model"]').fill('local/smollm2-135m');
  await expect(page.getByTestId('error')).toHaveCount(0);
  await keep('the YAML config', () => page.getByTestId('config-export-yaml').click());
  await keep('the JSON config', () => page.getByTestId('config-export-json').click());

  await page.getByTestId('nav-batch').click();
  await importDataset(page, 'keys.jsonl', ['Keys two ANSWER=5', 'Keys three ANSWER=6']
    .map((problem, i) => ({ id: `k${i + 1}`, problem, answer: String(5 + i) })));
  await page.getByTestId('batch-concurrency').fill('2');
  await page.getByTestId('batch-start').click();
  await expect(page.getByTestId('batch-status')).toHaveText('completed', { timeout: 30_000 });
  await expect(page.getByTestId('batch-accuracy')).toHaveText('1.0000');
  const batch = await keep('the batch JSONL', () => page.getByTestId('batch-export-jsonl').click());
  expect(batch.text.trim().split('\n')).toHaveLength(6);
  await keep('the batch CSV', () => page.getByTestId('batch-export-csv').click());
  await keep('the batch JSON', () => page.getByTestId('batch-export-json').click());

  await page.getByTestId('nav-runs').click();
  await expect(page.getByTestId('run-row')).toHaveCount(3);
  const all = await keep('every run\'s JSONL', () => page.getByTestId('runs-export-all').click());
  expect(all.text.trim().split('\n')).toHaveLength(9);

  // Each export was made while all six keys were remembered, and holds none of them.
  expect(await rememberedKeys(page)).toEqual(KEYS);
  expect(exports.map((e) => [e.what, keysIn(e.text)])).toEqual(exports.map((e) => [e.what, []]));

  // The mock's raw record: every provider was called, each request with its own key only.
  await expectEachRequestCarriesItsOwnKeyOnly(request, KEYS);
  // Nor in any URL the browser asked for.
  expect(urls.length).toBeGreaterThan(0);
  expect(urls.filter((u) => keysIn(u).length > 0)).toEqual([]);
});
