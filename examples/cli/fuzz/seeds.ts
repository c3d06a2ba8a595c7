/**
 * The CLI fuzz corpus: command lines saved in the repository
 * (cli/fuzz/seeds/argv.json), read from the source tree next to the compiled suite.
 */
import { readFileSync } from 'node:fs';

/** The corpus: seed command lines (argv after `tunpipe`). */
export interface CliCorpus {
  argvs: string[][];
}

let corpus: CliCorpus | undefined;

/** Loads (once) and returns the corpus (dist/cli/fuzz -> cli/fuzz/seeds). */
export function loadCorpus(): CliCorpus {
  corpus ??= { argvs: JSON.parse(readFileSync(new URL('../../../cli/fuzz/seeds/argv.json', import.meta.url), 'utf8')) as string[][] };
  return corpus;
}
