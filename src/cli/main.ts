/**
 * The `healbert` command: a dispatcher over the commands in ./commands. The only place (with the
 * commands) that touches process.exit, argv and the console.
 */
import { setCliEntryPoint } from '../sweep/run.js';
import { healbertVersion } from '../version.js';
import { type CliIO, formatError, helpText, parseCommandArgs, UsageError } from './command.js';
import { commands } from './commands/index.js';

export { commands };

function overview(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'healbert: corrupt BERT-family models, fine-tune them, and measure how they heal.',
    '',
    'Usage: healbert <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    "Run 'healbert <command> --help' for a command's options.",
    '',
  ].join('\n');
}

export async function main(argv: string[], io: CliIO, signal: AbortSignal): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const target = name === 'help' ? commands.find((c) => c.name === rest[0]) : undefined;
    io.stdout.write(target ? helpText(target) : overview());
    return 0;
  }
  if (name === '--version' || name === '-v') {
    io.stdout.write(`${healbertVersion}\n`);
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    io.stderr.write(`healbert: unknown command '${name}'\n\n${overview()}`);
    return 2;
  }
  try {
    const parsed = parseCommandArgs(command, rest);
    if (parsed.help) {
      io.stdout.write(helpText(command));
      return 0;
    }
    return (await command.run({ values: parsed.values, positionals: parsed.positionals, io, signal })) ?? 0;
  } catch (error) {
    io.stderr.write(formatError(command.name, error));
    return error instanceof UsageError ? 2 : 1;
  }
}

/** Runs the CLI in this process: wires signals, streams and the exit status. */
export async function runCli(argv: string[] = process.argv.slice(2)): Promise<void> {
  setCliEntryPoint(process.argv[1]);
  const controller = new AbortController();
  let interrupted = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupted += 1;
    if (interrupted > 1) process.exit(130); // a second Ctrl-C: stop now
    process.stderr.write(`\nhealbert: ${signal} received, stopping after the current step (again to force)\n`);
    controller.abort(new Error(`interrupted by ${signal}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const status = await main(argv, { stdout: process.stdout, stderr: process.stderr }, controller.signal);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.exitCode = status;
}
