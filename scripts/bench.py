"""The side-by-side benchmark runner behind scripts/bench.

Each section starts the servers it compares on free loopback ports, runs
the same load against each, alternating servers between runs so drift on a
noisy machine hits both alike, and reports the median of the runs and the
ratio jobd / reference. Sections: redis (redis-benchmark SET GET LPUSH RPOP).
"""
import argparse
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def wait_ready(port, proc, name):
    deadline = time.time() + 15
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit('%s exited before it was ready' % name)
        out = subprocess.run(['redis-cli', '-p', str(port), 'PING'], capture_output=True, text=True)
        if out.stdout.strip() == 'PONG':
            return
        time.sleep(0.1)
    sys.exit('%s did not answer PING' % name)


class Servers:
    """jobd and redis-server with persistence off, stopped at exit."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix='jobd-bench-')
        self.procs = []
        self.pids = {}

    def cpu_seconds(self, port):
        """User + system CPU time the server on `port` has used so far."""
        with open('/proc/%d/stat' % self.pids[port]) as f:
            fields = f.read().rsplit(')', 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')

    def jobd(self, *flags):
        port = free_port()
        proc = subprocess.Popen([os.environ['JOBD_BIN'], 'serve', '--port', str(port), '--bind', '127.0.0.1',
                                 '--dir', os.path.join(self.dir, 'jobd-%d' % port), '--appendonly', 'no',
                                 *flags], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(proc)
        self.pids[port] = proc.pid
        wait_ready(port, proc, 'jobd')
        return port

    def redis(self, *flags):
        port = free_port()
        proc = subprocess.Popen(['redis-server', '--port', str(port), '--bind', '127.0.0.1', '--save', '',
                                 '--appendonly', 'no', '--daemonize', 'no', '--dir', self.dir,
                                 '--appendfilename', 'redis-%d.aof' % port, '--appenddirname', 'redis-%d' % port,
                                 *flags],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(proc)
        self.pids[port] = proc.pid
        wait_ready(port, proc, 'redis-server')
        return port

    def stop(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


# Collection tests use random members (-r) so that the hash, set and sorted
# set grow to about 100k members instead of holding a single one.
RANDOM_MEMBERS = {'hset', 'sadd', 'zadd', 'zpopmin'}


def redis_benchmark(port, test, requests, clients, pipeline):
    """Requests per second from one redis-benchmark run (its --csv output)."""
    extra = ['-r', '100000'] if test in RANDOM_MEMBERS else []
    out = subprocess.run(['redis-benchmark', '-p', str(port), '-t', test, '-n', str(requests), '-c', str(clients),
                          '-P', str(pipeline), '--csv', *extra], capture_output=True, text=True, timeout=600)
    if out.returncode != 0 or 'rror' in out.stderr:
        sys.exit('redis-benchmark failed against port %d: %s' % (port, out.stderr.strip()))
    for line in out.stdout.splitlines():
        fields = [f.strip('"') for f in line.split('","')]
        if fields and fields[0].upper().startswith(test.upper()):
            return float(fields[1])
    sys.exit('no result for %s in: %s' % (test, out.stdout))


def number(x):
    return '{:,.0f}'.format(x) if x >= 100 else '%.3f' % x


def share(x):
    return '%.0f%%' % (x * 100)


def ratio(a, b, inverse):
    return '%.2fx' % ((b / a) if inverse else (a / b)) if a and b else '-'


def ratio_table(title, rows, columns, inverse=False, shares=False):
    """rows: [(label..., mine, reference)] -> text table lines."""
    head = columns + ['jobd', 'redis', 'ratio']
    if shares:
        head = columns + ['jobd', 'redis']
        body = [[*labels, share(a), share(b)] for *labels, a, b in rows]
    else:
        body = [[*labels, number(a), number(b), ratio(a, b, inverse)] for *labels, a, b in rows]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body)]
    fmt = '  '.join('{:<%d}' % w for w in widths)
    return [title, fmt.format(*head)] + [fmt.format(*r) for r in body]


def markdown_table(title, rows, columns, inverse=False, shares=False):
    head = columns + (['jobd', 'redis-server'] if shares else ['jobd', 'redis-server', 'ratio'])
    lines = ['**%s**' % title, '', '| ' + ' | '.join(head) + ' |', '|' + ' --- |' * len(head)]
    for *labels, a, b in rows:
        cells = [share(a), share(b)] if shares else [number(a), number(b), ratio(a, b, inverse)]
        lines.append('| ' + ' | '.join([*map(str, labels), *cells]) + ' |')
    return lines


def section_redis(args, servers, report):
    """redis-benchmark SET GET LPUSH RPOP HSET SADD ZADD ZPOPMIN at -c 50, -P 1 and -P 16: requests/s,
    and the server's CPU time per million requests (on a 2-core machine the
    benchmark client saturates its core, so CPU per request shows server cost)."""
    jobd, redis = servers.jobd(), servers.redis()
    runs = args.runs
    sizes = {1: args.requests_p1, 16: args.requests_p16}
    rows, cpu_rows = [], []
    for pipeline in (1, 16):
        for test in ('SET', 'GET', 'LPUSH', 'RPOP', 'HSET', 'SADD', 'ZADD', 'ZPOPMIN'):
            samples = {jobd: [], redis: []}
            cpu = {jobd: [], redis: []}
            for run in range(runs):
                # Alternate which server goes first so machine drift affects both alike.
                order = (jobd, redis) if run % 2 == 0 else (redis, jobd)
                for port in order:
                    if test == 'RPOP':
                        # RPOP must never hit an empty list: refill the list redis-benchmark uses.
                        redis_benchmark(port, 'lpush', sizes[pipeline], 50, 16)
                    if test == 'ZPOPMIN':
                        # Likewise for the sorted set (ZADD's random members: the set stays large).
                        redis_benchmark(port, 'zadd', sizes[pipeline], 50, 16)
                    before = servers.cpu_seconds(port)
                    samples[port].append(redis_benchmark(port, test.lower(), sizes[pipeline], 50, pipeline))
                    cpu[port].append((servers.cpu_seconds(port) - before) / (sizes[pipeline] / 1e6))
            a, b = statistics.median(samples[jobd]), statistics.median(samples[redis])
            rows.append((test, pipeline, a, b))
            # Lower is better for CPU: the ratio is reference / jobd so that > 1 means jobd is cheaper.
            cpu_rows.append((test, pipeline, statistics.median(cpu[jobd]), statistics.median(cpu[redis])))
            print('  %-5s -P %-2d jobd %12s  redis %12s  (%s)' % (
                test, pipeline, '{:,.0f}'.format(a), '{:,.0f}'.format(b),
                ', '.join('{:,.0f}/{:,.0f}'.format(x, y) for x, y in zip(samples[jobd], samples[redis]))),
                flush=True)
    title = 'jobd vs redis-server %s: redis-benchmark -c 50, requests/s, median of %d runs' % (
        redis_version(), runs)
    report(title, rows, ['test', 'pipeline'])
    report('server CPU seconds per million requests (lower is better; ratio = redis / jobd)',
           cpu_rows, ['test', 'pipeline'], inverse=True)


def section_aof(args, servers, report):
    """LPUSH with the append-only log on, appendfsync always and everysec, for
    jobd and redis-server (both appendonly yes), -c 50 at -P 1 and -P 16, and
    the always/everysec ratio for each server (Redis' group commit is weaker)."""
    rows, ratio_rows = [], []
    results = {}
    for policy in ('everysec', 'always'):
        jobd = servers.jobd('--appendonly', 'yes', '--appendfsync', policy)
        redis = servers.redis('--appendonly', 'yes', '--appendfsync', policy)
        for pipeline in (1, 16):
            n = args.aof_requests * (4 if pipeline == 16 else 1)
            samples = {jobd: [], redis: []}
            for run in range(args.runs):
                order = (jobd, redis) if run % 2 == 0 else (redis, jobd)
                for port in order:
                    samples[port].append(redis_benchmark(port, 'lpush', n, 50, pipeline))
            a, b = statistics.median(samples[jobd]), statistics.median(samples[redis])
            results[(policy, pipeline)] = (a, b)
            rows.append(('LPUSH', policy, pipeline, a, b))
            print('  LPUSH %-8s -P %-2d jobd %12s  redis %12s' % (policy, pipeline, '{:,.0f}'.format(a),
                                                                  '{:,.0f}'.format(b)), flush=True)
    report('appendonly yes: redis-benchmark LPUSH -c 50, requests/s, median of %d runs' % args.runs,
           rows, ['test', 'appendfsync', 'pipeline'])
    for pipeline in (1, 16):
        always, everysec = results[('always', pipeline)], results[('everysec', pipeline)]
        ratio_rows.append(('always/everysec', pipeline, always[0] / everysec[0], always[1] / everysec[1]))
    report('always throughput as a share of everysec (higher is better; target for jobd >= 0.50)',
           ratio_rows, ['measure', 'pipeline'], shares=True)


def section_memory(args, servers, report):
    """Memory: idle RSS, RSS per pending 100-byte job (1M LPUSH into one list),
    and SET throughput under constant eviction (maxmemory 50mb, allkeys-lru,
    1 KB values over 10M random keys, -c 50 -P 16)."""
    import time
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'Tests', 'Integration'))
    from resp import Conn

    def rss(port):
        with open('/proc/%d/status' % servers.pids[port]) as f:
            return next(int(l.split()[1]) * 1024 for l in f if l.startswith('VmRSS:'))

    jobs = args.memory_jobs
    idle, per_job = {}, {}
    for name, start in (('jobd', servers.jobd), ('redis', servers.redis)):
        samples_idle, samples_job = [], []
        for _ in range(max(1, args.runs // 2)):
            port = start()
            time.sleep(0.3)
            before = rss(port)
            c = Conn(port)
            payload = b'x' * 100
            for _ in range(0, jobs, 1000):
                c.send(*(['LPUSH', 'q'] + [payload] * 1000))
            for _ in range(0, jobs, 1000):
                c.read()
            time.sleep(0.3)
            samples_idle.append(before)
            samples_job.append((rss(port) - before) / jobs)
            c.cmd('FLUSHALL')
        idle[name], per_job[name] = statistics.median(samples_idle), statistics.median(samples_job)
        print('  %-5s idle RSS %s, %.1f bytes per pending 100-byte job' % (name, '{:,}'.format(int(idle[name])),
                                                                           per_job[name]), flush=True)
    report('memory (lower is better; ratio = redis / jobd)',
           [('idle RSS, bytes', idle['jobd'], idle['redis']),
            ('RSS per pending 100-byte job, bytes (%s in one list)' % '{:,}'.format(jobs), per_job['jobd'], per_job['redis'])],
           ['measure'], inverse=True)
    flags = ('--maxmemory', '50mb', '--maxmemory-policy', 'allkeys-lru')
    jobd, redis = servers.jobd(*flags), servers.redis(*flags)
    samples = {jobd: [], redis: []}
    for run in range(args.runs):
        for port in ((jobd, redis) if run % 2 == 0 else (redis, jobd)):
            out = subprocess.run(['redis-benchmark', '-p', str(port), '-t', 'set', '-n', str(args.requests_p16),
                                  '-c', '50', '-P', '16', '-d', '1000', '-r', '10000000', '--csv'],
                                 capture_output=True, text=True, timeout=600)
            line = next(l for l in out.stdout.splitlines() if l.upper().startswith('"SET'))
            samples[port].append(float(line.split('","')[1].strip('"')))
    a, b = statistics.median(samples[jobd]), statistics.median(samples[redis])
    print('  SET under eviction: jobd %s, redis %s' % ('{:,.0f}'.format(a), '{:,.0f}'.format(b)), flush=True)
    report('SET 1 KB values with maxmemory 50mb + allkeys-lru (constant eviction), -c 50 -P 16, requests/s, median of %d'
           % args.runs, [('SET', a, b)], ['test'])


def redis_version():
    out = subprocess.run(['redis-server', '--version'], capture_output=True, text=True).stdout
    return out.split('v=')[1].split()[0] if 'v=' in out else '?'


SECTIONS = {'redis': section_redis, 'aof': section_aof, 'memory': section_memory}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--only', choices=sorted(SECTIONS), action='append')
    parser.add_argument('--runs', type=int, default=int(os.environ.get('BENCH_RUNS', '5')))
    parser.add_argument('--requests-p1', type=int, default=int(os.environ.get('BENCH_REQUESTS_P1', '200000')))
    parser.add_argument('--requests-p16', type=int, default=int(os.environ.get('BENCH_REQUESTS_P16', '2000000')))
    parser.add_argument('--memory-jobs', type=int, default=int(os.environ.get('BENCH_MEMORY_JOBS', '1000000')))
    parser.add_argument('--aof-requests', type=int, default=int(os.environ.get('BENCH_REQUESTS_AOF', '100000')))
    args = parser.parse_args()
    # SIGTERM or SIGHUP (a CI job cancelled, `timeout`, a closed terminal) would end
    # Python without running the `finally` below and leave both servers running:
    # turn them into SystemExit so Servers.stop() always runs.
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda signum, frame: sys.exit(128 + signum))
    cpu = next((l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name')), '?')
    print('machine: %d cores, %s, %s' % (os.cpu_count(), cpu, platform.platform()))
    print('jobd: %s' % subprocess.run([os.environ['JOBD_BIN'], 'version'], capture_output=True, text=True).stdout.strip())
    print('redis-server: %s' % redis_version(), flush=True)
    tables = []

    def report(title, rows, columns, inverse=False, shares=False):
        tables.append((title, rows, columns, inverse, shares))

    for name in args.only or list(SECTIONS):
        servers = Servers()
        try:
            print('\n== %s' % name, flush=True)
            SECTIONS[name](args, servers, report)
        finally:
            servers.stop()
    print()
    for title, rows, columns, inverse, shares in tables:
        print('\n'.join(ratio_table(title, rows, columns, inverse, shares)))
        print()
    if os.environ.get('BENCH_MARKDOWN'):
        with open(os.environ['BENCH_MARKDOWN'], 'w') as f:
            for title, rows, columns, inverse, shares in tables:
                f.write('\n'.join(markdown_table(title, rows, columns, inverse, shares)) + '\n\n')


if __name__ == '__main__':
    main()
