/**
 * What a running sweep prints: on a terminal, a status line redrawn in place (cells done, failed, running,
 * the current loss, an ETA) with a line per finished cell; elsewhere, plain log lines; with --json, the
 * events themselves, one per line.
 */
import type { SweepEvent } from '../sweep/run.js';
import type { CliIO } from './command.js';

const duration = (s: number) => (s >= 3600 ? `${(s / 3600).toFixed(1)} h` : s >= 60 ? `${Math.round(s / 60)} min` : `${Math.round(s)} s`);

export function sweepReporter(io: CliIO, mode: 'tty' | 'plain' | 'json' | 'quiet'): (e: SweepEvent) => void {
  let total = 0;
  let finished = 0;
  let failed = 0;
  let diverged = 0;
  const running = new Map<string, string>();
  let lastStep = '';
  const cellSeconds: number[] = [];
  const started = Date.now();
  const line = () => {
    const remaining = total - finished;
    const perCell = cellSeconds.length ? cellSeconds.reduce((a, b) => a + b, 0) / cellSeconds.length : undefined;
    const workers = Math.max(1, running.size);
    const eta = perCell !== undefined ? ` | ETA ${duration((perCell * remaining) / workers)}` : '';
    return `cells ${finished}/${total} (${failed} failed, ${diverged} diverged, ${running.size} running) | ${duration((Date.now() - started) / 1000)}${eta}${lastStep ? ` | ${lastStep}` : ''}`;
  };
  const out = (text: string) => {
    if (mode === 'tty') io.stderr.write(`\r\x1b[2K${text}\n${line()}`);
    else io.stderr.write(`${text}\n`);
  };
  return (e) => {
    if (mode === 'json') {
      io.stdout.write(`${JSON.stringify(e)}\n`);
      return;
    }
    if (mode === 'quiet') return;
    switch (e.type) {
      case 'sweep-start':
        total = e.total;
        finished = e.finished;
        out(
          `sweep ${e.name}: ${e.total} cells, ${e.finished} already finished, ${e.todo} to run (${e.dir})${e.recomputed ? `; ${e.recomputed} recomputed because their inputs changed (old results kept as result.stale-*.json)` : ''}`,
        );
        break;
      case 'dtype':
        out(`dtype auto: ${e.dtype} (${e.reason})`);
        break;
      case 'cell-start':
        running.set(e.id, e.label);
        if (mode === 'plain') out(`start ${e.id} ${e.label} on ${e.worker}`);
        break;
      case 'cell-step':
        lastStep = `${running.get(e.id) ?? e.id}: step ${e.step}/${e.steps} loss ${e.loss.toFixed(4)}`;
        if (mode === 'tty') io.stderr.write(`\r\x1b[2K${line()}`);
        break;
      case 'cell-epoch':
        if (mode === 'plain')
          out(
            `  ${e.id} epoch ${e.record.epoch}: train loss ${e.record.trainLoss.toFixed(4)}, ${Object.entries(e.record.metrics)
              .map(([k, v]) => `${k} ${v.toFixed(4)}`)
              .join(', ')}`,
          );
        break;
      case 'cell-end': {
        running.delete(e.id);
        finished += 1;
        if (e.status === 'failed') failed += 1;
        if (e.status === 'diverged') diverged += 1;
        cellSeconds.push(e.seconds);
        const score = e.score === null ? '' : ` ${e.metric} ${e.score.toFixed(4)}`;
        out(
          `${e.status === 'done' ? 'done' : e.status.toUpperCase()} ${e.id} ${e.label}${score} (${duration(e.seconds)})${e.error ? `: ${e.error}` : ''}`,
        );
        break;
      }
      case 'sweep-end':
        if (mode === 'tty') io.stderr.write('\r\x1b[2K');
        io.stderr.write(
          `sweep finished: ${e.done} done, ${e.diverged} diverged, ${e.failed} failed, ${e.remaining} not run (${duration(e.seconds)})\n`,
        );
        break;
      default:
        break;
    }
  };
}
