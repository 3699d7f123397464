// A database an earlier build of Trialogue left behind opens in this one, and what it left in
// flight resumes. The database is a recording (tests/fixtures/idb/, made by record.mjs there):
// the tab was closed while a run waited on its verifier and a batch of four had two problems
// done and two waiting on their verifier. This build must mark both interrupted, resume them
// from their stored steps (no stored call is made again), and export those steps byte for byte
// (a run's last line adding the run's facts).
import { test, expect } from './fixtures.mjs';
import { readFile } from 'node:fs/promises';
import { MOCK, openApp, resetMock } from './helpers.mjs';

const RECORDING = new URL('../fixtures/idb/main-dd11019.json', import.meta.url);

/** Points the app's OpenAI provider at the mock and seeds `config`, the one the recording was
 *  made with (a resumed run uses its stored copy: this one only has to be valid). */
async function seed(page, config) {
  const providers = {
    providers: [{ id: 'openai', label: 'OpenAI', kind: 'openai_compatible', base_url: `${MOCK}/openai/v1`, structured_mode: null, builtin: true }],
  };
  await page.addInitScript(([p, k, c]) => {
    if (localStorage.getItem('trialogue.config.v1') === null) {
      localStorage.setItem('trialogue.providers.v1', p);
      localStorage.setItem('trialogue.keys.v1', k);
      localStorage.setItem('trialogue.config.v1', c);
    }
  }, [JSON.stringify(providers), JSON.stringify({ openai: 'test-key' }), JSON.stringify(config)]);
}

/** Writes the recorded database, with the recorded stores, indexes and records, into the app's
 *  origin before the app opens it (from a file of the origin that does not start the app). */
async function loadRecording(page, recording) {
  await page.goto('/public/favicon.svg');
  await page.evaluate(async (rec) => {
    const done = (request) => new Promise((resolve, reject) => {
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    await done(indexedDB.deleteDatabase(rec.database.name));
    const open = indexedDB.open(rec.database.name, rec.database.version);
    open.onupgradeneeded = () => {
      for (const s of rec.stores) {
        const store = open.result.createObjectStore(s.name, { keyPath: s.keyPath, autoIncrement: s.autoIncrement });
        for (const i of s.indexes) store.createIndex(i.name, i.keyPath, { unique: i.unique, multiEntry: i.multiEntry });
      }
    };
    const db = await done(open);
    const tx = db.transaction(rec.stores.map((s) => s.name), 'readwrite');
    for (const s of rec.stores) for (const record of s.records) tx.objectStore(s.name).put(record);
    await new Promise((resolve, reject) => {
      tx.oncomplete = resolve;
      tx.onerror = () => reject(tx.error);
    });
    db.close();
  }, recording);
}

async function download(page, testId) {
  const [file] = await Promise.all([page.waitForEvent('download'), page.getByTestId(testId).click()]);
  return (await readFile(await file.path(), 'utf8')).split('\n').filter((l) => l !== '');
}

/** The transcript as [agent, iteration, status] triples. */
async function transcript(page) {
  return page.getByTestId('step').evaluateAll((cards) =>
    cards.map((c) => [c.dataset.agent, c.dataset.iteration ?? null, c.dataset.status]));
}

test('a database an earlier build left with a run and a batch in flight opens, and both resume from their stored steps', async ({ page, request, problems }) => {
  test.setTimeout(120_000);
  // The recording is written from the favicon's own document, which names no icon: Chromium
  // asks for /favicon.ico instead, which the app does not serve. (Optional: Chromium may ask
  // after the test has moved on.)
  problems.allow(/^console error: Failed to load resource: the server responded with a status of 404 \(File not found\) \(http:\/\/127\.0\.0\.1:\d+\/favicon\.ico\)$/, { optional: true });
  const recording = JSON.parse(await readFile(RECORDING, 'utf8'));
  const rows = (store) => recording.stores.find((s) => s.name === store).records;
  const runs = rows('runs').map((row) => JSON.parse(row.json));
  const storedLines = (runId) => rows('steps').filter((s) => s.run_id === runId)
    .sort((a, b) => a.step_id - b.step_id).map((s) => s.line);
  const lone = runs.find((r) => r.batch_id === null || r.batch_id === undefined);
  const batch = JSON.parse(rows('batches')[0].json);
  const batchRuns = runs.filter((r) => r.batch_id === batch.batch_id);
  // What the recording holds: the run and two of the batch's runs cut off after their solver.
  expect(lone.status).toBe('running');
  expect(storedLines(lone.run_id)).toHaveLength(1);
  expect(batch.status).toBe('running');
  expect(batchRuns.map((r) => r.status).sort()).toEqual(['completed', 'completed', 'running', 'running']);

  await resetMock(request);
  await seed(page, lone.config);
  await loadRecording(page, recording);
  await openApp(page, '/run');

  // The run: found running with no tab driving it, so interrupted; it goes on from its solver step.
  await page.locator(`a[href="/runs/${lone.run_id}"]`).click();
  await expect(page.getByTestId('run-status')).toHaveText('interrupted');
  expect(await transcript(page)).toEqual([['solver', '1', 'ok']]);
  await page.getByTestId('run-resume').click();
  await expect(page.getByTestId('run-status')).toHaveText('completed', { timeout: 30_000 });
  expect(await transcript(page)).toEqual([['solver', '1', 'ok'], ['verifier', '1', 'ok'], ['judge', null, 'ok']]);
  const runLines = await download(page, 'run-download-jsonl');
  expect(runLines[0]).toBe(storedLines(lone.run_id)[0]);
  const runSteps = runLines.map((l) => JSON.parse(l));
  expect(runSteps.map((s) => [s.run_id, s.step_id, s.agent])).toEqual([
    [lone.run_id, 1, 'solver'], [lone.run_id, 2, 'verifier'], [lone.run_id, 3, 'judge'],
  ]);
  expect(runSteps[2]).toMatchObject({ terminal: true, reward: 1.0, success: true });

  // The batch: interrupted too; resuming finishes its two cut-off runs under their own ids.
  await page.getByTestId('nav-batch').click();
  await expect(page.getByTestId('batch-id')).toHaveText(batch.batch_id);
  await expect(page.getByTestId('batch-status')).toHaveText('interrupted');
  await page.getByTestId('batch-resume').click();
  await expect(page.getByTestId('batch-status')).toHaveText('completed', { timeout: 30_000 });
  await expect(page.getByTestId('batch-progress')).toHaveAttribute('data-done', '4');
  const items = await page.getByTestId('batch-item').evaluateAll((trs) => trs.map((tr) => ({
    status: tr.dataset.status, steps: Number(tr.dataset.steps), run: tr.querySelector('a')?.textContent.trim(),
  })));
  expect(items.map((i) => i.run).sort()).toEqual(batchRuns.map((r) => r.run_id).sort());
  expect(items.every((i) => i.status === 'done' && i.steps === 3)).toBeTruthy();
  const batchLines = await download(page, 'batch-export-jsonl');
  expect(batchLines).toHaveLength(12);
  // Stored steps go out as they were stored; a run's last line also carries the run's facts
  // (Trialogue's extra metadata keys), and is the stored line once those are taken off.
  const FACTS = ['status', 'stop_reason', 'started_at', 'ground_truth', 'extracted_answer', 'config'];
  const withoutFacts = (line) => {
    const entry = JSON.parse(line);
    for (const key of FACTS) delete entry.metadata[key];
    return entry;
  };
  for (const run of batchRuns) {
    const exported = batchLines.filter((l) => JSON.parse(l).run_id === run.run_id);
    for (const [k, line] of storedLines(run.run_id).entries()) {
      if (k < exported.length - 1) expect(exported[k]).toBe(line);
      else expect(withoutFacts(exported[k])).toEqual(withoutFacts(line));
    }
    expect(JSON.parse(exported[exported.length - 1]).metadata.status).toBe('completed');
  }

  // No stored call was made again: the cut-off runs asked only their verifier and judge.
  const log = await (await request.get(`${MOCK}/__mock/requests`)).json();
  const calls = (tag) => ['solver', 'verifier', 'judge'].map((agent) => log.requests
    .filter((r) => r.agent === agent && JSON.stringify(r.body).includes(tag)).length);
  expect(calls('[RUN]')).toEqual([0, 1, 1]);
  expect([calls('[B1]'), calls('[B2]'), calls('[B3]'), calls('[B4]')]).toEqual([[0, 0, 0], [0, 0, 0], [0, 1, 1], [0, 1, 1]]);
});

test('a database an earlier build left shows the same runs on the Runs page, in date order and by status from the indexes the upgrade built', async ({ page, problems }) => {
  problems.allow(/^console error: Failed to load resource: the server responded with a status of 404 \(File not found\) \(http:\/\/127\.0\.0\.1:\d+\/favicon\.ico\)$/, { optional: true });
  const recording = JSON.parse(await readFile(RECORDING, 'utf8'));
  const runs = recording.stores.find((s) => s.name === 'runs').records;
  // Newest first; runs created in the same millisecond by id, the later id first.
  const newestFirst = [...runs]
    .sort((a, b) => b.created_ms - a.created_ms || (a.run_id < b.run_id ? 1 : -1))
    .map((r) => r.run_id);
  const running = runs.filter((r) => r.status === 'running').map((r) => r.run_id);
  expect(running.length).toBeGreaterThan(0);
  await seed(page, JSON.parse(runs[0].json).config);
  await loadRecording(page, recording);
  await openApp(page, '/runs');

  const rowIds = () => page.getByTestId('run-row').evaluateAll((trs) => trs.map((tr) => tr.dataset.runId));
  await expect(page.getByTestId('run-row')).toHaveCount(runs.length);
  expect(await rowIds()).toEqual(newestFirst);
  await expect(page.getByTestId('runs-page-status')).toContainText(`Showing 1–${runs.length} of ${runs.length} runs`);
  // The runs found running with no tab driving them are interrupted, and the status filter
  // finds them (and only them) through the index built from the old records.
  await page.locator('#runs-status').selectOption('interrupted');
  await expect(page.getByTestId('run-row')).toHaveCount(running.length);
  expect((await rowIds()).sort()).toEqual([...running].sort());
  await expect(page.locator('.runs-count')).toHaveText(`${running.length} of ${runs.length} runs match the filters`);
  await page.locator('#runs-status').selectOption('completed');
  await expect(page.getByTestId('run-row')).toHaveCount(runs.length - running.length);
});
