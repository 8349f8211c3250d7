// How a debug-call session steps: into an export from the entry pause, past the kernel and the
// runtime's JavaScript, and on from a stop V8 left armed. The rules are measured in js-debug (the
// extension tests in 17-debug); ARCHITECTURE.md, "Debugging a call", says why each is there.
import * as vscode from 'vscode';
import { isKernelDisassembly, isKernelFrameName, PLUGIN_ENTRY_FILE } from '../core';

/**
 * Follows a debug-call session: a pause in the plugin entry step (a `debugger` statement just
 * before an export is entered) steps on into the export, so the session stops on its first
 * instruction; a step that ends in the kernel's wasm (the runtime's, as its JavaScript is) goes on
 * out of it, so Step Into on a host call lands in the callee's entry rather than in the kernel.
 * `ended` runs when a person ends the session (before the debugger detaches).
 */
export function followDebugCall(session: vscode.DebugSession, ended: () => void): vscode.DebugAdapterTracker {
  const state: SessionState = { kernelSources: new Map(), lastRun: undefined };
  return {
    onWillReceiveMessage: (message: { type?: string; command?: string }) => {
      if (message.type !== 'request') return;
      if (message.command === 'disconnect' || message.command === 'terminate') ended();
      if (message.command !== undefined && RUN_REQUESTS.has(message.command)) state.lastRun = message.command;
    },
    onDidSendMessage: (message: { type?: string; event?: string; body?: { threadId?: number; reason?: string } }) => {
      if (message.type !== 'event' || message.event !== 'stopped') return;
      const threadId = message.body?.threadId;
      if (threadId === undefined) return;
      void stepOnFromRuntime(session, threadId, message.body?.reason ?? '', state);
    },
  };
}

/** The requests that run the debuggee on (or stop it): the last one tells a stale stop from an asked-for one. */
const RUN_REQUESTS = new Set(['continue', 'next', 'stepIn', 'stepOut', 'pause', 'stepBack', 'reverseContinue', 'goto', 'restartFrame']);

interface SessionState {
  /** Whether a wasm source (by reference) is the kernel's own module, read once. */
  kernelSources: Map<number, Promise<boolean>>;
  lastRun: string | undefined;
}

interface TopFrame {
  name: string;
  source?: { name?: string; path?: string; sourceReference?: number; presentationHint?: string };
  presentationHint?: string;
}

const isWasmSource = (frame: TopFrame | undefined): boolean => frame !== undefined && /\.wat$/.test(frame.source?.path ?? frame.source?.name ?? '');

async function stepOnFromRuntime(session: vscode.DebugSession, threadId: number, reason: string, state: SessionState): Promise<void> {
  try {
    const trace = (await session.customRequest('stackTrace', { threadId, startFrame: 0, levels: 2 })) as { stackFrames: TopFrame[] };
    const [top, caller] = trace.stackFrames;
    if (!top) return;
    const source = top.source;
    if (source && [source.name, source.path].some((n) => n?.endsWith(PLUGIN_ENTRY_FILE))) {
      await session.customRequest('stepIn', { threadId });
      return;
    }
    if (!isWasmSource(top)) {
      // a step that the debugger let stop in skipped JavaScript (a getter of Node's, on the way
      // through a host call) goes on: that code is the runtime's
      if (reason === 'step' && (top.presentationHint ?? source?.presentationHint) === 'deemphasize') await session.customRequest('stepIn', { threadId });
      return;
    }
    const kernel = await inKernel(session, top, state.kernelSources);
    if (reason === 'step' && kernel) {
      // called from wasm (a plugin, or the kernel itself): back out to it. From the runtime's
      // JavaScript (a host call such as call_plugin, or an export's return): Step Into on, past the
      // skipped JavaScript, to the next frame that is not: the callee's export, or the plugin the
      // host call returns to.
      await session.customRequest(isWasmSource(caller) ? 'stepOut' : 'stepIn', { threadId });
      return;
    }
    if (reason === 'step' && caller && isKernelFrameName(caller.name)) {
      // a function of the kernel's own that has no name, called by one that has: back out of it
      await session.customRequest('stepOut', { threadId });
      return;
    }
    // Wasm has no `debugger` statement: a pause in a plugin frame after Continue, that no one asked
    // for, is a step that a pause at a callee's entry cut short, left armed by V8 in the caller's
    // frame (it fires when the callee returns). Continue means go on.
    if (reason === 'pause' && !kernel && state.lastRun === 'continue') await session.customRequest('continue', { threadId });
  } catch {
    // the session ended meanwhile
  }
}

/** Whether a frame is the kernel's: by its name (merged), or its module's disassembly (a kernel of its own), read once a module. */
function inKernel(session: vscode.DebugSession, frame: TopFrame, kernelSources: Map<number, Promise<boolean>>): Promise<boolean> {
  if (isKernelFrameName(frame.name)) return Promise.resolve(true);
  const ref = frame.source?.sourceReference;
  if (!ref || !/\.wat$/.test(frame.source?.path ?? frame.source?.name ?? '')) return Promise.resolve(false);
  let known = kernelSources.get(ref);
  if (!known) {
    known = Promise.resolve(session.customRequest('source', { source: frame.source, sourceReference: ref })).then(
      (r: { content?: string }) => isKernelDisassembly(r.content ?? ''),
      () => false,
    );
    kernelSources.set(ref, known);
  }
  return known;
}
