/**
 * Every `healbert` command, in the order `healbert --help` lists them. Importing this runs nothing: the CLI's
 * dispatcher (../main.ts) and the docs test (test/docs.test.ts, which checks the command lines in README.md and
 * docs/ against these option tables) both read it.
 */
import type { Command } from '../command.js';
import { corruptCommand } from './corrupt.js';
import { dataCommand } from './data.js';
import { demoCommand } from './demo.js';
import { doctorCommand } from './doctor.js';
import { inspectCommand } from './inspect.js';
import { predictCommand } from './predict.js';
import { pretrainCommand } from './pretrain.js';
import { reportCommand } from './report.js';
import { scanCommand } from './scan.js';
import { sweepCommand } from './sweep.js';
import { exportCommand, runCommand, statusCommand } from './sweep-tools.js';
import { tokenizeCommand } from './tokenize.js';

export const commands: Command[] = [
  demoCommand,
  doctorCommand,
  inspectCommand,
  predictCommand,
  corruptCommand,
  scanCommand,
  tokenizeCommand,
  dataCommand,
  pretrainCommand,
  sweepCommand,
  runCommand,
  statusCommand,
  exportCommand,
  reportCommand,
];
