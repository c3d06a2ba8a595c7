/** @tunpipe/linux-mq */
export {};
