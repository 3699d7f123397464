// What the provider batch e2e spec (tests/e2e/provider-batch.spec.mjs) and the provider batch
// bench (bench/provider_batch.mjs) share about driving the mock's batch APIs: the provider of
// each family on a mock, the debate config they run, and a batch's runs, steps and rounds as the
// app stored them in IndexedDB.

/** Each batch API family's built-in provider, served by the mock at `mockUrl`, with a model the
 * shipped price table gives batch rates at half the live ones. */
export function familyProviders(mockUrl) {
  return {
    openai: {
      model: 'openai/gpt-4.1-mini', price: 'gpt-4.1-mini',
      provider: { id: 'openai', label: 'OpenAI', kind: 'openai_compatible', base_url: `${mockUrl}/openai/v1`, structured_mode: null, builtin: true },
    },
    anthropic: {
      model: 'anthropic/claude-haiku-4-5', price: 'claude-haiku-4-5',
      provider: { id: 'anthropic', label: 'Anthropic', kind: 'anthropic', base_url: `${mockUrl}/anthropic/v1`, structured_mode: null, builtin: true },
    },
    gemini: {
      model: 'gemini/gemini-2.5-flash', price: 'gemini/gemini-2.5-flash',
      provider: { id: 'gemini', label: 'Google Gemini', kind: 'gemini', base_url: `${mockUrl}/gemini/v1beta`, structured_mode: null, builtin: true },
    },
  };
}

/** A debate of up to two iterations with `model` for every agent (the mock's verifier passes
 * the first solution, so each problem takes three turns: solver, verifier, judge). */
export function debateConfig(version, model) {
  return {
    config_version: version,
    mode: 'debate',
    max_iterations: 2,
    solver: { role: 'solver', model, prompt_template: 'Solve this problem.\n{problem}\nCritique: {feedback}' },
    verifier: { role: 'verifier', model, prompt_template: 'Check.\nProblem: {problem}\nSolution: {solution}' },
    judge: {
      model,
      prompt_template: 'Grade.\nProblem: {problem}\nSolution: {solution}\nRubric: {rubric}',
      scoring_rubric: '1.0 when the final answer is right, else 0.0.',
    },
  };
}

/** Batch `batchId` as stored in the page's IndexedDB: its runs, each with its steps in step
 * order, and its provider rounds. */
export async function storedBatch(page, batchId) {
  return page.evaluate(async (id) => {
    const db = await new Promise((resolve, reject) => {
      const open = indexedDB.open('trialogue');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const all = (name) => new Promise((resolve, reject) => {
      const req = db.transaction(name).objectStore(name).getAll();
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    const parse = (row) => JSON.parse(row.line ?? row.json ?? JSON.stringify(row));
    const runs = (await all('runs')).map(parse).filter((r) => r.batch_id === id);
    const ids = new Set(runs.map((r) => r.run_id));
    const steps = (await all('steps')).map(parse).filter((s) => ids.has(s.run_id));
    const rounds = (await all('provider_rounds')).filter((r) => r.batch_id === id).map(parse);
    db.close();
    return {
      runs: runs.map((run) => ({
        ...run,
        steps: steps.filter((s) => s.run_id === run.run_id).sort((a, b) => a.step_id - b.step_id),
      })),
      rounds,
    };
  }, batchId);
}
