/** Table tests of refused options: what an attempt to open something ended with. */

/**
 * Runs `open`; resolves with the error's `code` when it threw (or
 * `uncoded <error>` when it carried none), else closes what it opened and
 * resolves with `'opened without error'`. Compare the result with the row's code.
 */
export async function refusalCode(open: () => Promise<{ close(): unknown }>): Promise<string> {
  let opened: { close(): unknown };
  try {
    opened = await open();
  } catch (e) {
    return (e as { code?: string }).code ?? `uncoded ${String(e)}`;
  }
  await opened.close();
  return 'opened without error';
}
