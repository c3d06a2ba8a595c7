/**
 * The part of a tap `Test` that testkit uses. Declared structurally so that testkit
 * does not depend on tap's types (and so that a plain object can stand in for `t`
 * in fixture programs that run outside tap).
 */
export interface TestContext {
  /** Registers a function that runs when the test ends, also when it failed. */
  teardown(fn: () => unknown): void;
}

/** A test context that can also record failures and skips (`requireNetAdmin`). */
export interface GatingContext extends TestContext {
  /** Records a failed assertion. */
  fail(message: string): unknown;
  /** `plan(0, reason)` ends the test as skipped, with `reason` shown in the report. */
  plan(n: number, comment?: string): void;
}
