/**
 * The process-exit safety net: cleanup actions that must run even when a test never
 * reaches its teardown (uncaught exception, process.exit, SIGINT/SIGTERM from the
 * runner's timeout). Actions are synchronous (`ip netns del`, `kill`).
 * SIGKILL cannot be caught; nothing can clean up after it.
 */

type Action = () => void;

const actions = new Set<Action>();
let installed = false;

const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** Runs every registered action once, newest first, swallowing their errors. */
export function runExitCleanup(): void {
  const pending = [...actions].reverse();
  actions.clear();
  for (const action of pending) {
    try {
      action();
    } catch {
      // best effort: the process is going away
    }
  }
}

function onSignal(signal: NodeJS.Signals): void {
  runExitCleanup();
  // Take our listeners away and raise the signal again so that the default action
  // (or the runner's own handler) ends the process as it would have without us.
  for (const s of SIGNALS) process.removeListener(s, onSignal);
  process.kill(process.pid, signal);
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', runExitCleanup);
  for (const s of SIGNALS) process.on(s, onSignal);
}

/** Registers `action` to run at process exit; the returned function unregisters it. */
export function onExitCleanup(action: Action): () => void {
  install();
  actions.add(action);
  return () => {
    actions.delete(action);
  };
}
