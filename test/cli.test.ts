import test from 'ava';
import { runCli } from './helpers/cli.js';

test('healbert doctor prints the libtorch version and passes', (t) => {
  const result = runCli(['doctor', '--size', '16']);
  t.is(result.status, 0, result.stderr);
  t.regex(result.stdout, /libtorch \d+\.\d+\.\d+ from /);
  t.regex(result.stdout, /cpu\s+ok/);
  t.regex(result.stdout, /\nCPU: .+; native bf16: (yes \(.+\)|no|unknown .*)\n/);
  t.regex(result.stdout, /bf16 vs float32 matmul \(1024x1024 @ 1024x1024, best of 3, \d+ threads\): float32 [\d.]+ ms .* [\d.]+x\n/);
  t.regex(result.stdout, /--dtype auto picks:\n {2}cpu +(float32|bfloat16) \(/);
});

test('healbert doctor --json is machine-readable', (t) => {
  const result = runCli(['doctor', '--json', '--size', '8']);
  t.is(result.status, 0, result.stderr);
  const report = JSON.parse(result.stdout) as {
    ok: boolean;
    runtime: { torchVersion: string };
    cpu: { model: string | null; nativeBf16: boolean | null; bf16Flags: string[]; bf16Matmul: { speedup: number } };
    dtypeAuto: Record<string, { dtype: string; reason: string }>;
  };
  t.true(report.ok);
  t.true(Array.isArray(report.cpu.bf16Flags));
  t.true(report.cpu.bf16Matmul.speedup > 0);
  t.regex(report.dtypeAuto.cpu?.dtype ?? '', /^(float32|bfloat16)$/);
  t.regex(report.runtime.torchVersion, /^\d+\./);
});

test('every command has --help, and the overview lists them', (t) => {
  const overview = runCli(['--help']);
  t.is(overview.status, 0);
  const names = [...overview.stdout.matchAll(/^ {2}(\S+) {2}/gm)].map((m) => m[1] as string);
  t.true(names.includes('doctor'));
  for (const name of names) {
    const help = runCli([name, '--help']);
    t.is(help.status, 0, name);
    t.regex(help.stdout, new RegExp(`^Usage: healbert ${name}`), name);
  }
});

test('usage errors exit 2 and name the problem', (t) => {
  const unknown = runCli(['frobnicate']);
  t.is(unknown.status, 2);
  t.regex(unknown.stderr, /unknown command 'frobnicate'/);
  const badOption = runCli(['doctor', '--nope']);
  t.is(badOption.status, 2);
  t.regex(badOption.stderr, /--nope/);
  const badValue = runCli(['doctor', '--size', 'huge']);
  t.is(badValue.status, 2);
  t.regex(badValue.stderr, /--size must be an integer, got 'huge'/);
});

test('--version prints the package version', (t) => {
  const result = runCli(['--version']);
  t.regex(result.stdout.trim(), /^\d+\.\d+\.\d+$/);
});
