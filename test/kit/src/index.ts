/** Test support for tunpipe: private namespaces, outside oracles, CI gating. */
export const placeholderKit = true;
