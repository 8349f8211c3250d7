import * as inspector from 'node:inspector';
import type { InspectorAddress } from '../model/debugging';
import { IpcError } from '../model/errors';

const LOOPBACK = '127.0.0.1';
let sigintKept = false;

/**
 * Opens the V8 inspector of this (runtime) process on a free loopback port, never another
 * interface; the plugins stay live. A debugged call runs with `breakOnSigint`: the face ends it
 * with SIGINT when its session ends, and the handler installed here keeps a SIGINT that arrives
 * after the call from ending the process.
 */
export function openInspector(): InspectorAddress {
  if (!inspector.url()) inspector.open(0, LOOPBACK, false);
  const url = inspector.url();
  const parsed = url ? new URL(url) : undefined;
  if (!url || !parsed || parsed.hostname !== LOOPBACK) {
    inspector.close();
    throw new IpcError('host', `the runtime's inspector did not open on ${LOOPBACK} (${url ?? 'no address'})`);
  }
  if (!sigintKept) {
    sigintKept = true;
    process.on('SIGINT', () => undefined);
  }
  return { url, host: parsed.hostname, port: Number(parsed.port), pid: process.pid };
}

export function closeInspector(): void {
  if (inspector.url()) inspector.close();
}
