// The time of one answer check (check_solution) in a native release build:
// examples/grade_answers --timing over the differential cases. Its accuracy against math-verify
// is a test figure, kept in the "Differential tests" section of RESULTS.md.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const CASES = 'tests/fixtures/answers/differential/cases.jsonl';

export async function answerChecking() {
  const { stdout } = await promisify(execFile)(
    'cargo',
    ['run', '--quiet', '--release', '--example', 'grade_answers', '--', '--timing', CASES],
    { maxBuffer: 1 << 20 },
  );
  return JSON.parse(stdout);
}
