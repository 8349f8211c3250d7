import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { PluginHost } from '../../src/core';
import { closeHosts, startHost } from './helpers';
import { APPEND, Command, E, FOLLOW, O, Op, R, removeSandboxPlugin, run, sandboxPlugin } from './wasiSandboxPlugin';

const SECRET = 'the secret outside every grant';
const FILETYPE = { DIRECTORY: 3, REGULAR: 4, SYMLINK: 7 };

/** Every file under a directory with its bytes, and every link with its target: what a test compares before and after. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const name of fs.readdirSync(path.join(dir, rel)).sort()) {
      const r = path.join(rel, name);
      const st = fs.lstatSync(path.join(dir, r));
      if (st.isSymbolicLink()) out[r] = `-> ${fs.readlinkSync(path.join(dir, r))}`;
      else if (st.isDirectory()) {
        out[r] = `dir ${st.mtimeMs}`;
        walk(r);
      } else out[r] = `${fs.readFileSync(path.join(dir, r), 'utf8')} ${st.mtimeMs} ${st.size}`;
    }
  };
  walk('');
  return out;
}

describe('WASI grants hold: paths resolved under the grant', () => {
  let base: string;
  let grant: string;
  let ro: string;
  let host: PluginHost;
  let id: number;
  const call = (c: Command) => run(host, id, c);
  const read = (p: string | Uint8Array, extra: Partial<Command> = {}) => call({ op: Op.read, path: p, flags: FOLLOW, rightsBase: R.READ, ...extra });

  beforeEach(async () => {
    base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ipc-sandbox-')));
    fs.writeFileSync(path.join(base, 'secret.txt'), SECRET);
    fs.mkdirSync(path.join(base, 'outside'));
    fs.writeFileSync(path.join(base, 'outside', 'f.txt'), SECRET);
    grant = path.join(base, 'grant');
    fs.mkdirSync(path.join(grant, 'sub', 'deep'), { recursive: true });
    fs.writeFileSync(path.join(grant, 'f.txt'), 'top');
    fs.writeFileSync(path.join(grant, 'sub', 'f.txt'), 'in sub');
    fs.writeFileSync(path.join(grant, 'sub', 'deep', 'f.txt'), 'deep');
    // links the user left in the grant
    fs.symlinkSync('../secret.txt', path.join(grant, 'out'));
    fs.symlinkSync(path.join(base, 'secret.txt'), path.join(grant, 'abs'));
    fs.symlinkSync(path.join(grant, 'f.txt'), path.join(grant, 'abs_in'));
    fs.symlinkSync('../outside', path.join(grant, 'outdir'));
    fs.symlinkSync('sub/f.txt', path.join(grant, 'in'));
    fs.symlinkSync('sub', path.join(grant, 'sublink'));
    fs.symlinkSync('../f.txt', path.join(grant, 'sub', 'up'));
    fs.symlinkSync('../../secret.txt', path.join(grant, 'sub', 'up2'));
    fs.symlinkSync('loop_b', path.join(grant, 'loop_a'));
    fs.symlinkSync('loop_a', path.join(grant, 'loop_b'));
    fs.symlinkSync('missing', path.join(grant, 'dangling'));
    ro = path.join(base, 'ro');
    fs.mkdirSync(path.join(ro, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(ro, 'r.txt'), 'read only');
    fs.writeFileSync(path.join(ro, 'sub', 'r.txt'), 'ro sub');
    fs.symlinkSync('r.txt', path.join(ro, 'rlink'));
    host = startHost({ pluginDirs: [], wasi: true, allowedPaths: { [grant]: '/data', [`ro:${ro}`]: '/ro' } });
    id = (await host.register(await sandboxPlugin())).id;
  });

  afterEach(async () => {
    await closeHosts();
    assert.equal(fs.readFileSync(path.join(base, 'secret.txt'), 'utf8'), SECRET, 'the secret is never changed');
    assert.deepEqual(fs.readdirSync(base).sort(), ['grant', 'outside', 'ro', 'secret.txt'], 'nothing appears beside the grants');
    assert.deepEqual(fs.readdirSync(path.join(base, 'outside')), ['f.txt']);
    fs.rmSync(base, { recursive: true, force: true });
  });
  after(removeSandboxPlugin);

  it('reads inside the grant, through links that stay inside, chains and directory links included', async () => {
    assert.deepEqual([(await read('f.txt')).errno, (await read('f.txt')).data.toString()], [0, 'top']);
    for (const [p, want] of [['in', 'in sub'], ['sublink/f.txt', 'in sub'], ['sub/up', 'top'], ['sublink/up', 'top'], ['sub/../in', 'in sub'], ['./sub/./deep/../f.txt', 'in sub'], ['sublink/deep/f.txt', 'deep']]) {
      const r = await read(p);
      assert.deepEqual([r.errno, r.data.toString()], [0, want], p);
    }
    for (let i = 0; i < 5; i++) fs.symlinkSync(i === 0 ? 'in' : `chain${i - 1}`, path.join(grant, `chain${i}`));
    assert.equal((await read('chain4')).data.toString(), 'in sub');
  });

  it('refuses links the user left that lead out: relative, absolute, to files and directories (EPERM)', async () => {
    for (const p of ['out', 'abs', 'abs_in', 'outdir/f.txt', 'sub/up2', 'sublink/up2']) {
      assert.equal((await read(p)).errno, E.PERM, p);
      assert.equal((await call({ op: Op.write, path: p, flags: FOLLOW, oflags: O.CREAT | O.TRUNC, rightsBase: R.WRITE, data: 'x' })).errno, E.PERM, p);
    }
    assert.equal((await call({ op: Op.write, path: 'outdir/new.txt', flags: FOLLOW, oflags: O.CREAT, rightsBase: R.WRITE, data: 'x' })).errno, E.PERM);
    assert.equal((await call({ op: Op.mkdir, path: 'outdir/newdir' })).errno, E.PERM);
    assert.equal((await call({ op: Op.filestat, path: 'out', flags: FOLLOW })).errno, E.PERM);
    assert.equal((await call({ op: Op.setTimes, path: 'outdir/f.txt', flags: FOLLOW, oflags: 10 })).errno, E.PERM);
    assert.equal((await call({ op: Op.unlink, path: 'outdir/f.txt' })).errno, E.PERM);
    assert.equal((await call({ op: Op.open, path: 'outdir', flags: FOLLOW, oflags: O.DIRECTORY })).errno, E.PERM);
  });

  it('refuses `..` above the grant and absolute paths (EPERM)', async () => {
    for (const p of ['../secret.txt', 'sub/../../secret.txt', 'sub/deep/../../../secret.txt', '..', '/etc/hostname', `${base}/secret.txt`, '/data/f.txt']) {
      assert.equal((await read(p)).errno, E.PERM, p);
    }
    assert.equal((await call({ op: Op.open, path: 'sub/..', oflags: O.DIRECTORY, rightsBase: R.READ })).errno, 0, 'sub/.. is the grant itself');
  });

  it('refuses links the guest makes that lead out, and keeps those that stay in', async () => {
    for (const [target, at] of [['../secret.txt', 'l1'], [`${base}/secret.txt`, 'l2'], ['/etc', 'l3'], ['sub/../../secret.txt', 'l4'], ['../f.txt', 'l5'], ['../../f.txt', 'sub/l6']]) {
      assert.equal((await call({ op: Op.symlink, path: target, path2: at })).errno, E.PERM, `${at} -> ${target}`);
      assert.equal(fs.lstatSync(path.join(grant, at), { throwIfNoEntry: false }), undefined, 'no link made');
    }
    assert.equal((await call({ op: Op.symlink, path: '../f.txt', path2: 'sub/mine' })).errno, 0);
    assert.equal((await read('sub/mine')).data.toString(), 'top');
    assert.equal((await call({ op: Op.symlink, path: 'sub/deep', path2: 'mine_dir' })).errno, 0);
    assert.equal((await read('mine_dir/f.txt')).data.toString(), 'deep');
    // one that stays in as text but whose first step is a link: followed, it is checked again
    assert.equal((await call({ op: Op.symlink, path: 'sublink/../../secret.txt', path2: 'sneaky' })).errno, E.PERM);
    assert.equal((await call({ op: Op.symlink, path: 'outdir/../f.txt', path2: 'sneaky' })).errno, 0, 'stays in, read as text');
    assert.equal((await read('sneaky')).errno, E.PERM, 'but following it leaves');
    assert.equal((await call({ op: Op.symlink, path: 'x', path2: 'f.txt' })).errno, E.EXIST);
  });

  it('hard links and renames stay inside', async () => {
    assert.equal((await call({ op: Op.link, path: 'f.txt', path2: 'hard' })).errno, 0);
    assert.equal((await read('hard')).data.toString(), 'top');
    assert.equal((await call({ op: Op.link, flags: FOLLOW, path: 'out', path2: 'hard2' })).errno, E.PERM, 'through a link that leads out');
    assert.equal((await call({ op: Op.link, path: 'f.txt', path2: '../stolen' })).errno, E.PERM);
    assert.equal((await call({ op: Op.link, path: 'f.txt', path2: 'outdir/stolen' })).errno, E.PERM);
    assert.equal((await call({ op: Op.link, path: 'out', path2: 'out_copy' })).errno, 0, 'the link itself, not followed');
    assert.equal((await read('out_copy')).errno, E.PERM);
    assert.equal((await call({ op: Op.rename, path: 'f.txt', path2: '../stolen' })).errno, E.PERM);
    assert.equal((await call({ op: Op.rename, path: 'f.txt', path2: 'outdir/stolen' })).errno, E.PERM);
    assert.equal((await call({ op: Op.rename, path: 'sub', path2: '../stolen' })).errno, E.PERM);
    assert.equal((await call({ op: Op.rename, path: '../secret.txt', path2: 'mine' })).errno, E.PERM);
    assert.equal((await call({ op: Op.rename, path: 'outdir/f.txt', path2: 'mine' })).errno, E.PERM);
    assert.equal((await call({ op: Op.rename, path: 'f.txt', path2: 'sub/moved' })).errno, 0);
    assert.equal((await read('sub/moved')).data.toString(), 'top');
    assert.equal((await call({ op: Op.rename, path: 'out', path2: 'sub/deep/out' })).errno, 0, 'a link moved deeper');
    assert.equal((await read('sub/deep/out')).errno, E.NOENT, 'now reads as grant/sub/secret.txt');
    assert.equal((await call({ op: Op.rename, path: 'sub/.', path2: 'x' })).errno, E.INVAL);
    assert.equal((await call({ op: Op.rmdir, path: 'sub/..' })).errno, E.INVAL, 'never the grant itself');
  });

  it('no-follow: an open of a final link fails ELOOP, filestat and readlink see the link itself', async () => {
    assert.equal((await read('in', { flags: 0 })).errno, E.LOOP);
    assert.equal((await read('out', { flags: 0 })).errno, E.LOOP);
    assert.equal((await call({ op: Op.write, path: 'out', oflags: O.CREAT, rightsBase: R.WRITE, data: 'x' })).errno, E.LOOP);
    assert.equal((await call({ op: Op.write, path: 'dangling', oflags: O.CREAT | O.EXCL, rightsBase: R.WRITE, data: 'x' })).errno, E.EXIST);
    assert.equal(fs.existsSync(path.join(grant, 'missing')), false);
    const link = await call({ op: Op.filestat, path: 'out', flags: 0 });
    assert.deepEqual([link.errno, link.data[16]], [0, FILETYPE.SYMLINK]);
    const file = await call({ op: Op.filestat, path: 'in', flags: FOLLOW });
    assert.deepEqual([file.errno, file.data[16], Number(file.data.readBigUInt64LE(32))], [0, FILETYPE.REGULAR, 6]);
    const rl = await call({ op: Op.readlink, path: 'out' });
    assert.deepEqual([rl.errno, rl.data.toString()], [0, '../secret.txt']);
    assert.equal((await call({ op: Op.readlink, path: 'outdir/f.txt' })).errno, E.PERM);
    assert.equal((await call({ op: Op.readlink, path: 'f.txt' })).errno, E.INVAL);
    assert.equal((await call({ op: Op.unlink, path: 'out' })).errno, 0, 'the link removed, not its target');
    assert.equal((await call({ op: Op.unlink, path: 'outdir' })).errno, 0);
  });

  it('a link followed through a dangling link creates inside; loops and long chains fail ELOOP', async () => {
    assert.equal((await call({ op: Op.write, path: 'dangling', flags: FOLLOW, oflags: O.CREAT, rightsBase: R.WRITE, data: 'made' })).errno, 0);
    assert.equal(fs.readFileSync(path.join(grant, 'missing'), 'utf8'), 'made');
    assert.equal((await read('loop_a')).errno, E.LOOP);
    assert.equal((await read('loop_a/x')).errno, E.LOOP);
    fs.symlinkSync('self', path.join(grant, 'self'));
    assert.equal((await read('self')).errno, E.LOOP);
    for (let i = 0; i < 41; i++) fs.symlinkSync(i === 0 ? 'f.txt' : `c${i - 1}`, path.join(grant, `c${i}`));
    assert.equal((await read('c39')).data.toString(), 'top', '40 links');
    assert.equal((await read('c40')).errno, E.LOOP, '41 links');
  });

  it('an fd opened on a directory is its own root, and stops working when its name leads elsewhere', async () => {
    const sub = await call({ op: Op.open, path: 'sub', oflags: O.DIRECTORY, rightsBase: R.DIR });
    assert.equal(sub.errno, 0);
    const fd = sub.value;
    assert.equal((await read('f.txt', { fd })).data.toString(), 'in sub');
    assert.equal((await read('deep/f.txt', { fd })).data.toString(), 'deep');
    assert.equal((await read('../f.txt', { fd })).errno, E.PERM, 'above the fd');
    assert.equal((await read('up', { fd })).errno, E.PERM, 'a link above the fd');
    assert.equal((await call({ op: Op.renumber, fd, fd2: 3 })).errno, 0);
    assert.equal((await read('f.txt', { fd: 3 })).data.toString(), 'in sub', 'fd 3 is now sub');
    assert.equal((await read('f.txt', { fd })).errno, E.BADF);
    fs.renameSync(path.join(grant, 'sub'), path.join(grant, 'sub_moved'));
    fs.symlinkSync('../outside', path.join(grant, 'sub'));
    assert.equal((await read('f.txt', { fd: 3 })).errno, E.PERM, 'the name now leads out');
    assert.equal((await call({ op: Op.close, fd: 3 })).errno, 0);
    assert.equal((await read('f.txt', { fd: 3 })).errno, E.BADF);
  });

  it('checks every pointer and path: EFAULT outside memory, EILSEQ for non-UTF-8, EINVAL for NUL', async () => {
    const memory = 8 * 65536;
    assert.equal((await call({ op: Op.rawOpen, rightsBase: BigInt(memory - 2), rightsInheriting: 5n, fd2: 0x200 })).errno, E.FAULT);
    assert.equal((await call({ op: Op.rawOpen, rightsBase: 0x40034n, rightsInheriting: 5n, path: 'f.txt', fd2: memory - 2 })).errno, E.FAULT);
    assert.equal((await call({ op: Op.rawOpen, rightsBase: 0x40034n, rightsInheriting: 5n, path: 'f.txt', fd2: 0 })).errno, 0, 'the fd written at 0, the scratch path elsewhere');
    assert.equal((await read(Buffer.from([0x66, 0xff, 0x66]))).errno, E.ILSEQ);
    assert.equal((await read('f.txt\0x')).errno, E.INVAL);
    assert.equal((await read('')).errno, E.NOENT);
    assert.equal((await read('nope/f.txt')).errno, E.NOENT);
    assert.equal((await read('f.txt/x')).errno, E.NOTDIR);
    assert.equal((await call({ op: Op.rmdir, path: 'f.txt/' })).errno, E.NOTDIR);
    assert.equal((await read('f.txt', { fd: 9 })).errno, E.BADF);
  });

  it('a read-only grant reads, and refuses every write (EPERM), changing nothing', async () => {
    const before = snapshot(ro);
    const R4 = { fd: 4 };
    assert.equal((await read('r.txt', R4)).data.toString(), 'read only');
    assert.equal((await read('rlink', R4)).data.toString(), 'read only');
    assert.equal((await read('sub/r.txt', R4)).data.toString(), 'ro sub');
    assert.equal((await call({ op: Op.filestat, ...R4, path: 'r.txt' })).errno, 0);
    assert.equal((await call({ op: Op.readlink, ...R4, path: 'rlink' })).data.toString(), 'r.txt');
    const writes: Command[] = [
      { op: Op.write, path: 'new.txt', oflags: O.CREAT, rightsBase: R.READ },
      { op: Op.write, path: 'new.txt', oflags: O.CREAT | O.EXCL, rightsBase: R.READ },
      { op: Op.write, path: 'r.txt', oflags: O.TRUNC, rightsBase: R.READ },
      { op: Op.write, path: 'r.txt', rightsBase: R.WRITE, data: 'x' },
      { op: Op.write, path: 'r.txt', rightsBase: R.READ | R.WRITE, data: 'x' },
      { op: Op.write, path: 'r.txt', rightsBase: R.READ, fdflags: APPEND, data: 'x' },
      { op: Op.write, path: 'rlink', flags: FOLLOW, rightsBase: R.WRITE, data: 'x' },
      { op: Op.mkdir, path: 'd' },
      { op: Op.rmdir, path: 'sub' },
      { op: Op.unlink, path: 'r.txt' },
      { op: Op.unlink, path: 'rlink' },
      { op: Op.rename, path: 'r.txt', path2: 'r2.txt' },
      { op: Op.rename, path: 'r.txt', fd2: 3, path2: 'taken.txt' },
      { op: Op.rename, fd: 3, path: 'f.txt', fd2: 4, path2: 'given.txt' },
      { op: Op.link, path: 'r.txt', path2: 'r2.txt' },
      { op: Op.link, path: 'r.txt', fd2: 3, path2: 'writable_name' },
      { op: Op.link, fd: 3, path: 'f.txt', fd2: 4, path2: 'given.txt' },
      { op: Op.symlink, path: 'r.txt', path2: 'l' },
      { op: Op.setTimes, path: 'r.txt', flags: FOLLOW, oflags: 10 },
      { op: Op.fdSetTimes, oflags: 10 },
      { op: Op.setSize, rightsBase: 0n },
      { op: Op.fdWrite, data: 'x' },
    ];
    for (const c of writes) {
      const r = await call({ fd: 4, ...c });
      assert.equal(r.errno, E.PERM, JSON.stringify(c, (_, v) => (typeof v === 'bigint' ? String(v) : v)));
    }
    // a file opened for reading: no write gets through it either
    const opened = await call({ op: Op.open, ...R4, path: 'r.txt', rightsBase: R.ALL & ~R.WRITE });
    assert.equal(opened.errno, 0);
    for (const c of [{ op: Op.fdWrite, data: 'x' }, { op: Op.setSize, rightsBase: 0n }, { op: Op.fdSetTimes, oflags: 10 }]) {
      assert.equal((await call({ ...c, fd: opened.value })).errno, E.PERM);
    }
    assert.equal((await call({ op: Op.fdRead, fd: opened.value })).data.toString(), 'read only');
    // a directory opened under it is read-only too
    const dir = await call({ op: Op.open, ...R4, path: 'sub', oflags: O.DIRECTORY, rightsBase: R.ALL & ~R.WRITE });
    assert.equal(dir.errno, 0);
    assert.equal((await read('r.txt', { fd: dir.value })).data.toString(), 'ro sub');
    assert.equal((await call({ op: Op.write, fd: dir.value, path: 'n', oflags: O.CREAT, rightsBase: R.READ })).errno, E.PERM);
    assert.equal((await call({ op: Op.unlink, fd: dir.value, path: 'r.txt' })).errno, E.PERM);
    assert.deepEqual(snapshot(ro), before);
    assert.equal(fs.readFileSync(path.join(grant, 'f.txt'), 'utf8'), 'top');
    assert.equal(fs.existsSync(path.join(grant, 'taken.txt')) || fs.existsSync(path.join(grant, 'writable_name')), false);
  });

  it('the writable grant writes: create, truncate, append, mkdir, rmdir, unlink, times', async () => {
    assert.equal((await call({ op: Op.write, path: 'n.txt', oflags: O.CREAT, rightsBase: R.WRITE, data: 'one' })).errno, 0);
    assert.equal((await call({ op: Op.write, path: 'n.txt', fdflags: APPEND, rightsBase: R.WRITE, data: 'two' })).errno, 0);
    assert.equal(fs.readFileSync(path.join(grant, 'n.txt'), 'utf8'), 'onetwo');
    assert.equal((await call({ op: Op.write, path: 'sublink/n.txt', flags: FOLLOW, oflags: O.CREAT | O.TRUNC, rightsBase: R.WRITE, data: 'via link' })).errno, 0);
    assert.equal(fs.readFileSync(path.join(grant, 'sub', 'n.txt'), 'utf8'), 'via link');
    assert.equal((await call({ op: Op.mkdir, path: 'newdir/' })).errno, 0);
    assert.equal((await call({ op: Op.mkdir, path: 'newdir' })).errno, E.EXIST);
    assert.equal((await call({ op: Op.rmdir, path: 'newdir/' })).errno, 0);
    assert.equal((await call({ op: Op.unlink, path: 'n.txt' })).errno, 0);
    assert.equal((await call({ op: Op.setTimes, path: 'in', flags: FOLLOW, oflags: 10 })).errno, 0);
    assert.equal((await call({ op: Op.fdSetTimes, fd: 3, oflags: 10 })).errno, 0);
  });
});
