// The detail of the selected call: what it was, its full input and output (as far as they were kept),
// and what can be done with it. Plugin text goes in through textContent only.
import type { BytesDetail, CallDetail, FrameView, FromWebview, SpanView } from '../../src/shared/protocol';
import { calleeLabel } from '../../src/shared/traceRecords';
import { formatBytes, formatFuel, formatMs, span } from './format';

function button(action: string, text: string, title: string, disabled = false): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.dataset.action = action;
  b.textContent = text;
  b.title = title;
  b.disabled = disabled;
  return b;
}

function part(name: 'input' | 'output', s: SpanView, bytes: BytesDetail | null, loading: boolean): HTMLElement {
  const section = document.createElement('section');
  section.className = 'detail-part';
  section.setAttribute('aria-label', name);
  const head = document.createElement('div');
  head.className = 'detail-part-head';
  const size = name === 'input' ? s.inputBytes : s.outputBytes;
  const cut = bytes && bytes.kept < bytes.bytes ? `, ${formatBytes(bytes.kept)} kept` : '';
  head.append(span('detail-part-name', name === 'input' ? 'Input' : 'Output'), span('detail-size', `${formatBytes(size)}${cut}`));
  head.append(button(`copy-${name}`, 'Copy', `Copy the ${name} (text as it is, other bytes in base64)`, !bytes || bytes.kind === 'empty'));
  const body = document.createElement('pre');
  body.className = `detail-bytes kind-${bytes?.kind ?? 'none'}`;
  body.tabIndex = 0;
  body.textContent = bytes
    ? bytes.text
    : loading
      ? '…'
      : s.status === 'running'
        ? '(the call is running)'
        : name === 'output' && s.status === 'error'
          ? '(no output: the call failed)'
          : `(not kept any more: the runtime keeps the bytes of its last calls while tracing is on)`;
  section.append(head, body);
  return section;
}

/** A failed call's stack, a frame a line; a frame whose source is in the workspace is a button that opens it. */
function stackOf(frames: readonly FrameView[]): HTMLElement {
  const list = document.createElement('ol');
  list.className = 'detail-stack';
  list.setAttribute('aria-label', 'stack');
  frames.forEach((f, index) => {
    const item = document.createElement('li');
    item.className = f.crossing ? 'detail-frame crossing' : 'detail-frame';
    if (f.openable) {
      const open = button('open-frame', f.text, 'Open the source at this line');
      open.dataset.frame = String(index);
      item.append(open);
    } else item.textContent = f.text;
    list.append(item);
  });
  return list;
}

/** The detail pane's content for a call; `detail` is null until the extension has sent it. */
export function detailOf(s: SpanView, detail: CallDetail | null): HTMLElement[] {
  const head = document.createElement('div');
  head.className = 'detail-head';
  const title = span('detail-title', calleeLabel(s));
  const meta = span('detail-meta', `${s.caller} · ${s.status === 'running' ? 'running…' : formatMs(s.durationMs)}${s.fuel !== undefined ? ` · ${formatFuel(s)}` : ''} · ${s.status}`);
  head.append(title, meta);
  const out: HTMLElement[] = [head];
  if (s.error) {
    const err = span('detail-error', s.error);
    err.setAttribute('role', 'note');
    out.push(err);
  }
  if (detail?.frames?.length) out.push(stackOf(detail.frames));
  const loading = detail === null && s.status !== 'running';
  out.push(part('input', s, detail?.input ?? null, loading));
  if (s.status !== 'error' || (detail?.output && detail.output.bytes > 0)) out.push(part('output', s, detail?.output ?? null, loading));
  const actions = document.createElement('div');
  actions.className = 'detail-actions';
  const why = detail?.noRerun ?? (detail ? null : 'loading');
  actions.append(
    button('rerun', 'Re-run', why ? `Cannot re-run: ${why}` : 'Call the same plugin and function with the same input again', why !== null),
    button('add', 'Add to Call File…', why ? `Cannot add: ${why}` : 'Append this call (plugin, function, input) to a call file', why !== null),
  );
  out.push(actions);
  return out;
}

/** What a button of the detail of call `spanId` asks the extension for. */
export function detailAction(button: HTMLButtonElement, spanId: number): FromWebview | undefined {
  switch (button.dataset.action) {
    case 'copy-input': return { type: 'copy', spanId, part: 'input' };
    case 'copy-output': return { type: 'copy', spanId, part: 'output' };
    case 'rerun': return { type: 'rerun', spanId };
    case 'add': return { type: 'addToCallFile', spanId };
    case 'open-frame': return { type: 'openFrame', spanId, index: Number(button.dataset.frame) };
    default: return undefined;
  }
}
