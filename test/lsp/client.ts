import type { ChildProcessWithoutNullStreams } from "node:child_process";

// A minimal language client for the tests: JSON-RPC with Content-Length framing over a child
// process's stdio.

export interface Message {
  id?: number;
  method?: string;
  params?: any;
  result?: any;
  error?: unknown;
}

export class Client {
  private buffer = Buffer.alloc(0);
  private nextId = 1;
  private readonly waiting = new Map<number, (m: Message) => void>();
  readonly notifications: Message[] = [];
  private readonly listeners: ((m: Message) => void)[] = [];

  constructor(private readonly proc: ChildProcessWithoutNullStreams) {
    proc.stdout.on("data", (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      for (;;) {
        const headerEnd = this.buffer.indexOf("\r\n\r\n");
        if (headerEnd < 0) return;
        const length = Number(/Content-Length: (\d+)/i.exec(this.buffer.subarray(0, headerEnd).toString())![1]);
        if (this.buffer.length < headerEnd + 4 + length) return;
        const m = JSON.parse(this.buffer.subarray(headerEnd + 4, headerEnd + 4 + length).toString()) as Message;
        this.buffer = this.buffer.subarray(headerEnd + 4 + length);
        if (m.id !== undefined && m.method === undefined) this.waiting.get(m.id)?.(m);
        else {
          this.notifications.push(m);
          for (const l of this.listeners) l(m);
        }
      }
    });
  }

  send(m: Message): void {
    const body = JSON.stringify({ jsonrpc: "2.0", ...m });
    this.proc.stdin.write(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  }

  request(method: string, params: unknown): Promise<Message> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.send({ id, method, params });
    });
  }

  notify(method: string, params: unknown): void {
    this.send({ method, params });
  }

  /** The next notification with this method that satisfies `pred`. */
  next(method: string, pred: (p: any) => boolean = () => true): Promise<any> {
    const seen = this.notifications.find((m) => m.method === method && pred(m.params));
    if (seen) {
      this.notifications.splice(this.notifications.indexOf(seen), 1);
      return Promise.resolve(seen.params);
    }
    return new Promise((resolve) => {
      const l = (m: Message) => {
        if (m.method === method && pred(m.params)) {
          this.listeners.splice(this.listeners.indexOf(l), 1);
          this.notifications.splice(this.notifications.indexOf(m), 1);
          resolve(m.params);
        }
      };
      this.listeners.push(l);
    });
  }
}
