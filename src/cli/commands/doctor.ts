import { type DoctorReport, doctor } from '../../doctor.js';
import { type Command, numberOption } from '../command.js';

function formatBytes(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
}

export function formatDoctorReport(report: DoctorReport): string {
  const r = report.runtime;
  const lines = [
    `healbert ${report.healbert} on Node ${report.node} (${report.platform})`,
    `libtorch ${r.torchVersion} from ${r.torchSource} (compiled against; libraries in ${r.torchLibraryDir || 'unknown'})`,
    `  loaded: libtorch ${r.loadedTorch.version || 'unknown'} from ${r.loadedTorch.libraryDir || 'unknown'}${r.torchMismatch ? ` MISMATCH: ${r.torchMismatch}` : ' (the same)'}`,
    `  C++${r.cxxStandard}, C++11 ABI: ${r.cxx11Abi ? 'yes' : 'no'}, MKL-DNN: ${r.mkldnnAvailable ? 'yes' : 'no'}, CPU threads: ${r.numThreads}, freed host memory: ${r.hostMemory === 'kept' ? 'kept for reuse (HEALBERT_HOST_MEMORY=release returns it)' : r.hostMemory}`,
    `CUDA: ${r.cudaAvailable ? `available, ${r.cudaDevices.length} device(s)` : r.builtWithCuda ? 'built with CUDA, no device (runs on the CPU)' : 'not in this build (CPU-only libtorch)'}`,
  ];
  for (const d of r.cudaDevices) {
    lines.push(`  cuda:${d.index}  ${d.name || '(name unknown)'}  compute ${d.capability}  ${formatBytes(d.totalMemory)}`);
  }
  if (r.cudaAvailable) lines.push(`  cuDNN: ${r.cudnnAvailable ? 'yes' : 'no'}`);
  lines.push('Smoke test (float32 matmul vs a CPU float64 reference):');
  for (const c of report.checks) {
    if ('error' in c) {
      lines.push(`  ${c.device.padEnd(7)} FAILED [${c.error.code}] ${c.error.message}`);
    } else {
      lines.push(
        `  ${c.device.padEnd(7)} ${c.ok ? 'ok    ' : 'WRONG '} ${c.size}x${c.size} in ${c.milliseconds.toFixed(2)} ms, max |diff| ${c.maxAbsDiff.toExponential(2)}`,
      );
    }
  }
  const cpu = report.cpu;
  const flags =
    cpu.nativeBf16 === null ? 'unknown (CPU flags unreadable off Linux)' : cpu.nativeBf16 ? `yes (${cpu.bf16Flags.join(', ')})` : 'no';
  lines.push(`CPU: ${cpu.model ?? '(model unknown)'}; native bf16: ${flags}`);
  const m = cpu.bf16Matmul;
  if ('error' in m) {
    lines.push(`  bf16 matmul: FAILED [${m.error.code}] ${m.error.message}`);
  } else {
    lines.push(
      `  bf16 vs float32 matmul (${m.m}x${m.k} @ ${m.k}x${m.n}, best of ${m.reps}, ${r.numThreads} threads): ` +
        `float32 ${m.float32Ms.toFixed(1)} ms (${m.float32Gflops.toFixed(0)} GFLOP/s), bfloat16 ${m.bfloat16Ms.toFixed(1)} ms (${m.bfloat16Gflops.toFixed(0)} GFLOP/s): ${m.speedup.toFixed(2)}x`,
    );
  }
  lines.push('--dtype auto picks:');
  for (const [device, d] of Object.entries(report.dtypeAuto)) lines.push(`  ${device.padEnd(7)} ${d.dtype} (${d.reason})`);
  lines.push(report.ok ? 'All checks passed.' : 'Some checks FAILED.');
  return `${lines.join('\n')}\n`;
}

export const doctorCommand: Command = {
  name: 'doctor',
  summary:
    'Show the libtorch healbert runs on and its devices, run a tensor op on each device, and measure what bfloat16 gains on the CPU.',
  options: {
    json: { type: 'boolean', description: 'print the report as JSON' },
    size: { type: 'string', valueName: 'n', description: 'side of the test matmul', defaultText: '256' },
  },
  examples: ['healbert doctor', 'healbert doctor --json'],
  async run({ values, io }) {
    const size = numberOption(values, 'size', { min: 1, max: 8192, integer: true });
    const report = await doctor(size === undefined ? {} : { size });
    io.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatDoctorReport(report));
    return report.ok ? 0 : 1;
  },
};
