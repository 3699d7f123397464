// The Experiments page's comparisons end to end, against the mock: two batches of one dataset
// run on the Batch page (baseline first, then debate) and compared on the Experiments page,
// whose pair is checked against counts worked out here from the two batches' exported JSONL
// (and McNemar's p from exact fractions); a differing problem opened side by side; and an
// experiment of two saved configs (only the judge's rubric differs), whose forecast names the
// turns the second config reuses, whose matrix shows them reused, and whose scatter places
// exactly the matrix's rows, the Pareto front marked as the rows say.
import { test, expect } from './fixtures.mjs';
import {
  debateConfig, download, importDataset, mcnemar, openApp, plannedProblems, resetMock, scriptMock, seedApp,
} from './helpers.mjs';

const CONFIG = debateConfig('e2e-expcompare');

// Baseline is one solver call: right when the problem's ANSWER token is. Debate: a "fix"
// problem's verifier fails round 1 and the solver answers right in round 2, a "break"
// problem's answers wrong in round 2; the others pass round 1.
const PLAN = ['both', 'both', 'both', 'fix', 'fix', 'fix', 'break', 'neither', 'neither'];
const { tag, dataset, rules } = plannedProblems({ letter: 'X', factor: 13, plan: PLAN });

/** Problem id → whether its run's final answer was right, from an exported JSONL. */
function rightByProblem(text) {
  const rows = dataset();
  const runs = new Map();
  for (const line of text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l))) {
    const run = runs.get(line.run_id) ?? { steps: [], problem: null };
    run.steps.push(line);
    const found = rows.find((r, k) => JSON.stringify(line.input).includes(tag(k + 1)));
    if (found) run.problem = found.id;
    runs.set(line.run_id, run);
  }
  const out = new Map();
  for (const run of runs.values()) {
    const last = run.steps[run.steps.length - 1];
    expect(out.has(run.problem), `one run per problem (${run.problem})`).toBe(false);
    out.set(run.problem, last.metadata.extracted_answer === last.metadata.ground_truth);
  }
  return out;
}

/** Runs every problem in `mode` as a new batch; its exported JSONL. */
async function runBatch(page, mode) {
  const shown = page.getByTestId('batch-id');
  const before = (await shown.count()) > 0 ? await shown.textContent() : null;
  await page.getByTestId(`batch-mode-${mode}`).check();
  await page.getByTestId('batch-concurrency').fill('3');
  await page.getByTestId('batch-start').click();
  if (before !== null) await expect(shown).not.toHaveText(before);
  await expect(page.getByTestId('batch-status')).toHaveText('completed', { timeout: 90_000 });
  await expect(page.getByTestId('batch-progress')).toHaveAttribute('data-done', String(PLAN.length));
  return (await download(page, () => page.getByTestId('batch-export-jsonl').click())).text;
}

test.beforeEach(async ({ page, request }) => {
  await resetMock(request);
  await seedApp(page, { keys: { openai: 'sk-e2e-expcompare' }, config: CONFIG, once: true });
});

test('two batches of one dataset compared on the Experiments page: the pair is what their exported runs give', async ({ page, request }) => {
  test.setTimeout(180_000);
  await scriptMock(request, rules());
  await openApp(page, '/batch');
  await importDataset(page, 'e2e-shared.jsonl', dataset());
  await expect(page.getByTestId('dataset-row')).toHaveCount(1);
  const baseline = rightByProblem(await runBatch(page, 'baseline'));
  const debate = rightByProblem(await runBatch(page, 'debate'));
  const ids = dataset().map((r) => r.id);
  expect([...baseline.keys()].sort()).toEqual(ids);
  expect([...debate.keys()].sort()).toEqual(ids);

  // Debate first, baseline second.
  const count = (f) => ids.filter((id) => f(debate.get(id), baseline.get(id))).length;
  const cells = {
    both: count((a, b) => a && b),
    aOnly: count((a, b) => a && !b),
    bOnly: count((a, b) => !a && b),
    neither: count((a, b) => !a && !b),
  };
  // What the plan was built to give.
  expect(cells).toEqual({ both: 3, aOnly: 3, bOnly: 1, neither: 2 });

  await page.getByTestId('nav-experiments').click();
  const pickA = page.getByTestId('compare-batch-a');
  await expect(pickA.locator('option')).toHaveCount(3);
  const keys = await pickA.locator('option').evaluateAll((os) => os.map((o) => o.value));
  const debateKey = keys.find((k) => k.endsWith('|debate'));
  const baselineKey = keys.find((k) => k.endsWith('|baseline'));
  await pickA.selectOption(debateKey);
  await page.getByTestId('compare-batch-b').selectOption(baselineKey);

  const pair = page.getByTestId('compare-pair');
  await expect(pair).toHaveCount(1);
  await expect(pair).toHaveAttribute('data-shared', String(ids.length));
  await expect(pair).toHaveAttribute('data-both', String(cells.both));
  await expect(pair).toHaveAttribute('data-a-only', String(cells.aOnly));
  await expect(pair).toHaveAttribute('data-b-only', String(cells.bOnly));
  await expect(pair).toHaveAttribute('data-neither', String(cells.neither));
  expect(Number(await pair.getAttribute('data-p-value'))).toBeCloseTo(mcnemar(cells.aOnly, cells.bOnly), 12);
  expect(Number(await pair.getAttribute('data-difference')))
    .toBeCloseTo((cells.aOnly - cells.bOnly) / ids.length, 12);
  const differing = pair.getByTestId('pair-differing');
  await expect(differing).toHaveCount(cells.aOnly + cells.bOnly);
  const expected = ids.filter((id) => debate.get(id) !== baseline.get(id));
  expect(await differing.evaluateAll((ls) => ls.map((l) => l.dataset.problemId))).toEqual(expected);

  // The first differing problem (a "fix": wrong alone, right after the debate) side by side:
  // round 1 is the same solution in both, round 2 only the debate has.
  await pair.locator('summary').click();
  const open = differing.first().getByTestId('run-compare-open');
  const [aRun, bRun] = [await open.getAttribute('data-a'), await open.getAttribute('data-b')];
  await open.click();
  const panel = page.getByTestId('run-compare');
  await expect(panel).toHaveAttribute('data-a', aRun);
  await expect(panel).toHaveAttribute('data-b', bRun);
  const rounds = panel.getByTestId('run-compare-round');
  await expect(rounds).toHaveCount(2);
  await expect(rounds.nth(0)).toHaveAttribute('data-identical', 'true');
  await expect(rounds.nth(1)).toHaveAttribute('data-identical', 'false');
  await expect(rounds.nth(1).locator('[data-kind="removed"]').first()).toContainText('\\boxed{');
});

test('an experiment of two saved configs: the forecast names the shared turns, the matrix shows them reused, the scatter places the matrix rows', async ({ page, request }) => {
  test.setTimeout(180_000);
  await scriptMock(request, rules());
  const strict = { ...CONFIG, judge: { ...CONFIG.judge, scoring_rubric: '1.0 only when right and shown.' } };
  await page.addInitScript(([a, b]) => {
    if (localStorage.getItem('trialogue.saved-configs.v1') !== null) return;
    localStorage.setItem('trialogue.saved-configs.v1', JSON.stringify([
      { name: 'lenient', saved_at: '2026-12-07T00:00:00Z', hash: '', config: a },
      { name: 'strict', saved_at: '2026-12-07T00:00:00Z', hash: '', config: b },
    ]));
  }, [CONFIG, strict]);
  await openApp(page, '/batch');
  await importDataset(page, 'e2e-shared.jsonl', dataset());
  await expect(page.getByTestId('dataset-row')).toHaveCount(1);

  await page.getByTestId('nav-experiments').click();
  await page.getByTestId('experiment-dataset').selectOption({ label: 'e2e-shared' });
  await page.getByTestId('experiment-config-source').selectOption('saved');
  const picks = page.getByTestId('experiment-config-pick');
  await expect(picks).toHaveCount(2);
  await picks.nth(0).check();
  await picks.nth(1).check();
  const forecastRows = page.getByTestId('experiment-forecast-row');
  await expect(forecastRows).toHaveCount(2);
  await expect(forecastRows.nth(1)).toContainText('every turn but the judge');
  await expect(forecastRows.nth(1)).toContainText('lenient');
  // No earlier run of either config: no total to show.
  await expect(page.getByTestId('experiment-forecast')).toHaveAttribute('data-usd', '');

  await page.getByTestId('experiment-start').click();
  await expect(page.getByTestId('experiment-status')).toHaveText('completed', { timeout: 120_000 });
  const rows = page.getByTestId('experiment-row');
  await expect(rows).toHaveCount(2);
  // The strict config sent only its judge's requests: the rest came from the reply store.
  await expect(rows.nth(1)).toHaveAttribute('data-paid-calls', String(PLAN.length));
  expect(Number(await rows.nth(1).getAttribute('data-reused-calls'))).toBeGreaterThan(0);

  // The scatter places exactly the matrix's rows.
  const matrix = [];
  for (const k of [0, 1]) {
    const row = rows.nth(k);
    matrix.push({
      hash: await row.getAttribute('data-config-hash'),
      accuracy: Number(await row.getAttribute('data-accuracy')),
      cost: Number(await row.getAttribute('data-cost')),
    });
  }
  const points = page.getByTestId('chart-experiment-scatter').getByTestId('scatter-point');
  await expect(points).toHaveCount(matrix.length);
  for (const m of matrix) {
    const point = page.locator(`[data-testid="scatter-point"][data-config-hash="${m.hash}"]`);
    expect(Number(await point.getAttribute('data-accuracy'))).toBeCloseTo(m.accuracy, 12);
    expect(Number(await point.getAttribute('data-cost'))).toBeCloseTo(m.cost, 12);
    const dominated = matrix.some((o) => o !== m && o.accuracy >= m.accuracy && o.cost <= m.cost
      && (o.accuracy > m.accuracy || o.cost < m.cost));
    await expect(point).toHaveAttribute('data-on-front', String(!dominated));
  }
  // The table view lists the same configs.
  await page.getByTestId('chart-table-toggle').first().click();
  await expect(page.getByTestId('scatter-row')).toHaveCount(matrix.length);

  // With the runs stored, the forecast of the same configs has figures, and a saving.
  const forecast = page.getByTestId('experiment-forecast');
  await expect(forecast).not.toHaveAttribute('data-usd', '');
  expect(Number(await forecast.getAttribute('data-saving-usd'))).toBeGreaterThan(0);
});
