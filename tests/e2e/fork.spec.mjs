// Fork at step N, re-grade and re-judge against the mock: each makes a new run (or, for a
// re-grade, nothing at all) beside the source, whose stored steps and JSONL never change.
import { test, expect } from './fixtures.mjs';
import {
  DEBATE_MODEL as MODEL, DEBATE_PROMPTS, debateConfig, download, freshMockApp, importDataset, mockRequests, openApp,
  scriptMock,
} from './helpers.mjs';

const OTHER = 'openai/gpt-4o-mini';

const CONFIG = debateConfig('e2e-fork', { prompts: DEBATE_PROMPTS.labelled, maxIterations: 3, temperature: 0 });

const PROBLEM = 'Add the integers from 1 to 10. ANSWER=55';

test.beforeEach(async ({ page, request }) => {
  await freshMockApp(page, request, { key: 'sk-e2e-fork', config: CONFIG });
});

/** A five-step run: the verifier rejects round 1 once, passes round 2, the judge scores. */
async function fiveStepRun(page, request) {
  await scriptMock(request, [{
    match: 'ANSWER=55', agent: 'verifier', times: 1,
    reply: { passed: false, critique: 'Recount the terms.', confidence: 0.8, scores: {} },
  }]);
  await openApp(page, '/run');
  await page.getByTestId('problem-input').fill(PROBLEM);
  await page.getByTestId('ground-truth-input').fill('55');
  await page.getByTestId('run-start').click();
  await expect(page.getByTestId('run-status')).toHaveText('completed');
  const run = await shownRun(page);
  expect(run.lines.map((l) => l.agent)).toEqual(['solver', 'verifier', 'solver', 'verifier', 'judge']);
  return run;
}

/** The shown run's JSONL: its id (from the file name), its raw lines and parsed lines. */
async function shownRun(page) {
  const { name, text } = await download(page, () => page.getByTestId('run-download-jsonl').click());
  const raw = text.split('\n').filter((l) => l !== '');
  return { runId: name.replace(/\.jsonl$/, ''), text, raw, lines: raw.map((l) => JSON.parse(l)) };
}

/** Stored run `runId`'s JSONL, downloaded from its page. */
async function storedRun(page, runId) {
  await openApp(page, `/runs/${runId}`);
  await expect(page.getByTestId('step').first()).toBeVisible();
  return shownRun(page);
}

/** A carried line as its source wrote it: the new run's id put back, its provenance taken out. */
function asSource(line, derivedId, sourceId) {
  return line
    .replace(`"run_id":"${derivedId}"`, `"run_id":"${sourceId}"`)
    .replace(/"forked_from":\{"run_id":"[^"]*","step_id":\d+\},/, '');
}

test('a fork at step 3 with another verifier model carries steps 1–2 byte for byte and calls the rest', async ({ page, request }) => {
  const source = await fiveStepRun(page, request);
  const before = (await mockRequests(request)).length;

  await openApp(page, `/runs/${source.runId}`);
  await page.locator('[data-testid="run-fork"][data-step-id="3"]').click();
  const panel = page.getByTestId('fork-panel');
  await expect(panel).toHaveAttribute('data-step-id', '3');
  // Prefilled with the run's stored config.
  const verifierModel = panel.locator('[data-testid="derive-field"][data-path="verifier.model"]');
  await expect(verifierModel).toHaveValue(MODEL);
  await expect(panel.locator('[data-path="max_iterations"]')).toHaveValue('3');
  await verifierModel.fill(OTHER);
  await page.getByTestId('fork-continue').click();
  await expect(page).toHaveURL(/\/run$/);
  await expect(page.getByTestId('run-status')).toHaveText('completed');
  const fork = await shownRun(page);
  expect(fork.runId).not.toBe(source.runId);

  // Steps 1–2: the source's lines, byte for byte, but for the run id and their provenance.
  for (const i of [0, 1]) {
    expect(fork.lines[i].metadata.forked_from).toEqual({ run_id: source.runId, step_id: i + 1 });
    expect(asSource(fork.raw[i], fork.runId, source.runId)).toBe(source.raw[i]);
  }
  // The rest was made by the fork: the verifier is the new model, nothing carried.
  expect(fork.lines.slice(2).every((l) => l.metadata.forked_from === undefined)).toBe(true);
  const verifiers = fork.lines.slice(2).filter((l) => l.agent === 'verifier');
  expect(verifiers.length).toBeGreaterThan(0);
  expect(verifiers.every((l) => l.metadata.model === OTHER)).toBe(true);
  // The mock saw a request for each step the fork paid for (a step whose identical request
  // the source paid is reused from the reply store), and none for steps 1–2.
  const sent = (await mockRequests(request)).slice(before);
  const paid = fork.lines.slice(2).filter((l) => l.metadata.reused_from === undefined);
  expect(sent).toHaveLength(paid.length);
  expect(sent.map((r) => r.agent)).toEqual(paid.map((l) => l.agent));
  expect(sent.filter((r) => r.agent === 'verifier').every((r) => r.body.model === OTHER.replace('openai/', ''))).toBe(true);
  expect(sent.some((r) => r.agent === 'verifier')).toBe(true);

  // The fork names its source, on its page and in the Runs table; the source is unchanged.
  await openApp(page, `/runs/${fork.runId}`);
  const origin = page.getByTestId('run-derived-from');
  await expect(origin).toHaveAttribute('data-kind', 'fork');
  await expect(origin).toHaveAttribute('data-source-run', source.runId);
  await expect(origin).toHaveAttribute('data-source-step', '3');
  await expect(page.locator('[data-testid="step"][data-forked-from]')).toHaveCount(2);
  await openApp(page, '/runs');
  await expect(page.locator(`[data-testid="run-row"][data-run-id="${fork.runId}"] [data-testid="run-row-derived-from"]`))
    .toHaveAttribute('data-source-run', source.runId);
  expect((await storedRun(page, source.runId)).text).toBe(source.text);
});

test('re-grade reports the current checker\'s verdicts and changes no stored step', async ({ page, request }) => {
  const source = await fiveStepRun(page, request);
  const before = (await mockRequests(request)).length;
  await openApp(page, `/runs/${source.runId}`);
  await page.getByTestId('run-regrade').click();
  const result = page.getByTestId('run-regrade-result');
  await expect(result).toHaveAttribute('data-now', 'correct');
  await expect(result).toHaveAttribute('data-was', 'correct');
  await expect(result).toHaveAttribute('data-changed', 'false');
  await expect(result).toContainText('graded now: correct (was: correct)');
  expect((await storedRun(page, source.runId)).text).toBe(source.text);

  // A batch: one problem answered right, one wrong; the re-grade agrees with each stored verdict.
  await openApp(page, '/batch');
  await importDataset(page, 'regrade.jsonl', [
    { id: 'r1', problem: 'What is 2+3? ANSWER=5', answer: '5' },
    { id: 'r2', problem: 'What is 3+3? ANSWER=7', answer: '6' },
  ]);
  await page.getByTestId('batch-start').click();
  await expect(page.getByTestId('batch-status')).toHaveText('completed', { timeout: 60_000 });
  const { text: batchBefore } = await download(page, () => page.getByTestId('batch-export-jsonl').click());
  const calls = (await mockRequests(request)).length;
  await page.getByTestId('batch-regrade').click();
  const report = page.getByTestId('batch-regrade-result');
  await expect(report).toHaveAttribute('data-before-correct', '1');
  await expect(report).toHaveAttribute('data-before-graded', '2');
  await expect(report).toHaveAttribute('data-after-correct', '1');
  await expect(report).toHaveAttribute('data-after-graded', '2');
  await expect(report).toHaveAttribute('data-changed', '0');
  const { text: batchAfter } = await download(page, () => page.getByTestId('batch-export-jsonl').click());
  expect(batchAfter).toBe(batchBefore);
  expect(await mockRequests(request)).toHaveLength(calls);
  expect(before).toBeGreaterThan(0);
});

test('re-judge makes exactly the judge\'s call and leaves the source\'s JSONL byte-identical', async ({ page, request }) => {
  const source = await fiveStepRun(page, request);
  await scriptMock(request, [{
    match: 'Score brevity', agent: 'judge',
    reply: { score: 0.3, reasoning: 'Too long.', strengths: [], weaknesses: ['verbose'] },
  }]);
  const before = (await mockRequests(request)).length;

  await openApp(page, `/runs/${source.runId}`);
  await page.getByTestId('run-rejudge').click();
  const panel = page.getByTestId('rejudge-panel');
  await expect(panel.locator('[data-path="judge.model"]')).toHaveValue(MODEL);
  await expect(panel.locator('[data-path="verifier.model"]')).toHaveCount(0);
  await panel.locator('[data-path="judge.model"]').fill(OTHER);
  await panel.locator('[data-path="judge.scoring_rubric"]').fill('Score brevity.');
  await page.getByTestId('rejudge-continue').click();
  await expect(page).toHaveURL(/\/run$/);
  await expect(page.getByTestId('run-status')).toHaveText('completed');
  const rejudged = await shownRun(page);

  const sent = (await mockRequests(request)).slice(before);
  expect(sent.map((r) => r.agent)).toEqual(['judge']);
  expect(sent[0].body.model).toBe(OTHER.replace('openai/', ''));
  expect(rejudged.lines).toHaveLength(5);
  for (const i of [0, 1, 2, 3]) {
    expect(asSource(rejudged.raw[i], rejudged.runId, source.runId)).toBe(source.raw[i]);
  }
  expect(rejudged.lines[4].output.score).toBe(0.3);
  expect(rejudged.lines[4].metadata.model).toBe(OTHER);
  expect(source.lines[4].output.score).not.toBe(0.3);

  await openApp(page, `/runs/${rejudged.runId}`);
  await expect(page.getByTestId('run-derived-from')).toHaveAttribute('data-kind', 'rejudge');
  expect((await storedRun(page, source.runId)).text).toBe(source.text);
});
