// Export streamed into a file the user picks (File System Access API): the Runs page's "Export
// all" writes each chunk as the store hands it out, and the file holds exactly the bytes the
// Blob download holds for the same runs, as does the download spooled through the origin
// private file system (no picker). A closed picker is no error; a failed write (a full disk)
// says so, drops the file and keeps every stored run. The picker is a stub (save-picker.mjs):
// headless Chromium's own would reject as cancelled.
import { readFile } from 'node:fs/promises';
import { test, expect } from './fixtures.mjs';
import { openApp } from './helpers.mjs';
import { readOpfsFile, savePickerStub, withoutWritableFiles } from './save-picker.mjs';

const RUNS = 300;
// About 6 KB a step, so the export (about 5 MB) is several of the app's 1 MiB chunks.
const PADDING = 'Each step of the argument is checked against the definitions. '.repeat(90);
// How many writes the app keeps under way (src/web/save_file.rs, WRITES_IN_FLIGHT).
const WRITES_IN_FLIGHT = 2;

/** A JSONL file of `RUNS` runs of a solver, a verifier and a judge step. */
function severalRuns() {
  const agents = [['solver', 'generate'], ['verifier', 'verify'], ['judge', 'score']];
  let text = '';
  for (let run = 0; run < RUNS; run += 1) {
    const runId = `run_20250101_${String(run).padStart(6, '0')}_0badf00d`;
    agents.forEach(([agent, action], i) => {
      text += `${JSON.stringify({
        timestamp: '2025-01-01T10:00:00.000000+00:00', run_id: runId, step_id: i + 1, agent, action,
        input: { problem: `Problem ${run}` },
        output: { solution: `${run}`, reasoning: PADDING, confidence: 0.5 },
        metadata: { model: 'openai/gpt-4.1-mini' }, reward: null, terminal: i === 2, success: null,
      })}\n`;
    });
  }
  return text;
}

/** Opens the Runs page on a page that has the stub picker in `mode`. */
async function runsPageWithPicker(context, mode, options = {}) {
  const page = await context.newPage();
  await page.addInitScript(savePickerStub, { mode, ...options });
  await openApp(page, '/runs');
  await expect(page.getByTestId('run-row').first()).toBeVisible();
  return page;
}

const savedFile = (page) => page.evaluate(() => window.__savedFile);

test.beforeEach(async ({ page }) => {
  await openApp(page, '/runs');
  await page.getByTestId('trajectory-import').setInputFiles({
    name: 'several.jsonl', mimeType: 'application/x-ndjson', buffer: Buffer.from(severalRuns(), 'utf8'),
  });
  await expect(page.getByTestId('import-report')).toContainText(`${RUNS}`);
});

/** Clicks "Export all" and returns the download's bytes and name. */
async function downloadAll(page) {
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByTestId('runs-export-all').click(),
  ]);
  return { bytes: await readFile(await download.path()), name: download.suggestedFilename() };
}

/** The Runs page on a new page with neither a picker nor writable files: a Blob download. */
async function inMemoryPage(context) {
  const page = await context.newPage();
  await page.addInitScript(withoutWritableFiles);
  await openApp(page, '/runs');
  await expect(page.getByTestId('run-row').first()).toBeVisible();
  return page;
}

/** The names in the origin private file system's top directory. */
const opfsNames = (page) => page.evaluate(async () => {
  const names = [];
  for await (const name of (await navigator.storage.getDirectory()).keys()) names.push(name);
  return names;
});

test('the streamed export writes chunk by chunk the bytes the Blob download holds', async ({ context }) => {
  test.setTimeout(120_000);
  // Neither a picker nor writable files: the Blob download, and the page says it is built in
  // memory.
  const inMemory = await inMemoryPage(context);
  await expect(inMemory.getByTestId('export-in-memory')).toBeVisible();
  const blob = await downloadAll(inMemory);
  expect(blob.bytes.toString('utf8').split('\n').filter((l) => l)).toHaveLength(RUNS * 3);
  expect(await opfsNames(inMemory)).toEqual([]);

  const streamed = await runsPageWithPicker(context, 'keep');
  await expect(streamed.getByTestId('export-in-memory')).toHaveCount(0);
  await streamed.getByTestId('runs-export-all').click();
  await expect(streamed.locator('.runs-transfer').getByRole('status')).toContainText(`Exported ${RUNS * 3} steps of ${RUNS} runs`);
  const file = await savedFile(streamed);
  expect(file.closed).toBe(true);
  expect(file.aborted).toBe(false);
  expect(file.options.suggestedName).toBe(blob.name);
  // Several writes: the file was never whole in the page.
  expect(file.chunks.length).toBeGreaterThan(2);
  expect(Buffer.from(file.chunks.join(''), 'utf8').equals(blob.bytes)).toBe(true);
});

test("the browser's own writable stream on a picked file gets the bytes the Blob download holds", async ({ context }) => {
  test.setTimeout(120_000);
  const blob = await downloadAll(await inMemoryPage(context));
  // The stub picker hands out a file of the origin private file system: the writes go through
  // Chromium's FileSystemWritableFileStream, as a picked file's do.
  const picked = await runsPageWithPicker(context, 'opfs');
  await picked.getByTestId('runs-export-all').click();
  await expect(picked.locator('.runs-transfer').getByRole('status')).toContainText(`Exported ${RUNS * 3} steps of ${RUNS} runs`);
  const file = await savedFile(picked);
  expect(file.closed).toBe(true);
  expect(file.writes).toBeGreaterThan(2);
  const written = await picked.evaluate(readOpfsFile, { name: file.name, text: true, remove: true });
  expect(written.lines).toBe(RUNS * 3);
  expect(Buffer.from(written.text, 'utf8').equals(blob.bytes)).toBe(true);
});

test('without a picker the download is spooled on disk: the same bytes, and one spool kept at most', async ({ context, page }) => {
  test.setTimeout(120_000);
  const blob = await downloadAll(await inMemoryPage(context));

  // Chromium has writable files: no picker, but the page no longer warns of memory.
  await expect(page.getByTestId('export-in-memory')).toHaveCount(0);
  const first = await downloadAll(page);
  expect(first.name).toBe(blob.name);
  expect(first.bytes.equals(blob.bytes)).toBe(true);
  const spools = (names) => names.filter((n) => n.startsWith('export-spool-'));
  const afterFirst = spools(await opfsNames(page));
  expect(afterFirst).toHaveLength(1);
  // The next export removes the spool before: the origin's storage does not fill up.
  const second = await downloadAll(page);
  expect(second.bytes.equals(blob.bytes)).toBe(true);
  const afterSecond = spools(await opfsNames(page));
  expect(afterSecond).toHaveLength(1);
  expect(afterSecond[0]).not.toBe(afterFirst[0]);
});

test('a slow disk slows the export down: the app waits for its writes instead of queueing them', async ({ context }) => {
  test.setTimeout(120_000);
  const page = await runsPageWithPicker(context, 'slow', { writeMs: 100 });
  await page.getByTestId('runs-export-all').click();
  await expect(page.locator('.runs-transfer').getByRole('status')).toContainText(`Exported ${RUNS * 3} steps of ${RUNS} runs`);
  const file = await savedFile(page);
  expect(file.closed).toBe(true);
  expect(file.lines).toBe(RUNS * 3);
  expect(file.writes).toBeGreaterThan(WRITES_IN_FLIGHT);
  // Reading is faster than this disk: without waiting, every chunk would be under way at once.
  expect(file.maxPending).toBeLessThanOrEqual(WRITES_IN_FLIGHT);
});

test('a closed picker is not an error and writes nothing', async ({ context }) => {
  const page = await runsPageWithPicker(context, 'cancel');
  await page.getByTestId('runs-export-all').click();
  await expect(page.locator('.runs-transfer').getByRole('status')).toHaveText('Export cancelled: no file was written.');
  await expect(page.getByRole('alert')).toHaveCount(0);
  expect(await savedFile(page)).toBeUndefined();
});

test('a failed write says so, drops the file and keeps every stored run', async ({ context }) => {
  const page = await runsPageWithPicker(context, 'fail');
  const rowsBefore = await page.getByTestId('run-row').count();
  await page.getByTestId('runs-export-all').click();
  const alert = page.getByRole('alert');
  await expect(alert).toContainText('QuotaExceededError');
  await expect(alert).toContainText('the file was not saved and nothing stored was changed');
  const file = await savedFile(page);
  expect(file.aborted).toBe(true);
  expect(file.closed).toBe(false);
  // The failure stopped the reads: the second write failed, and the app noticed when it next
  // waited for a write to make room (the export would have been several more writes).
  expect(file.writes).toBeLessThanOrEqual(WRITES_IN_FLIGHT + 1);
  await page.reload();
  await expect(page.getByTestId('run-row')).toHaveCount(rowsBefore);
});
