#!/usr/bin/env node
// The installed `healbert` command. The TypeScript sources are compiled to dist/ by `npm install`
// (the prepare script) or `npm run build`.
import { runCli } from '../dist/cli/main.js';

await runCli();
