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
    `  C++${r.cxxStandard}, C++11 ABI: ${r.cxx11Abi ? 'yes' : 'no'}, MKL-DNN: ${r.mkldnnAvailable ? 'yes' : 'no'}, CPU threads: ${r.numThreads}`,
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
  lines.push(report.ok ? 'All checks passed.' : 'Some checks FAILED.');
  return `${lines.join('\n')}\n`;
}

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'Show the libtorch healbert runs on and its devices, and run a tensor op on each device.',
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
