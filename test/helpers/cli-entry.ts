import { runCli } from '../../src/cli/main.js';

/**
 * Test-only: with HEALBERT_TEST_FREEZE_AFTER_CELLS=N and `sweep --json`, the process writes the first
 * `cell-step` event after N `cell-end` events and then blocks its main thread for good, so that a test
 * which kills it on that line kills it in the middle of that cell every time. Without the freeze a tiny
 * cell could finish between the line and the signal (seen once in CI: "no result for the killed cell").
 * stdout to a pipe is synchronous on Linux, so the line is out before the thread blocks.
 */
const freezeAfter = process.env.HEALBERT_TEST_FREEZE_AFTER_CELLS;
if (freezeAfter !== undefined) {
  const cells = Number(freezeAfter);
  let ended = 0;
  const write = process.stdout.write.bind(process.stdout) as (chunk: string) => boolean;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    const written = write(text);
    for (const line of text.split('\n')) {
      if (line.includes('"type":"cell-end"')) ended += 1;
      else if (line.includes('"type":"cell-step"') && ended >= cells) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); // blocks until the process is killed
      }
    }
    return written;
  }) as typeof process.stdout.write;
}

await runCli();
