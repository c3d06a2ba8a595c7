/** Test handler module that exports no handle(): loading it must fail cleanly. */
export const notAHandler = 42;
