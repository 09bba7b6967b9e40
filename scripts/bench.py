"""The side-by-side benchmark runner behind scripts/bench.

Each section starts the servers it compares on free loopback ports, runs
the same load against each, alternating servers between runs so drift on a
noisy machine hits both alike, and reports the median of the runs and the
ratio jobd / reference. Sections: redis (redis-benchmark SET GET LPUSH RPOP
...), aof (appendfsync always/everysec), memory (RSS), queue (queue round trip,
1 producer + 4 worker processes: jobd JOB.GET/ACK and BRPOP, redis-server BRPOP,
beanstalkd reserve/delete; the client is scripts/queue_bench.py).
"""
import argparse
import json
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
        proc = subprocess.Popen([os.environ['JOBD_BIN'], 'serve', '--http-port', '0', '--port', str(port), '--bind', '127.0.0.1',
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

    def beanstalkd(self):
        """beanstalkd on a free loopback port, no binlog (in memory only, like the others here)."""
        port = free_port()
        proc = subprocess.Popen(['beanstalkd', '-l', '127.0.0.1', '-p', str(port)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(proc)
        self.pids[port] = proc.pid
        deadline = time.time() + 15
        while True:
            if proc.poll() is not None:
                sys.exit('beanstalkd exited before it was ready')
            try:
                socket.create_connection(('127.0.0.1', port), timeout=1).close()
                return port
            except OSError:
                if time.time() > deadline:
                    sys.exit('beanstalkd did not accept connections')
                time.sleep(0.1)

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


def cell(x):
    """A measured number, or a string saying why there is none (e.g. 'n/a (...)')."""
    return x if isinstance(x, str) else number(x)


def ratio(a, b, inverse):
    if isinstance(a, str) or isinstance(b, str) or not a or not b:
        return '-'
    return '%.2fx' % ((b / a) if inverse else (a / b))


def ratio_table(title, rows, columns, inverse=False, shares=False, names=None):
    """rows: [(label..., mine, reference)] -> text table lines. names: the value
    columns' headings, default jobd and redis; a single name means rows carry one
    value each and there is no ratio column."""
    names = list(names or ['jobd', 'redis'])
    head = columns + names
    if shares:
        body = [[*labels, share(a), share(b)] for *labels, a, b in rows]
    elif len(names) == 1:
        body = [[*labels, cell(a)] for *labels, a in rows]
    else:
        head = head + ['ratio']
        body = [[*labels, cell(a), cell(b), ratio(a, b, inverse)] for *labels, a, b in rows]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body)]
    fmt = '  '.join('{:<%d}' % w for w in widths)
    return [title, fmt.format(*head)] + [fmt.format(*r) for r in body]


def markdown_table(title, rows, columns, inverse=False, shares=False, names=None):
    names = list(names or ['jobd', 'redis-server'])
    single = len(names) == 1 and not shares
    head = columns + names + ([] if shares or single else ['ratio'])
    lines = ['**%s**' % title, '', '| ' + ' | '.join(head) + ' |', '|' + ' --- |' * len(head)]
    for row in rows:
        if single:
            *labels, a = row
            cells = [cell(a)]
        else:
            *labels, a, b = row
            cells = [share(a), share(b)] if shares else [cell(a), cell(b), ratio(a, b, inverse)]
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


QUEUE_SYSTEMS = (('jobd JOB.GET COUNT 16', 'jobget-batch', 'jobd'), ('jobd JOB.GET/ACK', 'jobget', 'jobd'),
                 ('jobd BRPOP', 'brpop', 'jobd'), ('redis BRPOP', 'brpop', 'redis'),
                 ('redis BLMPOP 16', 'blmpop', 'redis'), ('beanstalkd', 'beanstalkd', 'beanstalkd'))


def queue_run(kind, port, jobs, queue):
    """One scripts/queue_bench.py run (its own process tree: 1 producer + 4 workers) -> its JSON result."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'queue_bench.py')
    try:
        out = subprocess.run([sys.executable, script, kind, str(port), '--jobs', str(jobs), '--workers', '4',
                              '--batch', '100', '--payload', '100', '--queue', queue],
                             capture_output=True, text=True, timeout=900)
    except subprocess.TimeoutExpired:
        return {'error': 'queue_bench.py timed out'}
    try:
        return json.loads(out.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return {'error': 'queue_bench.py exited %d: %s' % (out.returncode, out.stderr.strip()[-2000:])}


def section_queue(args, servers, report):
    """Queue round trip: 1 producer and 4 workers, each its own process, N 100-byte
    jobs; the producer pipelines 100 pushes per round trip. Workers:
      jobd JOB.GET COUNT 16  leases up to 16 jobs per JOB.GET and sends their 16
                             JOB.ACKs in the same write as its next JOB.GET (a
                             worker with prefetch; still one ack per job);
      jobd JOB.GET/ACK       one JOB.GET, then one JOB.ACK, per job;
      jobd / redis BRPOP     one BRPOP per job (no ack: a crash loses the job);
      redis BLMPOP 16        Redis 7's batched blocking pop, 16 per round trip (no
                             ack): the same batching as the first row, on Redis;
      beanstalkd             reserve, then delete, per job (no binlog).
    jobs/s from releasing the producer to the last ack, the order rotated between
    runs; plus each server's CPU seconds per million jobs."""
    ports = {'jobd': servers.jobd(), 'redis': servers.redis(), 'beanstalkd': servers.beanstalkd()}
    print('  beanstalkd: %s; %s jobs per run' % (beanstalkd_version(), '{:,}'.format(args.queue_jobs)), flush=True)
    names = [name for name, _, _ in QUEUE_SYSTEMS]
    samples = {name: [] for name in names}
    cpu = {name: [] for name in names}
    missing = {}  # name -> why the column has no number
    for run in range(args.runs):
        # Rotate the order every run so machine drift spreads over all four alike.
        shift = run % len(QUEUE_SYSTEMS)
        for name, kind, server in QUEUE_SYSTEMS[shift:] + QUEUE_SYSTEMS[:shift]:
            if name in missing:
                continue
            port = ports[server]
            before = servers.cpu_seconds(port)
            result = queue_run(kind, port, args.queue_jobs, 'bench-q-%s-%d' % (kind, run))
            used = servers.cpu_seconds(port) - before
            if 'unavailable' in result:
                missing[name] = 'n/a (%s)' % result['unavailable']
                print('  %-17s %s: %s' % (name, missing[name], result.get('reply', '')), flush=True)
                continue
            if 'error' in result:
                missing[name] = 'failed (see log)'
                print('  %-17s FAILED: %s' % (name, result['error']), flush=True)
                continue
            samples[name].append(result['jobs_per_s'])
            cpu[name].append(used / (args.queue_jobs / 1e6))
            print('  run %d  %-17s %10s jobs/s  %.2f s (push %.2f s)  server CPU %.2f s  per worker %s%s' % (
                run + 1, name, '{:,.0f}'.format(result['jobs_per_s']), result['seconds'], result['push_seconds'],
                used, result['per_worker'],
                '  redelivered %d' % result['redelivered'] if result['redelivered'] else ''), flush=True)
    rate = {name: missing.get(name) or statistics.median(samples[name]) for name in names}
    cpu_per_m = {name: missing.get(name) or statistics.median(cpu[name]) for name in names}
    for name in names:
        if name not in missing:
            print('  %-17s median %s jobs/s  (%s)' % (name, cell(rate[name]), ', '.join(
                '{:,.0f}'.format(x) for x in samples[name])), flush=True)
    shape = '1 producer (pipeline 100) + 4 workers, %s jobs of 100 bytes' % '{:,}'.format(args.queue_jobs)
    report('queue round trip, %s: jobs/s, median of %d runs' % (shape, args.runs),
           [(name, rate[name]) for name in names], ['system'], names=['jobs/s'])
    pairs = (('jobd JOB.GET COUNT 16', 'redis BRPOP'), ('jobd JOB.GET COUNT 16', 'beanstalkd'),
             ('jobd JOB.GET COUNT 16', 'redis BLMPOP 16'), ('jobd JOB.GET/ACK', 'redis BRPOP'),
             ('jobd JOB.GET/ACK', 'beanstalkd'), ('jobd BRPOP', 'redis BRPOP'))
    report('queue round trip ratios (jobs/s, higher is better; targets: >= 2x redis BRPOP, >= 1x beanstalkd)',
           [('%s vs %s' % (a, b), rate[a], rate[b]) for a, b in pairs], ['comparison'], names=['jobd', 'reference'])
    report('queue round trip: server CPU seconds per million jobs (lower is better; ratio = reference / jobd)',
           [('%s vs %s' % (a, b), cpu_per_m[a], cpu_per_m[b]) for a, b in pairs], ['comparison'],
           inverse=True, names=['jobd', 'reference'])


def beanstalkd_version():
    out = subprocess.run(['beanstalkd', '-v'], capture_output=True, text=True)
    return (out.stdout or out.stderr).strip() or '?'


def redis_version():
    out = subprocess.run(['redis-server', '--version'], capture_output=True, text=True).stdout
    return out.split('v=')[1].split()[0] if 'v=' in out else '?'




def section_dispatch(args, servers, report):
    """`jobd bench`: the rings alone, in-process dispatch with noop workers
    (1, 2, 4), and LPUSH over TCP into noop workers vs redis-server LPUSH
    with the log off, everysec and always. It prints its own table."""
    runs = str(min(args.runs, 3))
    subprocess.run([os.environ['JOBD_BIN'], 'bench', '--runs', runs], check=True)


SECTIONS = {'redis': section_redis, 'aof': section_aof, 'memory': section_memory, 'queue': section_queue,
            'dispatch': section_dispatch}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--only', choices=sorted(SECTIONS), action='append')
    parser.add_argument('--runs', type=int, default=int(os.environ.get('BENCH_RUNS', '5')))
    parser.add_argument('--requests-p1', type=int, default=int(os.environ.get('BENCH_REQUESTS_P1', '200000')))
    parser.add_argument('--requests-p16', type=int, default=int(os.environ.get('BENCH_REQUESTS_P16', '2000000')))
    parser.add_argument('--memory-jobs', type=int, default=int(os.environ.get('BENCH_MEMORY_JOBS', '1000000')))
    parser.add_argument('--aof-requests', type=int, default=int(os.environ.get('BENCH_REQUESTS_AOF', '100000')))
    parser.add_argument('--queue-jobs', type=int, default=int(os.environ.get('BENCH_QUEUE_JOBS', '100000')))
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

    def report(title, rows, columns, inverse=False, shares=False, names=None):
        tables.append((title, rows, columns, inverse, shares, names))

    for name in args.only or list(SECTIONS):
        servers = Servers()
        try:
            print('\n== %s' % name, flush=True)
            SECTIONS[name](args, servers, report)
        finally:
            servers.stop()
    print()
    for title, rows, columns, inverse, shares, names in tables:
        print('\n'.join(ratio_table(title, rows, columns, inverse, shares, names)))
        print()
    if os.environ.get('BENCH_MARKDOWN'):
        with open(os.environ['BENCH_MARKDOWN'], 'w') as f:
            for title, rows, columns, inverse, shares, names in tables:
                f.write('\n'.join(markdown_table(title, rows, columns, inverse, shares, names)) + '\n\n')


if __name__ == '__main__':
    main()
