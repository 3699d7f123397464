// The Training data page end to end: a batch of six problems run in both modes against the mock
// provider, then every format exported from /training (opened from the batch's link). Each
// download is one .zip; every file in it follows its format's documented rules, no problem is in
// two splits, the counts on the page are the rows in the files, the preference pairs are the ones
// the runs' own steps call for, and every prompt is byte for byte a request the mock received.
import { test, expect } from './fixtures.mjs';
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { MOCK, openApp, resetMock } from './helpers.mjs';

const MODEL = 'openai/gpt-4.1-mini';
const CONFIG = {
  config_version: 'e2e-training',
  mode: 'debate',
  max_iterations: 2,
  max_attempts: 1,
  solver: {
    role: 'solver',
    model: MODEL,
    system_prompt: 'You solve arithmetic problems.',
    prompt_template: 'Solve this problem.\n{problem}\nCritique of the last attempt: {feedback}',
  },
  verifier: {
    role: 'verifier',
    model: MODEL,
    prompt_template: 'Check the solution.\nProblem: {problem}\nSolution: {solution}',
  },
  judge: {
    model: MODEL,
    prompt_template: 'Grade the solution.\nProblem: {problem}\nSolution: {solution}\nRubric: {rubric}',
    scoring_rubric: '1.0 when the final answer is right, else 0.0.',
  },
};

const FORMATS = ['trl-sft', 'trl-preference', 'trl-unpaired', 'openai-sft', 'openai-preference', 'critic', 'reward'];
const tag = (i) => `[T${i}]`;
const truth = (i) => String(i * 7);
const wrong = (i) => String(i * 7 + 1);

// Problems 1 and 2: the first solver call answers wrong, later ones right. Problem 3: every
// answer is wrong. 4 to 6: right. The verifier fails exactly the wrong answers.
function datasetText() {
  const lines = [];
  for (let i = 1; i <= 6; i += 1) {
    lines.push(JSON.stringify({
      id: `t${i}`,
      problem: `${tag(i)} What is ${i} times 7? ANSWER=${i === 3 ? wrong(i) : truth(i)}`,
      answer: truth(i),
    }));
  }
  return `${lines.join('\n')}\n`;
}

function rules() {
  const out = [];
  // A revision reads differently from a first answer, so a pair within a run is never the same
  // row as the pair across runs of its problem (which the export would write once).
  for (const i of [1, 2]) {
    out.push({
      match: `ANSWER=${truth(i)}\nCritique of the last attempt: The product`, agent: 'solver',
      reply: { solution: `Corrected: the answer is \\boxed{${truth(i)}}.`, reasoning: 'Multiplied this time.', confidence: 0.9 },
    });
  }
  for (const i of [1, 2]) {
    out.push({
      match: tag(i), agent: 'solver', times: 1,
      reply: { solution: `The answer is \\boxed{${wrong(i)}}.`, reasoning: 'Added instead of multiplying.', confidence: 0.6 },
    });
  }
  for (const i of [1, 2, 3]) {
    out.push({
      match: `boxed{${wrong(i)}}`, agent: 'verifier',
      reply: { passed: false, critique: 'The product is wrong.', confidence: 0.8, scores: [] },
    });
  }
  return out;
}

async function seed(page) {
  const providers = {
    providers: [{
      id: 'openai', label: 'OpenAI', kind: 'openai_compatible',
      base_url: `${MOCK}/openai/v1`, structured_mode: null, builtin: true,
    }],
  };
  await page.addInitScript(([p, k, c]) => {
    if (localStorage.getItem('trialogue.config.v1') === null) {
      localStorage.setItem('trialogue.providers.v1', p);
      localStorage.setItem('trialogue.keys.v1', k);
      localStorage.setItem('trialogue.config.v1', c);
    }
  }, [JSON.stringify(providers), JSON.stringify({ openai: 'test-key' }), JSON.stringify(CONFIG)]);
}

async function download(page, testId) {
  const [file] = await Promise.all([page.waitForEvent('download'), page.getByTestId(testId).click()]);
  return { name: file.suggestedFilename(), path: await file.path() };
}

/** The archive's entries, read by Python's zipfile (which checks every CRC first). */
function unzip(path) {
  const script = 'import json, sys, zipfile\n'
    + 'z = zipfile.ZipFile(sys.argv[1])\n'
    + 'assert z.testzip() is None\n'
    + 'print(json.dumps([[i.filename, z.read(i).decode("utf-8")] for i in z.infolist()]))';
  return JSON.parse(execFileSync('python3', ['-c', script, path], { encoding: 'utf8' }));
}

const jsonl = (text) => text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));

// The documented rules of each format (see src/core/training/formats.rs for the sources).
function checkMessages(list, where, roles, openai) {
  expect(Array.isArray(list) && list.length > 0, `${where}: a non-empty list`).toBe(true);
  for (const m of list) {
    expect(roles, `${where}: role ${m.role}`).toContain(m.role);
    expect(typeof m.content === 'string' && m.content.trim() !== '', `${where}: content`).toBe(true);
    if (openai) expect(Object.keys(m).every((k) => ['role', 'content', 'name', 'weight'].includes(k)), where).toBe(true);
  }
}

function checkRow(format, row) {
  const prompt = ['system', 'user'];
  const assistant = ['assistant'];
  switch (format) {
    case 'openai-sft':
      checkMessages(row.messages, 'messages', [...prompt, ...assistant], true);
      expect(row.messages.at(-1).role).toBe('assistant');
      break;
    case 'openai-preference':
      checkMessages(row.input.messages, 'input.messages', prompt, true);
      checkMessages(row.preferred_output, 'preferred_output', assistant, true);
      checkMessages(row.non_preferred_output, 'non_preferred_output', assistant, true);
      expect(row.preferred_output).toHaveLength(1);
      expect(row.non_preferred_output).toHaveLength(1);
      expect(row.preferred_output[0].content).not.toBe(row.non_preferred_output[0].content);
      break;
    case 'trl-preference':
      checkMessages(row.prompt, 'prompt', prompt);
      checkMessages(row.chosen, 'chosen', assistant);
      checkMessages(row.rejected, 'rejected', assistant);
      expect(row.chosen).not.toEqual(row.rejected);
      break;
    default:
      checkMessages(row.prompt, 'prompt', prompt);
      checkMessages(row.completion, 'completion', assistant);
      if (format === 'trl-unpaired' || format === 'critic') expect(typeof row.label).toBe('boolean');
      if (format === 'reward') expect(row.reward >= 0 && row.reward <= 1).toBe(true);
  }
}

/** The prompt messages of a row in `format`, as role and content (in that key order). */
function promptOf(format, row) {
  let messages = row.prompt;
  if (format === 'openai-sft') messages = row.messages.slice(0, -1);
  if (format === 'openai-preference') messages = row.input.messages;
  return messages.map((m) => ({ role: m.role, content: m.content }));
}

test('every format exported from a batch validates, splits share no problem, pairs match the runs and prompts are what was sent', async ({ page, request }) => {
  test.setTimeout(240_000);
  await resetMock(request);
  await seed(page);
  expect((await request.post(`${MOCK}/__mock/script`, { data: { rules: rules() } })).ok()).toBe(true);
  await openApp(page, '/batch');

  await page.getByTestId('dataset-import').setInputFiles({
    name: 'e2e-training.jsonl', mimeType: 'application/x-ndjson', buffer: Buffer.from(datasetText()),
  });
  await page.getByTestId('dataset-save').click();
  await page.getByTestId('batch-mode-both').check();
  await page.getByTestId('batch-concurrency').fill('1');
  // The mock answers the same first-turn request differently from run to run (the samples the
  // preference pairs are made of); reusing stored replies would make them one answer.
  await page.getByTestId('batch-reuse-policy').selectOption('never');
  await page.getByTestId('batch-start').click();
  await expect(page.getByTestId('batch-status')).toHaveText('completed', { timeout: 120_000 });

  // What the runs did, from the batch's own trajectory export.
  const steps = jsonl(await readFile((await download(page, 'batch-export-jsonl')).path, 'utf8'));
  const runs = new Map();
  for (const s of steps) {
    if (!runs.has(s.run_id)) runs.set(s.run_id, { problem: s.input.problem, answers: [] });
    if (s.agent === 'solver' && s.output.solution) {
      const i = Number(/\[T(\d)\]/.exec(s.input.problem)[1]);
      runs.get(s.run_id).answers.push(s.output.solution.includes(`\\boxed{${truth(i)}}`));
    }
  }
  expect(runs.size).toBe(12);
  // Within a run: a wrong draft followed by a right revision. Across runs: right and wrong
  // first answers to the same problem (same config, so the same first-turn prompt), one to one.
  const within = [...runs.values()].filter((r) => r.answers.some((ok, j) => ok && r.answers.slice(0, j).includes(false))).length;
  const byProblem = new Map();
  for (const r of runs.values()) {
    const first = byProblem.get(r.problem) ?? { good: 0, bad: 0 };
    if (r.answers[0]) first.good += 1; else first.bad += 1;
    byProblem.set(r.problem, first);
  }
  const across = [...byProblem.values()].reduce((n, g) => n + Math.min(g.good, g.bad), 0);
  expect(within).toBeGreaterThan(0);
  expect(across).toBeGreaterThan(0);

  const sent = (await (await request.get(`${MOCK}/__mock/requests`)).json()).requests
    .filter((r) => r.agent === 'solver' || r.agent === 'verifier')
    .map((r) => JSON.stringify(r.body.messages.map((m) => ({ role: m.role, content: m.content }))));

  await page.getByTestId('batch-training').click();
  await expect(page).toHaveURL(/\/training\?batch=/);
  await expect(page.getByTestId('nav-training')).toHaveAttribute('aria-current', 'page');
  await page.getByTestId('training-validation').fill('0.3');
  await page.getByTestId('training-validation').dispatchEvent('change');
  await page.getByTestId('training-test').fill('0.3');
  await page.getByTestId('training-test').dispatchEvent('change');

  const splitOfProblem = new Map();
  for (const format of FORMATS) {
    await page.getByTestId('training-format').selectOption(format);
    await page.getByTestId('training-signal').selectOption('ground_truth');
    const counts = page.getByTestId('training-counts');
    await expect(counts).toHaveAttribute('data-format', format);
    await expect(counts).toHaveAttribute('data-signals', 'ground_truth');
    await expect(counts).toHaveAttribute('data-split', '0/0.3/0.3');
    const file = await download(page, 'training-download');
    expect(file.name).toMatch(new RegExp(`^trialogue-${format}-\\d{4}-\\d{2}-\\d{2}\\.zip$`));
    const entries = new Map(unzip(file.path));
    const names = [...entries.keys()];
    expect(names.slice(0, 3)).toEqual(['train.jsonl', 'validation.jsonl', 'test.jsonl']);
    expect(names.at(-1)).toBe('README.md');
    const card = entries.get('README.md');
    expect(card.startsWith('---\n')).toBe(true);

    const provenance = format.startsWith('openai') ? jsonl(entries.get('provenance.jsonl')) : null;
    let total = 0;
    for (const split of ['train', 'validation', 'test']) {
      const rows = jsonl(entries.get(`${split}.jsonl`));
      expect(String(rows.length), `${format} ${split}`).toBe(await counts.getAttribute(`data-${split}`));
      expect(card).toContain(`- name: ${split}\n    num_examples: ${rows.length}\n`);
      rows.forEach((row, line) => {
        checkRow(format, row);
        const prov = provenance
          ? provenance.find((p) => p.split === split && p.line === line + 1).provenance
          : row.provenance;
        for (const origin of prov.origins) {
          const problem = runs.get(origin.run_id).problem;
          expect(splitOfProblem.get(problem) ?? split, `${problem} in one split`).toBe(split);
          splitOfProblem.set(problem, split);
        }
        expect(sent, `${format}: a prompt the mock received`).toContain(JSON.stringify(promptOf(format, row)));
      });
      total += rows.length;
    }
    if (format.endsWith('preference')) {
      expect(await counts.getAttribute('data-within-run')).toBe(String(within));
      expect(await counts.getAttribute('data-across-runs')).toBe(String(across));
      expect(total).toBe(within + across);
    }
    expect(total, format).toBeGreaterThan(0);
  }
  // The seeded split put problems in more than one split, none in two.
  expect(new Set(splitOfProblem.values()).size).toBeGreaterThan(1);
});
