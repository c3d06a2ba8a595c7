/** @tunpipe/streams */
export {};
