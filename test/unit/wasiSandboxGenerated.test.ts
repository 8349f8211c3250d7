// Generated cases: a random tree under a grant (directories, files, links in and out, dangling
// links, loops), random guest paths, and each result checked against a model that resolves the
// path in the tree as a grant must: inside to an entry, or escape (EPERM), missing (ENOENT),
// loop (ELOOP), through a file (ENOTDIR). Seeded: a failure names its seed, case and path.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { closeHosts, startHost } from './helpers';
import { prng } from './hostileInput';
import { E, FOLLOW, O, Op, R, removeSandboxPlugin, run, sandboxPlugin } from './wasiSandboxPlugin';

const SECRET = 'SECRET: outside every grant';
const NAMES = ['a', 'b', 'c', 'd'];
const MAX_LINKS = 40;

type Entry = { type: 'dir' } | { type: 'file'; content: string } | { type: 'link'; target: string };
/** What the model says a path leads to. */
type Outcome = { kind: 'file'; rel: string } | { kind: 'dir'; rel: string } | { kind: 'link'; rel: string } | { kind: 'missing'; rel: string } | { errno: number };

class Model {
  readonly entries = new Map<string, Entry>([['', { type: 'dir' }]]);

  /** The model of a grant: every step checked against the tree, links read from their directory. */
  resolve(guestPath: string, final: 'follow' | 'nofollow' | 'name'): Outcome {
    if (guestPath === '') return { errno: E.NOENT };
    if (guestPath.startsWith('/')) return { errno: E.PERM };
    let p = guestPath;
    let trailing = false;
    if (final === 'name') {
      while (p.endsWith('/')) p = p.slice(0, -1);
      trailing = p !== guestPath;
      const last = p.split('/').pop();
      if (last === '.' || last === '..') return { errno: E.INVAL };
    }
    const queue = p.split('/');
    const at: string[] = [];
    let links = 0;
    while (queue.length) {
      const c = queue.shift() as string;
      const last = queue.length === 0;
      if (c === '..') {
        if (!at.length) return { errno: E.PERM };
        at.pop();
      }
      if (c === '' || c === '.' || c === '..') {
        if (last) return { kind: 'dir', rel: at.join('/') };
        continue;
      }
      const rel = [...at, c].join('/');
      const entry = this.entries.get(rel);
      if (!entry) return last ? { kind: 'missing', rel } : { errno: E.NOENT };
      if (entry.type === 'link') {
        if (last && final !== 'follow') return trailing ? { errno: E.NOTDIR } : { kind: 'link', rel };
        if (++links > MAX_LINKS) return { errno: E.LOOP };
        if (entry.target.startsWith('/')) return { errno: E.PERM };
        queue.unshift(...entry.target.split('/'));
        continue;
      }
      if (entry.type === 'dir') {
        at.push(c);
        if (last) return { kind: 'dir', rel };
        continue;
      }
      if (!last || trailing) return { errno: E.NOTDIR };
      return { kind: 'file', rel };
    }
    return { kind: 'dir', rel: at.join('/') };
  }
}

function randomPath(rand: () => number, pool: string[], max: number): string {
  const n = Math.floor(rand() * (max + 1));
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(pool[Math.floor(rand() * pool.length)]);
  return parts.join('/');
}

/** A random tree, made on disk and in the model together. */
function buildTree(rand: () => number, base: string, grant: string): Model {
  const model = new Model();
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
  const fill = (rel: string, depth: number) => {
    for (const name of NAMES) {
      const r = rand();
      if (r < 0.15) continue;
      const child = rel ? `${rel}/${name}` : name;
      const host = path.join(grant, child);
      if (r < 0.4 && depth < 3) {
        fs.mkdirSync(host);
        model.entries.set(child, { type: 'dir' });
        fill(child, depth + 1);
      } else if (r < 0.65) {
        const content = `file ${child}`;
        fs.writeFileSync(host, content);
        model.entries.set(child, { type: 'file', content });
      } else {
        const kind = rand();
        const target =
          kind < 0.08 ? path.join(base, 'secret.txt')
          : kind < 0.14 ? path.join(grant, pick(NAMES))
          : kind < 0.2 ? name // itself
          : kind < 0.3 ? `${'../'.repeat(depth + 1)}secret.txt`
          : randomPath(rand, [...NAMES, '..', '..', '.', 'secret.txt'], 4) || '.';
        fs.symlinkSync(target, host);
        model.entries.set(child, { type: 'link', target });
      }
    }
  };
  fill('', 0);
  return model;
}

describe('WASI grants hold: generated trees and paths against a model', () => {
  afterEach(closeHosts);
  after(removeSandboxPlugin);
  const outcomes = new Map<string, number>();

  for (const seed of [1, 2, 3, 4, 5, 6]) {
    it(`seed ${seed}: reads, no-follow reads, filestat, creates and mkdirs agree with the model; the secret is never reached`, async () => {
      const rand = prng(seed);
      const base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), `ipc-gen-${seed}-`)));
      try {
        fs.writeFileSync(path.join(base, 'secret.txt'), SECRET);
        const grant = path.join(base, 'grant');
        fs.mkdirSync(grant);
        const model = buildTree(rand, base, grant);
        const host = startHost({ pluginDirs: [], wasi: true, allowedPaths: { [grant]: '/data' } });
        const id = (await host.register(await sandboxPlugin())).id;
        const pool = [...NAMES, ...NAMES, '.', '..', '..', '', 'secret.txt', 'new'];
        const seen = new Set<string>();
        const tally = (o: Outcome) => {
          const key = 'errno' in o ? `errno ${o.errno}` : o.kind;
          outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
        };
        for (let i = 0; i < 100; i++) {
          // half the paths start at an entry of the tree, so most reach something
          const known = [...model.entries.keys()].filter((k) => k !== '');
          const start = rand() < 0.5 && known.length ? known[Math.floor(rand() * known.length)] : '';
          const tail = randomPath(rand, pool, start ? 2 : 5);
          const guest = (rand() < 0.05 ? '/' : '') + (start && tail ? `${start}/${tail}` : start || tail);
          const op = Math.floor(rand() * 5);
          const where = `seed ${seed}, case ${i}: op ${op} "${guest}"`;
          seen.add(String(op));
          if (op <= 1) {
            const follow = op === 0;
            const r = await run(host, id, { op: Op.read, path: guest, flags: follow ? FOLLOW : 0, rightsBase: R.READ });
            const want = model.resolve(guest, follow ? 'follow' : 'nofollow');
            tally(want);
            assert.ok(!r.data.includes(SECRET), where);
            if ('errno' in want) assert.deepEqual([r.errno, r.value], [want.errno, 0], where);
            else if (want.kind === 'file') {
              const entry = model.entries.get(want.rel) as { content: string };
              assert.deepEqual([r.errno, r.data.toString()], [0, entry.content], where);
            } else if (want.kind === 'dir') assert.deepEqual([r.errno, r.value], [E.NOTCAPABLE, 1], `${where}: opened, then a directory's fd has no fd_read`);
            else if (want.kind === 'link') assert.equal(r.errno, E.LOOP, where);
            else assert.equal(r.errno, E.NOENT, where);
          } else if (op === 2) {
            const r = await run(host, id, { op: Op.filestat, path: guest, flags: 0 });
            const want = model.resolve(guest, 'nofollow');
            tally(want);
            if ('errno' in want) assert.equal(r.errno, want.errno, where);
            else if (want.kind === 'missing') assert.equal(r.errno, E.NOENT, where);
            else {
              const st = fs.lstatSync(path.join(grant, want.rel), { bigint: true });
              assert.deepEqual([r.errno, r.data[16], r.data.readBigUInt64LE(8)], [0, { file: 4, dir: 3, link: 7 }[want.kind], st.ino], where);
            }
          } else if (op === 3) {
            const r = await run(host, id, { op: Op.write, path: guest, flags: FOLLOW, oflags: O.CREAT, rightsBase: R.WRITE, data: '' });
            const want = model.resolve(guest, 'follow');
            tally(want);
            if ('errno' in want) assert.deepEqual([r.errno, r.value], [want.errno, 0], where);
            else if (want.kind === 'dir') assert.equal(r.errno, E.ISDIR, where);
            else {
              assert.equal(r.errno, 0, where);
              if (want.kind === 'missing') model.entries.set(want.rel, { type: 'file', content: '' });
            }
          } else {
            const r = await run(host, id, { op: Op.mkdir, path: guest });
            const want = model.resolve(guest, 'name');
            tally(want);
            if ('errno' in want) assert.equal(r.errno, want.errno, where);
            else if (want.kind === 'missing') {
              assert.equal(r.errno, 0, where);
              model.entries.set(want.rel, { type: 'dir' });
            } else assert.equal(r.errno, E.EXIST, where);
          }
        }
        assert.equal(seen.size, 5);
        assert.equal(fs.readFileSync(path.join(base, 'secret.txt'), 'utf8'), SECRET);
        assert.deepEqual(fs.readdirSync(base).sort(), ['grant', 'secret.txt'], 'nothing made beside the grant');
        // the disk agrees with the model: everything the plugin made is where the model put it
        for (const [rel, entry] of model.entries) {
          const st = fs.lstatSync(path.join(grant, rel));
          assert.equal(st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'link' : 'file', entry.type, rel);
        }
      } finally {
        fs.rmSync(base, { recursive: true, force: true });
      }
    });
  }

  it('the seeds together cover every outcome: a file, a directory, a link, missing, escape, loop, not a directory', () => {
    for (const kind of ['file', 'dir', 'link', 'missing', `errno ${E.PERM}`, `errno ${E.NOENT}`, `errno ${E.LOOP}`, `errno ${E.NOTDIR}`, `errno ${E.INVAL}`]) {
      assert.ok(outcomes.get(kind), `no case of ${kind}: ${JSON.stringify(Object.fromEntries(outcomes))}`);
    }
  });
});
