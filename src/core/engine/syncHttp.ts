import type { HttpRequest, HttpResponse } from '../model/engine';
import { MessageChannel, MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';


type Reply = { seq: number; ok: true; response: HttpResponse } | { seq: number; ok: false; error: string };

// The helper thread: does the fetch, posts the reply, then wakes the waiting runtime thread.
const HELPER = `
const { workerData } = require('node:worker_threads');
const { port, flag } = workerData;
port.on('message', async ({ seq, req }) => {
  let reply;
  try {
    const res = await fetch(req.url, { method: req.method, headers: req.headers, body: req.body ?? undefined,
      redirect: 'manual', signal: AbortSignal.timeout(req.timeoutMs) });
    const chunks = [];
    let size = 0;
    for await (const chunk of res.body ?? []) {
      size += chunk.byteLength;
      if (size > req.maxResponseBytes) throw new Error('the response is over ' + req.maxResponseBytes + ' bytes (max_http_response_bytes)');
      chunks.push(chunk);
    }
    const body = new Uint8Array(size);
    let at = 0;
    for (const c of chunks) { body.set(c, at); at += c.byteLength; }
    reply = { seq, ok: true, response: { status: res.status, headers: Object.fromEntries(res.headers), body } };
  } catch (e) {
    reply = { seq, ok: false, error: e && e.cause && e.cause.message ? e.message + ': ' + e.cause.message : String(e && e.message || e) };
  }
  port.postMessage(reply);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
});
`;

/**
 * HTTP for plugins, synchronously: a plugin's host function cannot await, so the request runs on a
 * helper thread while the runtime thread waits on a shared flag, then takes the reply off the port.
 */
export class SyncHttpClient {
  private port: MessagePort | undefined;
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  private seq = 0;

  request(req: HttpRequest): HttpResponse {
    const port = this.start();
    const seq = ++this.seq;
    while (receiveMessageOnPort(port)) {
      // drop replies to requests that timed out before
    }
    port.postMessage({ seq, req });
    const deadline = Date.now() + req.timeoutMs + 1000;
    for (;;) {
      const received = receiveMessageOnPort(port);
      if (received) {
        const reply = received.message as Reply;
        if (reply.seq !== seq) continue;
        if (!reply.ok) throw new Error(reply.error);
        return reply.response;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no response within ${req.timeoutMs} ms`);
      Atomics.wait(this.flag, 0, 0, left);
      Atomics.store(this.flag, 0, 0);
    }
  }

  /** The helper thread starts with the first request; it ends with the runtime thread. */
  private start(): MessagePort {
    if (this.port) return this.port;
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(HELPER, { eval: true, workerData: { port: port2, flag: this.flag }, transferList: [port2] });
    worker.unref();
    this.port = port1;
    return port1;
  }
}
