// The processes of a container for `GET /containers/{id}/top`, in Docker's shape
// ({Titles, Processes}, columns as `ps -ef` or `ps aux` print them). Docker runs the host's
// ps and keeps the rows whose pid is in the container's cgroup; ps (procps) may not be
// installed here, so the columns are computed from /proc the way procps computes them.
// The member pids come from the cgroups the shim recorded in its state file (absolute
// directories, one per controller), nested cgroups included.

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from '../common/errors.js';
import type { ContainerState } from '../runtime/shim-runtime.js';

/** One entry of the shim's state file: the container's cgroup directory for a controller. */
export type ContainerCgroup = ContainerState['cgroups'][number];

export interface ContainerTop {
  Titles: string[];
  Processes: string[][];
}

export interface ProcessListOptions {
  /** Where /proc is; tests point it at a fake tree. */
  procRoot?: string;
  /** The host's passwd file, for user names (ps resolves against the host's, so does Docker). */
  passwdPath?: string;
  now?: () => Date;
}

/**
 * `ps -ef` columns unless `psArgs` asks for `aux`. Processes that exit while being read are
 * left out; a container whose cgroups are gone has no processes (no error).
 */
export async function listContainerProcesses(cgroups: readonly ContainerCgroup[], psArgs?: string, options: ProcessListOptions = {}): Promise<ContainerTop> {
  const format = psFormat(psArgs);
  const procRoot = options.procRoot ?? '/proc';
  const pids = await listContainerPids(cgroups);
  const host = await readHostClock(procRoot);
  const userNames = await readUserNames(options.passwdPath ?? '/etc/passwd');
  const now = (options.now ?? (() => new Date()))();
  const processes: ProcessInfo[] = [];
  for (const pid of pids) {
    const info = await readProcessInfo(procRoot, pid);
    if (info) processes.push(info);
  }
  const context: RowContext = { host, userNames, now };
  return format === 'full'
    ? { Titles: ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'], Processes: processes.map((p) => fullRow(p, context)) }
    : { Titles: ['USER', 'PID', '%CPU', '%MEM', 'VSZ', 'RSS', 'TTY', 'STAT', 'START', 'TIME', 'COMMAND'], Processes: processes.map((p) => bsdRow(p, context)) };
}

type PsFormat = 'full' | 'bsd';

/** Only the two formats people pass to `docker top` are understood; others are refused rather than misread. */
function psFormat(psArgs: string | undefined): PsFormat {
  const args = (psArgs ?? '').trim();
  if (args === '' || args === '-ef' || args === '-e -f' || args === '-f -e') return 'full';
  if (args === 'aux' || args === '-aux' || args === 'axu') return 'bsd';
  throw new UsageError(`ps_args "${args}" is not supported: stack computes the process list itself and understands "-ef" (the default) and "aux"`);
}

/**
 * Every process in the container's cgroups and their descendants, sorted. All recorded
 * cgroups are read, not just one: each holds every process, but a union costs little and
 * tolerates a process that joined only some of them.
 */
export async function listContainerPids(cgroups: readonly ContainerCgroup[]): Promise<number[]> {
  const pids = new Set<number>();
  for (const dir of new Set(cgroups.map((c) => c.path))) await collectPids(dir, pids);
  return [...pids].sort((a, b) => a - b);
}

async function collectPids(dir: string, into: Set<number>): Promise<void> {
  const procs = await readOptional(join(dir, 'cgroup.procs'));
  if (procs === undefined) return; // the container went away
  for (const line of procs.split('\n')) {
    const pid = Number(line);
    if (line !== '' && Number.isInteger(pid) && pid > 0) into.add(pid);
  }
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) if (entry.isDirectory()) await collectPids(join(dir, entry.name), into);
}

/** What /proc/<pid>/stat says, by the field names of proc(5). */
export interface ProcessStat {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
  ttyNr: number;
  tpgid: number;
  /** Clock ticks (USER_HZ). */
  utime: number;
  stime: number;
  /** Ticks of children this process waited for. */
  cutime: number;
  cstime: number;
  nice: number;
  numThreads: number;
  /** Ticks after boot. */
  starttime: number;
}

/** USER_HZ: the unit of /proc's tick counts, fixed at 100 on Linux whatever the kernel's HZ. */
export const CLOCK_TICKS_PER_SECOND = 100;

/** Parses /proc/<pid>/stat, or undefined when the process is gone. */
export async function readProcessStat(procRoot: string, pid: number): Promise<ProcessStat | undefined> {
  const text = await readOptional(join(procRoot, String(pid), 'stat'));
  if (text === undefined) return undefined;
  // comm may hold spaces and parentheses: it ends at the last ')'.
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const rest = text.slice(close + 2).trim().split(/\s+/);
  const field = (index: number): number => Number(rest[index] ?? 0);
  return {
    pid,
    comm: text.slice(open + 1, close),
    state: rest[0] ?? '?',
    ppid: field(1),
    pgrp: field(2),
    session: field(3),
    ttyNr: field(4),
    tpgid: field(5),
    utime: field(11),
    stime: field(12),
    cutime: field(13),
    cstime: field(14),
    nice: field(16),
    numThreads: field(17),
    starttime: field(19),
  };
}

interface ProcessInfo extends ProcessStat {
  effectiveUid: number;
  /** KiB, 0 for processes without memory of their own. */
  vmSizeKib: number;
  vmRssKib: number;
  vmLockedKib: number;
  args: string;
}

async function readProcessInfo(procRoot: string, pid: number): Promise<ProcessInfo | undefined> {
  const stat = await readProcessStat(procRoot, pid);
  const status = await readOptional(join(procRoot, String(pid), 'status'));
  const cmdline = await readOptional(join(procRoot, String(pid), 'cmdline'));
  if (!stat || status === undefined || cmdline === undefined) return undefined;
  const statusField = (name: string): string[] => (new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)?.[1] ?? '').trim().split(/\s+/);
  const kib = (name: string): number => Number(statusField(name)[0] ?? 0) || 0;
  const args = cmdline.replace(/\0+$/, '').split('\0').join(' ');
  return {
    ...stat,
    effectiveUid: Number(statusField('Uid')[1] ?? 0),
    vmSizeKib: kib('VmSize'),
    vmRssKib: kib('VmRSS'),
    vmLockedKib: kib('VmLck'),
    // ps shows a process without arguments (a zombie, an exec in progress) by its name in brackets.
    args: args === '' ? `[${stat.comm}]` : args,
  };
}

interface HostClock {
  /** Seconds since boot, as /proc/uptime says. */
  uptimeSeconds: number;
  /** Unix seconds of boot (/proc/stat btime). */
  bootTime: number;
  memTotalKib: number;
}

interface RowContext {
  host: HostClock;
  userNames: Map<number, string>;
  now: Date;
}

async function readHostClock(procRoot: string): Promise<HostClock> {
  const uptime = await readOptional(join(procRoot, 'uptime'));
  const stat = await readOptional(join(procRoot, 'stat'));
  const meminfo = await readOptional(join(procRoot, 'meminfo'));
  return {
    uptimeSeconds: Number(uptime?.split(/\s+/)[0] ?? 0) || 0,
    bootTime: Number(/^btime\s+(\d+)/m.exec(stat ?? '')?.[1] ?? 0),
    memTotalKib: Number(/^MemTotal:\s+(\d+)/m.exec(meminfo ?? '')?.[1] ?? 0),
  };
}

async function readUserNames(passwdPath: string): Promise<Map<number, string>> {
  const names = new Map<number, string>();
  for (const line of (await readOptional(passwdPath) ?? '').split('\n')) {
    const [name, , uid] = line.split(':');
    if (name && uid !== undefined && /^\d+$/.test(uid) && !names.has(Number(uid))) names.set(Number(uid), name);
  }
  return names;
}

function fullRow(p: ProcessInfo, { host, userNames, now }: RowContext): string[] {
  const cpuSeconds = (p.utime + p.stime) / CLOCK_TICKS_PER_SECOND;
  const elapsed = elapsedSeconds(p, host);
  // procps's C: whole percent of one CPU over the process's life, capped at 99.
  const c = elapsed > 0 ? Math.min(99, Math.floor((cpuSeconds * 100) / elapsed)) : 0;
  return [
    userNames.get(p.effectiveUid) ?? String(p.effectiveUid),
    String(p.pid),
    String(p.ppid),
    String(c),
    startTime(p, host, now),
    ttyName(p.ttyNr),
    cumulativeTime(Math.floor(cpuSeconds)),
    p.args,
  ];
}

function bsdRow(p: ProcessInfo, { host, userNames, now }: RowContext): string[] {
  const cpuSeconds = (p.utime + p.stime) / CLOCK_TICKS_PER_SECOND;
  const elapsed = elapsedSeconds(p, host);
  const cpuPermille = elapsed > 0 ? Math.floor((cpuSeconds * 1000) / elapsed) : 0;
  const memPermille = host.memTotalKib > 0 ? Math.floor((p.vmRssKib * 1000) / host.memTotalKib) : 0;
  const whole = Math.floor(cpuSeconds);
  return [
    userNames.get(p.effectiveUid) ?? String(p.effectiveUid),
    String(p.pid),
    cpuPermille > 999 ? String(Math.floor(cpuPermille / 10)) : `${Math.floor(cpuPermille / 10)}.${cpuPermille % 10}`,
    `${Math.floor(memPermille / 10)}.${memPermille % 10}`,
    String(p.vmSizeKib),
    String(p.vmRssKib),
    ttyName(p.ttyNr),
    bsdState(p),
    startTime(p, host, now),
    `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, '0')}`,
    p.args,
  ];
}

function elapsedSeconds(p: ProcessStat, host: HostClock): number {
  return Math.max(0, Math.floor(host.uptimeSeconds - p.starttime / CLOCK_TICKS_PER_SECOND));
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** procps's STIME/START: the time of day if started today, the month and day if this year, else the year (local time). */
function startTime(p: ProcessStat, host: HostClock, now: Date): string {
  const started = new Date((host.bootTime + p.starttime / CLOCK_TICKS_PER_SECOND) * 1000);
  const two = (n: number): string => String(n).padStart(2, '0');
  if (started.getFullYear() !== now.getFullYear()) return String(started.getFullYear());
  const sameDay = started.getMonth() === now.getMonth() && started.getDate() === now.getDate();
  return sameDay ? `${two(started.getHours())}:${two(started.getMinutes())}` : `${MONTHS[started.getMonth()] ?? ''}${two(started.getDate())}`;
}

/** procps's TIME: `[DD-]HH:MM:SS` of CPU time. */
function cumulativeTime(totalSeconds: number): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  const days = Math.floor(totalSeconds / 86400);
  const clock = `${two(Math.floor(totalSeconds / 3600) % 24)}:${two(Math.floor(totalSeconds / 60) % 60)}:${two(totalSeconds % 60)}`;
  return days > 0 ? `${days}-${clock}` : clock;
}

/** The controlling terminal from stat's tty_nr (major in bits 8-15, minor split around it). */
function ttyName(ttyNr: number): string {
  if (ttyNr === 0) return '?';
  const major = (ttyNr >> 8) & 0xfff;
  const minor = (ttyNr & 0xff) | ((ttyNr >> 12) & 0xfff00);
  if (major >= 136 && major <= 143) return `pts/${(major - 136) * 256 + minor}`;
  if (major === 4) return minor < 64 ? `tty${minor}` : `ttyS${minor - 64}`;
  if (major === 5 && minor === 0) return 'tty';
  if (major === 5 && minor === 1) return 'console';
  return '?';
}

/** procps's STAT: the state letter, then < N L s l + as they apply. */
function bsdState(p: ProcessInfo): string {
  let flags = p.state;
  if (p.nice < 0) flags += '<';
  if (p.nice > 0) flags += 'N';
  if (p.vmLockedKib > 0) flags += 'L';
  if (p.session === p.pid) flags += 's';
  if (p.numThreads > 1) flags += 'l';
  if (p.tpgid > 0 && p.pgrp === p.tpgid) flags += '+';
  return flags;
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    // ENOENT, ESRCH (a process mid-exit), ENODEV (a removed cgroup): all mean "gone".
    return undefined;
  }
}
