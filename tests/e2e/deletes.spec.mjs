// Deletes that can be undone (a saved config, a dataset), and deletes refused because a tab or
// a batch is driving the run.
import { test, expect } from './fixtures.mjs';
import {
  importDataset, mockRequests, openApp, releaseMock, resetMock, scriptMock, seedApp,
} from './helpers.mjs';

async function saveAs(page, name) {
  await page.locator('#save-name').fill(name);
  await page.locator('#save-name').press('Enter');
  await expect(page.getByRole('status').filter({ hasText: `Saved “${name}”.` })).toBeVisible();
}

const names = (page) => page.locator('.saved-name').allTextContents();

test('a deleted saved config comes back with Undo, in its place, and stays after a reload', async ({ page }) => {
  await openApp(page, '/configure');
  for (const name of ['first', 'second', 'third']) await saveAs(page, name);
  expect(await names(page)).toEqual(['first', 'second', 'third']);

  await page.getByRole('button', { name: 'Delete second' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Deleted “second”.' })).toBeVisible();
  expect(await names(page)).toEqual(['first', 'third']);
  await page.getByTestId('saved-config-undo').click();
  await expect(page.getByRole('status').filter({ hasText: 'Restored “second”.' })).toBeVisible();
  await expect(page.getByTestId('saved-config-undo')).toHaveCount(0);
  expect(await names(page)).toEqual(['first', 'second', 'third']);

  await page.reload();
  await expect(page.locator('.saved-name')).toHaveCount(3);
  expect(await names(page)).toEqual(['first', 'second', 'third']);

  // A save after a delete ends the offer to undo it.
  await page.getByRole('button', { name: 'Delete third' }).click();
  await expect(page.getByTestId('saved-config-undo')).toBeVisible();
  await saveAs(page, 'fourth');
  await expect(page.getByTestId('saved-config-undo')).toHaveCount(0);
  expect(await names(page)).toEqual(['first', 'second', 'fourth']);
});

// A run that a tab or a batch drives is refused when another tab deletes it: deleted, its
// driver's next write would bring it back as an empty record under the same id.
const RUN_CONFIG = {
  config_version: 'e2e-deletes',
  mode: 'debate',
  max_iterations: 2,
  max_attempts: 1,
  solver: { role: 'solver', model: 'openai/gpt-4.1-mini', prompt_template: 'Solve.\n{problem}\n{feedback}' },
  verifier: { role: 'verifier', model: 'openai/gpt-4.1-mini', prompt_template: 'Check.\n{problem}\n{solution}' },
  judge: { model: 'openai/gpt-4.1-mini', prompt_template: 'Grade.\n{problem}\n{solution}\n{rubric}', scoring_rubric: 'right or wrong' },
};

async function twoTabs(context, request) {
  await resetMock(request);
  const a = await context.newPage();
  const b = await context.newPage();
  for (const page of [a, b]) await seedApp(page, { keys: { openai: 'sk-e2e-deletes' }, config: RUN_CONFIG });
  return [a, b];
}

/** Selects run `runId` on the Runs page and confirms its delete. */
async function deleteOnRunsPage(page, runId) {
  await page.getByRole('checkbox', { name: `Select run ${runId}` }).check();
  await page.getByTestId('runs-delete-selected').click();
  await page.getByTestId('runs-delete-confirm').click();
}

test('a run another tab is running cannot be deleted until it stops', async ({ context, request }) => {
  const [a, b] = await twoTabs(context, request);
  await scriptMock(request, [{ agent: 'verifier', times: 1, fault: 'hold:deletes' }]);
  await openApp(a, '/run');
  await a.getByTestId('problem-input').fill('What is 1 + 1? ANSWER=2');
  await a.getByTestId('run-start').click();
  await expect(a.locator('[data-testid="step"][data-status="running"]')).toHaveAttribute('data-agent', 'verifier');
  const runId = (await a.getByTestId('run-id').textContent()).trim();

  await openApp(b, '/runs');
  const row = b.locator(`[data-testid="run-row"][data-run-id="${runId}"]`);
  await expect(row).toHaveAttribute('data-status', 'running');
  await deleteOnRunsPage(b, runId);
  await expect(b.getByTestId('error').filter({ hasText: `run ${runId} is going in an open tab of the app` })).toBeVisible();
  await expect(row).toHaveCount(1);

  // Once it has finished, it can be deleted, and it stays deleted.
  await releaseMock(request, 'deletes');
  await expect(a.getByTestId('run-status')).toHaveText('completed', { timeout: 20_000 });
  await b.reload();
  await deleteOnRunsPage(b, runId);
  await expect(row).toHaveCount(0);
  await a.reload();
  await openApp(a, '/runs');
  await expect(a.locator(`[data-testid="run-row"][data-run-id="${runId}"]`)).toHaveCount(0);
});

test('a run of a batch another tab is running cannot be deleted, and the refusal names the batch', async ({ context, request }) => {
  const [a, b] = await twoTabs(context, request);
  await scriptMock(request, [{ agent: 'verifier', times: 1, fault: 'hold:deletes' }]);
  await openApp(a, '/batch');
  await importDataset(a, 'deletes-one.jsonl', [{ id: 'd1', problem: 'What is 2 + 3? ANSWER=5', answer: '5' }]);
  await a.getByTestId('batch-concurrency').fill('1');
  await a.getByTestId('batch-start').click();
  await expect(a.getByTestId('batch-status')).toHaveText('running');
  await expect.poll(async () => (await mockRequests(request)).filter((r) => r.fault === 'hold:deletes').length).toBe(1);
  const batchId = (await a.getByTestId('batch-id').textContent()).trim();

  await openApp(b, '/runs');
  const row = b.getByTestId('run-row');
  await expect(row).toHaveCount(1);
  const runId = await row.getAttribute('data-run-id');
  await deleteOnRunsPage(b, runId);
  await expect(b.getByTestId('error').filter({ hasText: `run ${runId} belongs to batch ${batchId}, which is running` })).toBeVisible();
  await expect(row).toHaveCount(1);

  await releaseMock(request, 'deletes');
  await expect(a.getByTestId('batch-status')).toHaveText('completed', { timeout: 20_000 });
  await deleteOnRunsPage(b, runId);
  await expect(row).toHaveCount(0);
});

test('a deleted dataset comes back with Undo, with its id, and stays after a reload', async ({ page }) => {
  await openApp(page, '/batch');
  await importDataset(page, 'undo-a.jsonl', [{ id: 'a1', problem: 'What is 1 + 2?', answer: '3' }]);
  await expect(page.getByTestId('dataset-row')).toHaveCount(1);
  await importDataset(page, 'undo-b.jsonl', [{ id: 'b1', problem: 'What is 2 + 2?', answer: '4' }, { id: 'b2', problem: 'What is 3 + 3?', answer: '6' }]);
  await expect(page.getByTestId('dataset-row')).toHaveCount(2);
  const ids = async () => page.getByTestId('dataset-row').evaluateAll((rows) => rows.map((r) => r.dataset.datasetId).sort());
  const before = await ids();

  const undoB = page.locator('[data-testid="dataset-row"]').filter({ hasText: 'undo-b' });
  await undoB.getByTestId('dataset-delete').click();
  await expect(page.getByTestId('dataset-row')).toHaveCount(1);
  await expect(page.getByTestId('dataset-deleted')).toContainText('Deleted “undo-b');
  await page.getByTestId('dataset-undo').click();
  await expect(page.getByTestId('dataset-undo')).toHaveCount(0);
  await expect(page.getByTestId('dataset-row')).toHaveCount(2);
  expect(await ids()).toEqual(before);
  await expect(undoB).toContainText('2 problems');

  await page.reload();
  await expect(page.getByTestId('dataset-row')).toHaveCount(2);
  expect(await ids()).toEqual(before);

  // Another delete replaces the offer: only the last one can be undone.
  await page.locator('[data-testid="dataset-row"]').filter({ hasText: 'undo-a' }).getByTestId('dataset-delete').click();
  await expect(page.getByTestId('dataset-deleted')).toContainText('Deleted “undo-a');
  await undoB.getByTestId('dataset-delete').click();
  await expect(page.getByTestId('dataset-deleted')).toContainText('Deleted “undo-b');
  await page.getByTestId('dataset-undo').click();
  await expect(page.getByTestId('dataset-row')).toHaveCount(1);
  await expect(undoB).toHaveCount(1);
});
