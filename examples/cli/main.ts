#!/usr/bin/env node
/** `tunpipe`: the command-line tool (run-cli.ts does everything). */
import { runCli } from './run-cli.js';

process.exitCode = await runCli(process.argv.slice(2));
