#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Cut `strace -f -ttt -T` traces of a runtime's `run` and `delete --force` into phases.

bench/profile.py TRACEDIR RUNS STATEDIR: reads TRACEDIR/{hutch,crun}-{run,delete}-N.st and
prints a markdown table of each phase's median duration (ms) per runtime. A phase is an
interval from the syscall that starts it to the one that ends it, found by role (the
runtime's own process, the container's process that executes /bin/true) and by what the
syscall touches; phases may nest ("of which") and the rows do not add up to the total.
"""
import os
import re
import statistics
import sys

LINE = re.compile(r'^(\d+)\s+(\d+\.\d+)\s+(.*)$')
DUR = re.compile(r'<(\d+\.\d+)>\s*$')


class Call:
    def __init__(self, pid, start, end, name, text):
        self.pid, self.start, self.end, self.name, self.text = pid, start, end, name, text

    def __repr__(self):
        return f'{self.pid} {self.start:.6f} {self.name} {self.text[:60]}'


def parse(path):
    """Syscalls in order of their start; exits as name '+++exit'."""
    calls, pending = [], {}
    with open(path, errors='replace') as f:
        for raw in f:
            m = LINE.match(raw.rstrip('\n'))
            if not m:
                continue
            pid, ts, rest = int(m.group(1)), float(m.group(2)), m.group(3)
            if rest.startswith('+++'):
                calls.append(Call(pid, ts, ts, '+++exit', rest))
                continue
            if rest.startswith('---'):
                continue
            if rest.startswith('<...'):
                mm = re.match(r'<\.\.\. (\w+) resumed>(.*)$', rest)
                if not mm:
                    continue
                c = pending.pop(pid, None)
                if c:
                    c.end = ts
                    c.text += mm.group(2)
                continue
            mm = re.match(r'(\w+)\((.*)$', rest)
            if not mm:
                continue
            name, text = mm.group(1), mm.group(2)
            if text.endswith('<unfinished ...>'):
                c = Call(pid, ts, ts, name, text[:-len('<unfinished ...>')])
                pending[pid] = c
            else:
                d = DUR.search(text)
                c = Call(pid, ts, ts + (float(d.group(1)) if d else 0.0), name, text)
            calls.append(c)
    return calls


def first(calls, pred, after=None):
    for c in calls:
        if (after is None or c.start >= after) and pred(c):
            return c
    return None


def last(calls, pred, before=None):
    for c in reversed(calls):
        if (before is None or c.start <= before) and pred(c):
            return c
    return None


def is_cg(c):
    return '"/sys/fs/cgroup' in c.text


def run_phases(calls, state):
    """Phase name -> seconds, for one trace of `R run /bin/true`."""
    p = {}
    main = calls[0].pid
    t0 = calls[0].start
    mine = [c for c in calls if c.pid == main]
    end = last(calls, lambda c: c.pid == main and c.name == '+++exit')
    ctr_exec = last(calls, lambda c: c.name == 'execve' and '"/bin/true"' in c.text)
    if not end or not ctr_exec:
        return None
    ctr = ctr_exec.pid
    ctr_exit = first(calls, lambda c: c.pid == ctr and c.name == '+++exit', ctr_exec.start)
    cfg = first(mine, lambda c: c.name in ('open', 'openat') and 'config.json' in c.text
                and 'O_WRONLY' not in c.text)
    p['start: exec, dynamic loader, CVE-2019-5736 re-exec'] = cfg.start - t0
    act = first(mine, lambda c: (c.name in ('clone', 'clone3', 'fork', 'vfork')) or
                (c.name in ('mkdir', 'mkdirat') and is_cg(c)), cfg.start)
    p['parse config.json, state dir'] = act.start - cfg.start
    # cgroups: from the first cgroup directory made to the first call after the last
    # cgroup file written before the container's program runs (setup, limits, attach)
    cg0 = first(mine, lambda c: c.name in ('mkdir', 'mkdirat') and is_cg(c))
    cgl = last(mine, lambda c: is_cg(c) and c.name in ('open', 'openat', 'mkdir', 'mkdirat'),
               ctr_exec.start)
    if cg0 and cgl:
        after = first(mine, lambda c: c.name not in ('read', 'write', 'close', 'lseek', 'fstat',
                                                      'newfstatat', 'statx'), cgl.end)
        p['cgroups: mkdir, limits, attach'] = (after.start if after else cgl.end) - cg0.start
        a0 = first(mine, lambda c: is_cg(c) and 'cgroup.procs' in c.text and 'O_WRONLY' in c.text)
        if a0:
            al = last(mine, lambda c: is_cg(c) and 'cgroup.procs' in c.text and 'O_WRONLY' in c.text)
            aw = first(mine, lambda c: c.name == 'write', al.end)
            p['  of which attach: cgroup.procs writes'] = (aw.end if aw else al.end) - a0.start
    forks = [c for c in calls if c.name in ('clone', 'clone3', 'fork', 'vfork') and c.start < ctr_exec.start]
    p['processes forked before the exec (count)'] = len(forks)
    p['namespaces: clone/unshare with CLONE_NEW*'] = sum(
        c.end - c.start for c in calls if c.name in ('clone', 'clone3', 'unshare') and 'CLONE_NEW' in c.text)
    idm = [c for c in calls if c.name in ('open', 'openat') and re.search(r'/(uid|gid)_map"', c.text)
           and ('O_WRONLY' in c.text or 'O_RDWR' in c.text)]
    if idm:
        w = first(calls, lambda c: c.name == 'write', idm[-1].end)
        p['id maps'] = (w.end if w else idm[-1].end) - idm[0].start
    m0 = first(calls, lambda c: c.pid != main and c.name in ('mount', 'mount_setattr', 'move_mount',
                                                             'fsmount'))
    piv = first(calls, lambda c: c.name == 'pivot_root')
    if m0 and piv:
        p['mounts: rootfs, /proc, /dev, /sys, cgroups'] = piv.start - m0.start
        um = first(calls, lambda c: c.pid == piv.pid and c.name == 'umount2', piv.start)
        piv_end = um.end if um else piv.end
        p['pivot_root, detach the old root'] = piv_end - piv.start
        p['pivot_root to exec: caps, seccomp, sync'] = ctr_exec.start - piv_end
    p['setup total: start to the exec of /bin/true'] = ctr_exec.start - t0
    if ctr_exit:
        p['/bin/true: exec to exit'] = ctr_exit.start - ctr_exec.start
        p['after the exit: wait, cleanup, runtime exit'] = end.start - ctr_exit.start
        rm = [c for c in mine if c.name == 'rmdir' and is_cg(c) and c.start >= ctr_exit.start]
        if rm:
            p['  of which cgroup removal'] = rm[-1].end - rm[0].start
        un = [c for c in mine if c.name in ('unlink', 'unlinkat', 'rmdir') and c.start >= ctr_exit.start
              and not is_cg(c)]
        if un:
            p['  of which state removal'] = un[-1].end - un[0].start
    p['total'] = end.start - t0
    return p


def delete_phases(calls, state):
    """Phase name -> seconds, for one trace of `R delete --force` of a running container."""
    p = {}
    main = calls[0].pid
    t0 = calls[0].start
    mine = [c for c in calls if c.pid == main]
    end = last(mine, lambda c: c.name == '+++exit')
    if not end:
        return None
    kills = [c for c in mine if c.name in ('kill', 'tgkill', 'pidfd_send_signal') and 'SIGKILL' in c.text]
    rm = [c for c in mine if c.name == 'rmdir' and is_cg(c)]
    if kills:
        p['start to the first SIGKILL (exec, loader, state)'] = kills[0].start - t0
        k_end = kills[-1].end
        p['kill: SIGKILL (and freeze/thaw)'] = k_end - kills[0].start
        if rm:
            p['wait for the processes to exit'] = rm[0].start - k_end
    if rm:
        p['cgroup removal'] = rm[-1].end - rm[0].start
        un = [c for c in mine if c.name in ('unlink', 'unlinkat', 'rmdir') and not is_cg(c)
              and c.start >= rm[0].start]
        if un:
            p['state removal'] = un[-1].end - un[0].start
    p['total'] = end.start - t0
    return p


def table(title, kind, fn, tdir, runs, names):
    res = {n: [] for n in names}
    for n in names:
        for i in range(runs):
            path = os.path.join(tdir, f'{n}-{kind}-{i}.st')
            if os.path.exists(path):
                r = fn(parse(path), None)
                if r:
                    res[n].append(r)
    order = []
    for n in names:
        for r in res[n]:
            for k in r:
                if k not in order:
                    order.append(k)
    if kind == 'run':   # the order of the lifecycle, whatever the first trace had first
        order.sort(key=lambda k: list(RUN_ORDER).index(k) if k in RUN_ORDER else 99)
    print(f'\n{title}\n')
    print('| phase | ' + ' | '.join(names) + ' | ' + '−'.join(names) + ' |')
    print('|---|' + '---:|' * (len(names) + 1))
    for k in order:
        vals = []
        for n in names:
            xs = [r[k] for r in res[n] if k in r]
            vals.append(statistics.median(xs) if xs else None)
        count = '(count)' in k
        cells = []
        for v in vals:
            if v is None:
                cells.append('–')
            elif count:
                cells.append(f'{v:g}')
            else:
                cells.append(f'{v * 1000:.2f}')
        if None not in vals and len(vals) == 2:
            d = vals[0] - vals[1]
            cells.append(f'{d:+g}' if count else f'{d * 1000:+.2f}')
        else:
            cells.append('')
        print(f'| {k} | ' + ' | '.join(cells) + ' |')


RUN_ORDER = [
    'start: exec, dynamic loader, CVE-2019-5736 re-exec',
    'parse config.json, state dir',
    'cgroups: mkdir, limits, attach',
    '  of which attach: cgroup.procs writes',
    'processes forked before the exec (count)',
    'namespaces: clone/unshare with CLONE_NEW*',
    'id maps',
    'mounts: rootfs, /proc, /dev, /sys, cgroups',
    'pivot_root, detach the old root',
    'pivot_root to exec: caps, seccomp, sync',
    'setup total: start to the exec of /bin/true',
    '/bin/true: exec to exit',
    'after the exit: wait, cleanup, runtime exit',
    '  of which cgroup removal',
    '  of which state removal',
    'total',
]


def main():
    tdir, runs = sys.argv[1], int(sys.argv[2])
    names = ['hutch', 'crun']
    table('`run /bin/true` (ms under strace, medians)', 'run', run_phases, tdir, runs, names)
    table('`delete --force` of a running container (ms under strace, medians)', 'delete',
          delete_phases, tdir, runs, names)


if __name__ == '__main__':
    main()
