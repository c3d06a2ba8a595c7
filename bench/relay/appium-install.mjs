/**
 * Gets `appium-ios-tuntap` (the TUN addon on npm) for the relay suite without
 * making it a workspace dependency: `npm i appium-ios-tuntap` into a scratch
 * directory (kept between runs), then a load check in a child process. The
 * result says what was tried and what happened, for BENCHMARKS.md.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Default scratch directory for the addon. */
export const APPIUM_DIR = '/tmp/tunpipe-bench-appium';

const errorText = (e) => `${e.message ?? e}\n${e.stdout ?? ''}${e.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');

/** Whether the package's shipped prebuild for this platform loads here (else why not). */
function prebuildStatus(pkg) {
  const file = join(pkg, 'prebuilds', `${process.platform}-${process.arch}`, 'appium-ios-tuntap.node');
  if (!existsSync(file)) return 'no shipped prebuild for this platform';
  try {
    execFileSync(process.execPath, ['-e', `require(${JSON.stringify(file)})`], { encoding: 'utf8', stdio: 'pipe' });
    return 'the shipped prebuild loads';
  } catch (e) {
    return `the shipped prebuild does not load: ${(e.stderr ?? '').split('\n').find((l) => l.startsWith('Error')) ?? e.message}`;
  }
}

/**
 * Installs (if needed) and loads the addon in `dir`. Resolves with
 * `{ ok, dir, version, native, tried: [commands], error }`; `native` names the
 * binary node-gyp-build picks (compiled here by node-gyp, or a shipped prebuild).
 */
export function ensureAppiumTuntap(dir = APPIUM_DIR) {
  const tried = [];
  const pkg = join(dir, 'node_modules', 'appium-ios-tuntap');
  try {
    if (!existsSync(join(pkg, 'package.json'))) {
      mkdirSync(dir, { recursive: true });
      if (!existsSync(join(dir, 'package.json'))) execFileSync('npm', ['init', '-y'], { cwd: dir, stdio: 'ignore' });
      tried.push(`npm i appium-ios-tuntap (in ${dir})`);
      execFileSync('npm', ['i', '--no-audit', '--no-fund', 'appium-ios-tuntap'], { cwd: dir, encoding: 'utf8', timeout: 300_000, stdio: 'pipe' });
    }
    const version = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')).version;
    const check = `const { createRequire } = await import('node:module');
      const entry = createRequire(${JSON.stringify(join(dir, 'package.json'))}).resolve('appium-ios-tuntap');
      const m = await import(entry);
      if (typeof m.TunTap !== 'function') throw new Error('no TunTap export');
      new m.TunTap('tpapcheck');`;
    tried.push('load check: import the package, construct a TunTap (loads the native binding)');
    execFileSync(process.execPath, ['--input-type=module', '-e', check], { encoding: 'utf8', timeout: 60_000, stdio: 'pipe' });
    const native = existsSync(join(pkg, 'build', 'Release', 'tuntap.node'))
      ? 'build/Release/tuntap.node (compiled here by node-gyp at install)'
      : `prebuilds/${process.platform}-${process.arch} (shipped prebuild)`;
    return { ok: true, dir, version, native, prebuild: prebuildStatus(pkg), tried, error: null };
  } catch (e) {
    return { ok: false, dir, version: null, native: null, prebuild: prebuildStatus(pkg), tried, error: errorText(e) };
  }
}
