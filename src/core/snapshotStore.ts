import * as fs from 'node:fs';
import { FileRefusal, readFileChecked } from './runtime/files';
import { firstByteDiff, formatSnapshots, lineDiff, parseSnapshots, Snapshot, snapshotBytes, SnapshotMode, snapshotOf } from './model/snapshots';

export type { SnapshotMode } from './model/snapshots';

/** The largest snapshot file read. */
const MAX_SNAPSHOT_FILE_BYTES = 256 * 1024 * 1024;

/** A verdict on an output against its snapshot, as the runner records it. */
export interface SnapshotVerdict {
  passed: boolean;
  reason?: string;
  expected?: string;
  actual?: string;
  diff?: string;
  note?: string;
  snapshot: true;
}

/** The snapshots of one call file: read once, checked call by call, written back when one changed. */
export class SnapshotStore {
  private stored: Map<string, Snapshot> | undefined;
  private refusal: string | undefined;
  private changed = false;

  constructor(
    readonly file: string,
    private readonly mode: SnapshotMode,
  ) {}

  private load(): Map<string, Snapshot> | undefined {
    if (this.stored || this.refusal) return this.stored;
    if (!fs.existsSync(this.file)) return (this.stored = new Map());
    try {
      this.stored = parseSnapshots(readFileChecked(this.file, MAX_SNAPSHOT_FILE_BYTES, 'snapshot files are at most 256 MiB').toString('utf8'));
    } catch (error) {
      this.refusal = `${this.file}: ${error instanceof FileRefusal ? error.reason : error instanceof Error ? error.message : String(error)}`;
    }
    return this.stored;
  }

  check(key: string, output: Uint8Array): SnapshotVerdict {
    const stored = this.load();
    if (!stored) return { passed: false, reason: `the snapshot file cannot be used: ${this.refusal ?? ''}`, snapshot: true };
    const now = snapshotOf(output);
    const before = stored.get(key);
    if (!before) {
      if (this.mode === 'ci') return { passed: false, reason: `no snapshot of "${key}" is stored (in CI snapshots are compared, never written: run extism-ipc test -u and commit ${this.file})`, snapshot: true };
      stored.set(key, now);
      this.changed = true;
      return { passed: true, note: 'snapshot written', snapshot: true };
    }
    const same = Buffer.compare(Buffer.from(snapshotBytes(before)), Buffer.from(output)) === 0;
    if (same) return { passed: true, snapshot: true };
    if (this.mode === 'update') {
      stored.set(key, now);
      this.changed = true;
      return { passed: true, note: 'snapshot updated', snapshot: true };
    }
    if ('output' in before && 'output' in now) {
      return { passed: false, reason: 'the output differs from its snapshot', expected: before.output, actual: now.output, diff: lineDiff(before.output, now.output), snapshot: true };
    }
    const diff = firstByteDiff(snapshotBytes(before), output);
    return {
      passed: false,
      reason: `the output bytes differ from its snapshot: ${diff}`,
      expected: 'output' in before ? before.output : before.base64,
      actual: 'output' in now ? now.output : now.base64,
      diff,
      snapshot: true,
    };
  }

  /** Writes the snapshots when one was written or updated. */
  save(): void {
    if (!this.changed || !this.stored) return;
    fs.writeFileSync(this.file, formatSnapshots(this.stored));
    this.changed = false;
  }
}
