// The Runs page end to end: the table of stored runs (sort, filter, open, delete), export of
// every run as one JSONL, and import with line-numbered rejects and never-overwritten conflicts.
import { readFile } from 'node:fs/promises';
import { test, expect } from './fixtures.mjs';
import { openApp, resetMock, seedApp } from './helpers.mjs';

const MODEL = 'openai/gpt-4.1-mini';
const CONFIG = {
  config_version: 'e2e-runs',
  mode: 'debate',
  max_iterations: 2,
  max_attempts: 1,
  solver: { role: 'solver', model: MODEL, prompt_template: 'Solve: {problem}\nCritique: {feedback}' },
  verifier: { role: 'verifier', model: MODEL, prompt_template: 'Verify: {problem}\nSolution: {solution}' },
  judge: {
    model: MODEL,
    prompt_template: 'Grade: {problem}\nSolution: {solution}\nRubric: {rubric}',
    scoring_rubric: '1.0 when right.',
  },
};


/** Runs one problem on /run to the end; returns its id. */
async function runOnce(page, problem, { mode = 'debate', truth = '' } = {}) {
  await page.goto('/run');
  await page.locator('#run-mode').selectOption(mode);
  await page.getByTestId('problem-input').fill(problem);
  await page.getByTestId('ground-truth-input').fill(truth);
  await page.getByTestId('run-start').click();
  await expect(page.getByTestId('run-status')).toHaveText('completed', { timeout: 20_000 });
  return (await page.getByTestId('run-id').textContent()).trim();
}

async function rowIds(page) {
  return page.getByTestId('run-row').evaluateAll((rows) => rows.map((r) => r.dataset.runId));
}

async function exportAll(page) {
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByTestId('runs-export-all').click(),
  ]);
  return { name: download.suggestedFilename(), text: await readFile(await download.path(), 'utf8') };
}

async function importText(page, name, text) {
  await page.getByTestId('trajectory-import').setInputFiles({
    name, mimeType: 'application/x-ndjson', buffer: Buffer.from(text, 'utf8'),
  });
  await expect(page.getByTestId('import-report')).toBeVisible();
}

test.beforeEach(async ({ page, request }) => {
  await resetMock(request);
  await seedApp(page, { keys: { openai: 'sk-e2e-runs' }, config: CONFIG });
});

test('runs are listed, exported as one JSONL, and re-imported without overwriting', async ({ page }) => {
  await openApp(page, '/run');
  // Debate: solver, verifier (passes), judge = 3 steps. Baseline: solver, judge = 2 steps.
  const debate = await runOnce(page, 'Debate problem ANSWER=12', { truth: '12' });
  const baseline = await runOnce(page, 'Baseline problem ANSWER=7', { mode: 'baseline', truth: '8' });

  await page.getByTestId('nav-runs').click();
  await expect(page.getByTestId('run-row')).toHaveCount(2);
  expect(new Set(await rowIds(page))).toEqual(new Set([debate, baseline]));
  const row = (id) => page.locator(`[data-testid="run-row"][data-run-id="${id}"]`);
  await expect(row(debate).locator('[data-col="mode"]')).toHaveText('debate');
  await expect(row(baseline).locator('[data-col="mode"]')).toHaveText('baseline');
  await expect(row(debate).locator('[data-col="correct"]')).toHaveText('yes');
  await expect(row(baseline).locator('[data-col="correct"]')).toHaveText('no');

  // Export all: one line per stored step, named by the page's (UTC) day of the export, read
  // from the page's own clock just before and after (the day may turn in between).
  const day = () => page.evaluate(() => new Date().toISOString().slice(0, 10));
  const before = await day();
  const { name, text } = await exportAll(page);
  const after = await day();
  expect([`trialogue-runs-${before}.jsonl`, `trialogue-runs-${after}.jsonl`]).toContain(name);
  const lines = text.split('\n').filter((l) => l !== '');
  expect(lines).toHaveLength(5);
  const byRun = {};
  for (const l of lines) {
    const s = JSON.parse(l);
    (byRun[s.run_id] ??= []).push(s.step_id);
  }
  expect(byRun).toEqual({ [debate]: [1, 2, 3], [baseline]: [1, 2] });

  // The same file again: both ids are taken, nothing is overwritten, both are listed.
  await importText(page, 'again.jsonl', text);
  await expect(page.getByTestId('import-accepted')).toHaveText('5');
  await expect(page.getByTestId('import-rejected-count')).toHaveText('0');
  await expect(page.getByTestId('import-conflict')).toHaveText([debate, baseline].sort());
  await expect(page.getByTestId('run-row')).toHaveCount(2);

  // Import as copies: new ids, originals kept.
  await page.getByTestId('import-as-copies').click();
  await expect(page.getByTestId('run-row')).toHaveCount(4);
  expect(new Set(await rowIds(page))).toEqual(new Set([debate, baseline, `${debate}_2`, `${baseline}_2`]));
});

test('a file with a malformed line imports the good lines and reports the bad one by number', async ({ page }) => {
  await openApp(page, '/runs');
  // Two steps in the original's shape (no Trialogue metadata), with a broken line between.
  const id = 'run_20250101_120000_deadbeef';
  const step = (n, agent, action, output, extra = {}) => JSON.stringify({
    timestamp: '2025-01-01T12:00:0' + n + '.000000', run_id: id, step_id: n, agent, action,
    input: { problem: 'What is 2+2?', feedback: '' }, output,
    metadata: { iteration: 1, model: 'gpt-4o', tokens: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 } },
    ...extra,
  });
  const text = [
    step(1, 'solver', 'generate', { solution: '4', reasoning: 'adding', confidence: 0.9 }),
    '{"timestamp": "2025-01-01", "run_id": ',
    step(2, 'judge', 'score', { score: 1.0, reasoning: 'right', strengths: ['short'], weaknesses: [] },
      { reward: 1.0, terminal: true, success: true }),
    '',
  ].join('\n');
  await importText(page, 'original.jsonl', text);
  await expect(page.getByTestId('import-accepted')).toHaveText('2');
  await expect(page.getByTestId('import-rejected-count')).toHaveText('1');
  const rejected = page.getByTestId('import-rejected');
  await expect(rejected).toHaveCount(1);
  await expect(rejected).toHaveAttribute('data-line', '2');
  await expect(rejected).toContainText('line 2');
  await expect(page.getByTestId('import-conflict')).toHaveCount(0);

  // The imported run is listed and opens with its steps.
  await expect(page.getByTestId('run-row')).toHaveCount(1);
  const row = page.locator(`[data-testid="run-row"][data-run-id="${id}"]`);
  await expect(row.locator('[data-col="status"]')).toHaveText('completed');
  await expect(row.locator('[data-col="cost"]')).toHaveText('unknown');
  await row.locator('[data-col="iterations"]').click();
  await expect(page).toHaveURL(new RegExp(`/runs/${id}$`));
  await expect(page.getByTestId('run-status')).toHaveText('completed');
  await expect(page.getByTestId('step')).toHaveCount(2);
  await expect(page.getByTestId('step').first()).toHaveAttribute('data-agent', 'solver');
  await expect(page.getByTestId('run-cost')).toHaveText('unknown');
});

test('the table sorts by column, filters by status, mode and text, and deletes after confirming', async ({ page }) => {
  await openApp(page, '/run');
  const first = await runOnce(page, 'Alpha question ANSWER=1');
  const second = await runOnce(page, 'Beta question ANSWER=2', { mode: 'baseline' });
  await page.getByTestId('nav-runs').click();
  await expect(page.getByTestId('run-row')).toHaveCount(2);
  // Newest first by default; a click on Date flips it.
  expect(await rowIds(page)).toEqual([second, first]);
  await page.locator('[data-sort="date"]').click();
  expect(await rowIds(page)).toEqual([first, second]);
  // Problem: A to Z, then Z to A.
  await page.locator('[data-sort="problem"]').click();
  expect(await rowIds(page)).toEqual([first, second]);
  await page.locator('[data-sort="problem"]').click();
  expect(await rowIds(page)).toEqual([second, first]);

  await page.locator('#runs-mode').selectOption('baseline');
  expect(await rowIds(page)).toEqual([second]);
  await page.locator('#runs-mode').selectOption('');
  await page.locator('#runs-search').fill('alpha');
  expect(await rowIds(page)).toEqual([first]);
  await page.locator('#runs-search').fill('');
  await page.locator('#runs-status').selectOption('failed');
  await expect(page.getByTestId('run-row')).toHaveCount(0);
  await page.locator('#runs-status').selectOption('completed');
  await expect(page.getByTestId('run-row')).toHaveCount(2);

  // Export only the selected run.
  await page.locator(`[data-testid="run-row"][data-run-id="${second}"] input[type="checkbox"]`).check();
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByTestId('runs-export-selected').click(),
  ]);
  const lines = (await readFile(await download.path(), 'utf8')).split('\n').filter((l) => l);
  expect(lines.map((l) => JSON.parse(l).run_id)).toEqual([second, second]);

  // Delete asks first; "Keep" changes nothing.
  await page.getByTestId('runs-delete-selected').click();
  await page.getByRole('button', { name: 'Keep' }).click();
  await expect(page.getByTestId('run-row')).toHaveCount(2);
  await page.getByTestId('runs-delete-selected').click();
  await page.getByTestId('runs-delete-confirm').click();
  await expect(page.getByTestId('run-row')).toHaveCount(1);
  expect(await rowIds(page)).toEqual([first]);
  await page.reload();
  await expect(page.getByTestId('run-row')).toHaveCount(1);
});

/** Copies stored run `templateId` `copies` times inside the page, straight into IndexedDB, as
 *  older runs `run_copy_000`, … with problems `Copy 000`, … (steps are not copied); the copies
 *  numbered in `verifierModels` get that verifier model instead of the template's. */
async function copyRun(page, templateId, copies, verifierModels = {}) {
  return page.evaluate(async ({ id, n, models }) => {
    const ask = (req) => new Promise((resolve, reject) => {
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    const db = await ask(indexedDB.open('trialogue'));
    // Runs written past the app leave its maintained counts behind: the record is dropped (in
    // the same transaction), so the Runs page counts them again from the status index.
    const counted = db.objectStoreNames.contains('run_counts');
    const tx = db.transaction(counted ? ['runs', 'run_counts'] : 'runs', 'readwrite');
    if (counted) tx.objectStore('run_counts').delete('by_status');
    const runs = tx.objectStore('runs');
    const template = await ask(runs.get(id));
    const record = JSON.parse(template.json);
    for (let i = 0; i < n; i += 1) {
      const runId = `run_copy_${String(i).padStart(3, '0')}`;
      // Older than the template, the lower numbers oldest.
      const created = template.created_ms - (n - i) * 60_000;
      const config = i in models
        ? { ...record.config, verifier: { ...record.config.verifier, model: models[i] } }
        : record.config;
      const json = JSON.stringify({ ...record, config, run_id: runId, problem: `Copy ${String(i).padStart(3, '0')}`, created_ms: created, updated_ms: created });
      runs.put({ ...template, run_id: runId, created_ms: created, updated_ms: created, json });
    }
    await new Promise((resolve, reject) => { tx.oncomplete = resolve; tx.onerror = () => reject(tx.error); });
    db.close();
  }, { id: templateId, n: copies, models: verifierModels });
}

test('more runs than one page: the newest page first, then paging, sorting and filtering over every run', async ({ page }) => {
  await openApp(page, '/run');
  const template = await runOnce(page, 'Template question ANSWER=1');
  await copyRun(page, template, 120, { 0: 'openai/only-on-page-two' });
  await page.goto('/runs');
  await expect(page.getByTestId('run-row')).toHaveCount(100);
  await expect(page.getByTestId('runs-page-status')).toContainText('Showing 1–100 of 121 runs');
  // The model filter offers the models of every stored run, not only of the page drawn: the
  // one run that called this model is on the second page.
  const onlyOnPageTwo = page.getByTestId('runs-filter-model').locator('option[value="openai/only-on-page-two"]');
  await expect(onlyOnPageTwo).toHaveCount(0);
  await page.getByTestId('runs-filter-model').focus();
  await expect(onlyOnPageTwo).toHaveCount(1);
  const first = await rowIds(page);
  expect(first[0]).toBe(template);
  expect(first[1]).toBe('run_copy_119');
  expect(first[99]).toBe('run_copy_021');

  await page.getByTestId('runs-page-next').click();
  await expect(page.getByTestId('run-row')).toHaveCount(21);
  await expect(page.getByTestId('runs-page-status')).toContainText('Showing 101–121 of 121 runs');
  expect((await rowIds(page))[20]).toBe('run_copy_000');
  await expect(page.getByTestId('runs-page-next')).toBeDisabled();
  await page.getByTestId('runs-page-prev').click();
  await expect(page.getByTestId('runs-page-status')).toContainText('Showing 1–100 of 121 runs');

  // Oldest first: the copies from 000, the template last (on the second page).
  await page.locator('[data-sort="date"]').click();
  await expect(page.getByTestId('run-row').first()).toHaveAttribute('data-run-id', 'run_copy_000');
  await page.getByTestId('runs-page-next').click();
  await expect(page.getByTestId('run-row').last()).toHaveAttribute('data-run-id', template);

  // A filter looks at every run, not only the page drawn first.
  await page.locator('#runs-search').fill('copy 007');
  await expect(page.getByTestId('run-row')).toHaveCount(1);
  await expect(page.getByTestId('run-row')).toHaveAttribute('data-run-id', 'run_copy_007');
  await expect(page.getByTestId('runs-page-status')).toContainText('Showing 1–1 of 1 run');
});

test('runs filter by batch, model and answer, and the address keeps filter and sort', async ({ page }) => {
  test.setTimeout(90_000);
  await openApp(page, '/run');
  const right = await runOnce(page, 'Gamma question ANSWER=4', { truth: '4' });
  const wrong = await runOnce(page, 'Delta question ANSWER=7', { truth: '6' });
  // A third run by another verifier model, inside a batch of one.
  // (Moving by the menu: a page load would seed the config again.)
  await page.getByTestId('nav-configure').click();
  await page.locator('[name="verifier.model"]').fill('openai/gpt-4o-mini');
  await page.getByTestId('nav-batch').click();
  await page.getByTestId('dataset-import').setInputFiles({
    name: 'one.jsonl', mimeType: 'application/x-ndjson',
    buffer: Buffer.from(JSON.stringify({ id: 'e1', problem: 'Epsilon question ANSWER=9', answer: '9' })),
  });
  await page.getByTestId('dataset-save').click();
  await page.getByTestId('batch-start').click();
  await expect(page.getByTestId('batch-status')).toHaveText('completed', { timeout: 30_000 });
  const batchId = await page.getByTestId('batch-row').first().getAttribute('data-batch-id');

  await page.getByTestId('nav-runs').click();
  await expect(page.getByTestId('run-row')).toHaveCount(3);
  const [batched] = (await rowIds(page)).filter((id) => id !== right && id !== wrong);
  const params = () => Object.fromEntries(new URL(page.url()).searchParams);

  await page.getByTestId('runs-filter-correct').selectOption('wrong');
  await expect.poll(() => rowIds(page)).toEqual([wrong]);
  expect(params()).toEqual({ correct: 'wrong' });
  await page.getByTestId('runs-filter-correct').selectOption('correct');
  await expect.poll(() => rowIds(page)).toEqual([batched, right]);
  await page.getByTestId('runs-filter-batch').selectOption(batchId);
  await expect.poll(() => rowIds(page)).toEqual([batched]);
  await page.getByTestId('runs-filter-batch').selectOption('');
  await page.getByTestId('runs-filter-model').selectOption('openai/gpt-4o-mini');
  await expect.poll(() => rowIds(page)).toEqual([batched]);
  await page.getByTestId('runs-filter-model').selectOption('');
  await page.locator('[data-sort="date"]').click();
  await expect.poll(() => rowIds(page)).toEqual([right, batched]);
  expect(params()).toEqual({ sort: 'date', order: 'asc', correct: 'correct' });

  // A reload shows the same table, its controls saying why.
  await page.reload();
  await expect.poll(() => rowIds(page)).toEqual([right, batched]);
  await expect(page.getByTestId('runs-filter-correct')).toHaveValue('correct');

  // Back and forward walk through the filters and sorts chosen.
  await page.goBack();
  await expect.poll(() => rowIds(page)).toEqual([batched, right]);
  expect(params()).toEqual({ correct: 'correct' });
  await page.goBack();
  await expect.poll(() => rowIds(page)).toEqual([batched]);
  await expect(page.getByTestId('runs-filter-model')).toHaveValue('openai/gpt-4o-mini');
  await page.goForward();
  await expect.poll(() => rowIds(page)).toEqual([batched, right]);

  // A link with a filter opens the table filtered.
  await page.goto(`/runs?batch=${encodeURIComponent(batchId)}`);
  await expect.poll(() => rowIds(page)).toEqual([batched]);
  await expect(page.getByTestId('runs-filter-batch')).toHaveValue(batchId);
});
