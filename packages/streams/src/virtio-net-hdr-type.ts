// provisional until @tunpipe/offload exports VirtioNetHdr; removed then
export interface VirtioNetHdr { flags: number; gsoType: number; hdrLen: number; gsoSize: number; csumStart: number; csumOffset: number }
