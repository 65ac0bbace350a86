import { runCli } from '../../src/cli/main.js';

await runCli();
