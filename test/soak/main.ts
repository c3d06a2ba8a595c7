/**
 * `pnpm soak`: the bounded soak with fault injection.
 *
 *   node test/dist/soak/main.js [--seed N] [--duration S] [--json] [--rss-report] [--malloc fixed|default] [--threads pooled|fresh] [--cold] [--leak-mib N]
 *
 * `--rss-report` logs what RSS consists of (memory-map.ts) after every epoch.
 * `--malloc default` keeps glibc's dynamic malloc thresholds (the run then holds
 * RSS only to a backstop; README.md shows the difference). Default `fixed`.
 * `--threads fresh` starts new queue threads for every relay instead of reusing
 * a pool's (README.md: what each new thread leaves behind). Default `pooled`.
 * `--cold` takes the RSS baseline in the cold process instead of after a
 * warm-up relay lifetime (what the first relay keeps for good then counts).
 * `--leak-mib N` leaks N MiB of resident native memory after every epoch, on
 * purpose, to check that the RSS assertion fails on a leak (README.md).
 *
 * Needs root (CAP_NET_ADMIN). Prints the report; exits 0 when every promise
 * held, 1 when one broke, 2 on bad arguments or missing privileges. Namespaces
 * (`tp-soak-*`) are deleted at the end, on failure and on SIGINT/SIGTERM.
 */
import { netAdminMissing, type TestContext } from '@tunpipe/testkit';
import { runSoak } from './soak-run.js';
import { formatReport, reportJson } from './soak-report.js';

function usage(message: string): never {
  process.stderr.write(`soak: ${message}\nusage: node test/dist/soak/main.js [--seed N] [--duration SECONDS] [--json] [--rss-report] [--malloc fixed|default] [--threads pooled|fresh] [--cold] [--leak-mib N]\n`);
  process.exit(2);
}

function parse(argv: readonly string[]): { seed: number; durationS: number; json: boolean; rssReport: boolean; malloc: 'fixed' | 'default'; threads: 'pooled' | 'fresh'; warmUp: boolean; leakMib: number } {
  let seed = Date.now() % 1_000_000;
  let durationS = 120;
  let json = false;
  let rssReport = false;
  let malloc: 'fixed' | 'default' = 'fixed';
  let threads: 'pooled' | 'fresh' = 'pooled';
  let warmUp = true;
  let leakMib = 0;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): number => {
      const v = argv[++i];
      if (v === undefined || !/^\d+$/.test(v)) usage(`${a} needs a non-negative integer`);
      return Number(v);
    };
    if (a === '--seed') seed = value();
    else if (a === '--duration') durationS = value();
    else if (a === '--json') json = true;
    else if (a === '--rss-report') rssReport = true;
    else if (a === '--cold') warmUp = false;
    else if (a === '--leak-mib') leakMib = value();
    else if (a === '--malloc') {
      const v = argv[++i];
      if (v !== 'fixed' && v !== 'default') usage('--malloc needs fixed or default');
      malloc = v;
    } else if (a === '--threads') {
      const v = argv[++i];
      if (v !== 'pooled' && v !== 'fresh') usage('--threads needs pooled or fresh');
      threads = v;
    }
    else if (a === '--help' || a === '-h') usage('help');
    else usage(`unknown argument ${a}`);
  }
  if (durationS < 1 || durationS > 3600) usage('--duration must be 1..3600 seconds');
  return { seed: seed >>> 0, durationS, json, rssReport, malloc, threads, warmUp, leakMib };
}

const args = parse(process.argv.slice(2));
const missing = netAdminMissing();
if (missing !== null) usage(`cannot run: ${missing}`);

/** Teardowns registered by the namespaces, run at the end (newest first). */
const teardowns: Array<() => unknown> = [];
const ctx: TestContext = { teardown: (fn) => void teardowns.push(fn) };
const log = args.json ? () => undefined : (line: string) => process.stderr.write(`${line}\n`);
log(`soak: seed ${args.seed}, ${args.durationS} s of faults (replay with --seed ${args.seed})`);
const result = await runSoak(ctx, { seed: args.seed, durationMs: args.durationS * 1000, log, rssReport: args.rssReport, malloc: args.malloc, threads: args.threads, warmUp: args.warmUp, injectLeakBytes: args.leakMib * 1048576 });
for (const fn of teardowns.reverse()) await fn();
process.stdout.write(args.json ? JSON.stringify(reportJson(result), null, 2) + '\n' : formatReport(result) + '\n');
process.exitCode = result.violations.length === 0 ? 0 : 1;
