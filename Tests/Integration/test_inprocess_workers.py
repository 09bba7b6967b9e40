"""In-process worker pools (`worker` config lines) against the real binary:
the built-in handlers, exec'd programs (results, failures, timeouts, large
output, a missing program, cancel), priority order seen by one worker,
WORKER.LIST / WORKER.SCALE, SIGTERM with jobs running, and kill -9 under load."""
import os
import signal
import subprocess
import tempfile
import shutil
import time

import redis

from conftest import JOBD_BIN, free_port, pairs, wait_for_port, wait_until, Server


def start(workdir, *flags, port=None):
    port = port or free_port()
    log = os.path.join(workdir, 'jobd.log')
    args = [JOBD_BIN, 'serve', '--http-port', '0', '--port', str(port), '--bind', '127.0.0.1',
            '--dir', os.path.join(workdir, 'data')] + [str(f) for f in flags]
    proc = subprocess.Popen(args, stdout=open(log, 'a'), stderr=subprocess.STDOUT)
    server = Server(proc, port, None, log)
    wait_for_port(port, proc, 'jobd')
    return server


class Jobd:
    """A private jobd in its own directory, restartable with other flags."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix='jobd-workers-')
        self.server = None

    def start(self, *flags):
        self.server = start(self.dir, *flags)
        self.r = redis.Redis(port=self.server.port, socket_timeout=20)
        return self.r

    def stop(self, sig=signal.SIGTERM, timeout=30):
        return self.server.stop(sig, timeout)

    def log(self):
        return self.server.log_text()


def fresh():
    return Jobd()


def cleanup(j):
    if j.server and j.server.proc.poll() is None:
        j.stop(signal.SIGKILL)
    shutil.rmtree(j.dir, ignore_errors=True)


def job_info(r, job):
    return pairs(r.execute_command('JOB.INFO', job))


def finished(r, job):
    return job_info(r, job)[b'state'] in (b'completed', b'dead', b'canceled', b'expired')


def pool(r, index=0):
    return pairs(r.execute_command('WORKER.LIST')[index])


def test_builtin_handlers_complete_echo_fail_and_time_out():
    j = fresh()
    try:
        r = j.start('--worker', 'n noop concurrency 2', '--worker', 'e echo',
                    '--worker', 'f fail retries 1', '--worker', 's sleep timeout 200')
        r.lpush('n', *[b'x%d' % i for i in range(100)])
        echo = r.execute_command('JOB.ADD', 'e', 'hello')
        failing = r.execute_command('JOB.ADD', 'f', 'boom')
        slow = r.execute_command('JOB.ADD', 's', '5000')
        quick = r.execute_command('JOB.ADD', 's', '10')
        assert r.execute_command('JOB.RESULT', echo, 'WAIT', 5000) == b'hello'
        wait_until(lambda: pool(r, 0)[b'completed'] == 100, what='100 noop jobs')
        assert r.llen('n') == 0
        wait_until(lambda: finished(r, failing) and finished(r, slow) and finished(r, quick), what='fail/sleep jobs')
        f = job_info(r, failing)
        assert f[b'state'] == b'dead' and f[b'attempts'] == 2
        assert f[b'last_error'] == b"failed by the 'fail' handler"
        s = job_info(r, slow)
        assert s[b'state'] == b'dead' and s[b'last_error'] == b'timed out after 200 ms'
        assert job_info(r, quick)[b'state'] == b'completed'
        stats = pairs(r.execute_command('QUEUE.STATS', 'n'))
        assert stats[b'completed'] == 100 and stats[b'active'] == 0
        [w] = stats[b'workers']
        assert pairs(w)[b'handler'] == b'noop' and pairs(w)[b'concurrency'] == 2
        info = r.info('jobs')
        assert info['worker_pools'] == 4 and info['workers'] == 5
        assert info['worker_pool_2']['handler'] == 'fail' and info['worker_pool_2']['failed'] == 2
        # A plain job that completed left no record behind (nobody has its id).
        assert info['job_records'] == 4
        assert j.stop() == 0
    finally:
        cleanup(j)


SCRIPT = '''#!/bin/sh
# Test program for the exec handler: the payload says what to do.
input=$(cat)
case "$input" in
  env) echo "$JOBD_JOB_ID $JOBD_QUEUE $JOBD_ATTEMPT $JOBD_PRIORITY" ;;
  fail) echo "first line" >&2; echo "it went wrong" >&2; exit 3 ;;
  hang) trap "" TERM; echo $$ > "$0.pid"; sleep 30 ;;
  big) head -c 3000000 /dev/zero | tr '\\0' 'a' ;;
  order:*) echo "${input#order:}" >> "$0.order" ;;
  *) printf 'got:%s' "$input" ;;
esac
'''


def write_script(j):
    path = os.path.join(j.dir, 'handler.sh')
    with open(path, 'w') as f:
        f.write(SCRIPT)
    os.chmod(path, 0o755)
    return path


def test_exec_handler_results_failures_timeouts_big_output_and_a_missing_program():
    j = fresh()
    try:
        script = write_script(j)
        r = j.start('--worker', 'x exec %s concurrency 2 timeout 1000' % script,
                    '--worker', 'missing exec /no/such/program')
        ok = r.execute_command('JOB.ADD', 'x', 'payload')
        assert r.execute_command('JOB.RESULT', ok, 'WAIT', 10000) == b'got:payload'
        env = r.execute_command('JOB.ADD', 'x', 'env', 'PRIORITY', 2)
        assert r.execute_command('JOB.RESULT', env, 'WAIT', 10000) == b'%s x 1 2\n' % env
        bad = r.execute_command('JOB.ADD', 'x', 'fail')
        wait_until(lambda: finished(r, bad), what='failing program')
        info = job_info(r, bad)
        assert info[b'state'] == b'dead'
        assert info[b'last_error'] == b'exit status 3: first line\nit went wrong'
        big = r.execute_command('JOB.ADD', 'x', 'big')
        result = r.execute_command('JOB.RESULT', big, 'WAIT', 10000)
        assert result == b'a' * (1 << 20)  # stdout is capped at 1 MiB
        hang = r.execute_command('JOB.ADD', 'x', 'hang')
        t = time.time()
        wait_until(lambda: finished(r, hang), timeout=20, what='hanging program')
        assert time.time() - t < 8
        info = job_info(r, hang)
        assert info[b'state'] == b'dead' and b'timed out' in info[b'last_error']
        pid = int(open(script + '.pid').read())
        wait_until(lambda: not os.path.exists('/proc/%d' % pid), what='the hanging program to be killed')
        nothing = r.execute_command('JOB.ADD', 'missing', 'x')
        wait_until(lambda: finished(r, nothing), what='missing program')
        info = job_info(r, nothing)
        assert info[b'state'] == b'dead'
        assert b'/no/such/program' in info[b'last_error'] and b'No such file' in info[b'last_error']
        assert r.ping()
        assert j.stop() == 0
    finally:
        cleanup(j)


def test_cancel_of_a_running_exec_job_terminates_it():
    j = fresh()
    try:
        script = write_script(j)
        r = j.start('--worker', 'x exec %s' % script)
        job = r.execute_command('JOB.ADD', 'x', 'hang')
        wait_until(lambda: os.path.exists(script + '.pid'), what='the program to start')
        pid = int(open(script + '.pid').read())
        assert job_info(r, job)[b'state'] == b'active'
        r.execute_command('JOB.CANCEL', job)
        assert job_info(r, job)[b'state'] == b'canceled'
        wait_until(lambda: not os.path.exists('/proc/%d' % pid), what='the canceled program to end')
        wait_until(lambda: pool(r)[b'running'] == 0, what='the worker to be free')
        assert pool(r)[b'canceled'] == 1
        again = r.execute_command('JOB.ADD', 'x', 'next')
        assert r.execute_command('JOB.RESULT', again, 'WAIT', 10000) == b'got:next'
    finally:
        cleanup(j)


def test_one_worker_takes_the_most_urgent_job_first():
    j = fresh()
    try:
        script = write_script(j)
        r = j.start('--worker', 'busy,q exec %s' % script)
        # Keep the only worker of the pool busy while jobs pile up behind it.
        r.execute_command('QUEUE.PAUSE', 'q')
        for i in range(5):
            r.execute_command('JOB.ADD', 'q', 'order:normal%d' % i)
        r.execute_command('JOB.ADD', 'q', 'order:low', 'PRIORITY', 9)
        r.execute_command('JOB.ADD', 'q', 'order:urgent', 'PRIORITY', 0)
        r.lpush('q', 'order:plain')
        r.execute_command('QUEUE.RESUME', 'q')
        wait_until(lambda: os.path.exists(script + '.order') and
                   len(open(script + '.order').read().split()) == 8, what='all jobs to run')
        order = open(script + '.order').read().split()
        assert order == ['urgent', 'normal0', 'normal1', 'normal2', 'normal3', 'normal4', 'plain', 'low']
    finally:
        cleanup(j)


def test_worker_scale_changes_the_thread_count_at_runtime():
    j = fresh()
    try:
        r = j.start('--worker', 'q noop concurrency 2')
        assert pool(r)[b'concurrency'] == 2
        assert r.execute_command('WORKER.SCALE', 'q', 0) == 0
        r.lpush('q', 'a', 'b', 'c')
        time.sleep(0.3)
        assert r.llen('q') == 3  # nobody works on it
        assert r.execute_command('WORKER.SCALE', 'q', 4) == 4
        # The list empties when the jobs are leased; they count as completed a turn later.
        wait_until(lambda: r.llen('q') == 0 and pool(r)[b'completed'] == 3, what='jobs after scaling up')
        assert pool(r)[b'concurrency'] == 4
        for bad in (['nosuch', 1], ['q', -1], ['q', 'x'], ['q', 100000]):
            try:
                r.execute_command('WORKER.SCALE', *bad)
                assert False, 'expected an error for %r' % bad
            except redis.ResponseError as e:
                assert str(e).startswith(('no worker pool', 'worker count'))
        assert r.execute_command('WORKER.SCALE', 'q', 1) == 1
        assert j.stop() == 0
        assert 'scaled to 1' in j.log()
    finally:
        cleanup(j)


def test_info_jobs_counts_plainly_pushed_jobs_running_in_workers_as_active():
    j = fresh()
    try:
        r = j.start('--worker', 'q sleep concurrency 2')
        r.lpush('q', 3000, 3000, 3000)
        wait_until(lambda: r.info('jobs')['jobs_active'] == 2, what='two running sleep jobs')
        assert r.info('jobs')['jobs_pending'] == 1
        assert j.stop() == 0
    finally:
        cleanup(j)


def test_bad_worker_lines_are_refused_at_start():
    for line in ['q', 'q nosuch', 'q noop concurrency 0', 'q exec', 'q echo extra', ',q noop', 'q noop timeout -1']:
        port = free_port()
        d = tempfile.mkdtemp(prefix='jobd-badworker-')
        try:
            p = subprocess.run([JOBD_BIN, 'serve', '--http-port', '0', '--port', str(port), '--dir', d, '--worker', line],
                               capture_output=True, timeout=10)
            assert p.returncode != 0, line
            assert b'worker' in p.stdout + p.stderr, line
        finally:
            shutil.rmtree(d, ignore_errors=True)


def test_sigterm_lets_running_jobs_finish_and_keeps_the_rest():
    j = fresh()
    try:
        r = j.start('--worker', 's sleep concurrency 2')
        ids = [r.execute_command('JOB.ADD', 's', '700') for _ in range(5)]
        wait_until(lambda: pool(r)[b'busy'] == 2, what='two jobs running')
        t = time.time()
        assert j.stop() == 0
        assert 0.3 < time.time() - t < 8
        assert 'Waiting up to' in j.log()
        r = j.start()  # no workers now: nothing runs
        states = [job_info(r, i)[b'state'] for i in ids]
        assert states.count(b'completed') == 2 and states.count(b'pending') == 3, states
        assert r.llen('s') == 3
        assert j.stop() == 0
    finally:
        cleanup(j)


def test_sigterm_terminates_programs_past_the_shutdown_timeout_and_requeues_them():
    j = fresh()
    try:
        script = write_script(j)
        r = j.start('--worker', 'x exec %s' % script, '--shutdown-timeout', 300)
        job = r.execute_command('JOB.ADD', 'x', 'hang')
        wait_until(lambda: os.path.exists(script + '.pid'), what='the program to start')
        pid = int(open(script + '.pid').read())
        t = time.time()
        assert j.stop() == 0
        assert time.time() - t < 8
        assert not os.path.exists('/proc/%d' % pid)
        r = j.start()
        info = job_info(r, job)
        assert info[b'state'] == b'pending' and info[b'attempts'] == 1
        assert j.stop() == 0
    finally:
        cleanup(j)


def test_kill_9_under_load_loses_no_acknowledged_job():
    j = fresh()
    try:
        r = j.start('--worker', 'q echo concurrency 2', '--appendfsync', 'always')
        ids = []
        pipe = r.pipeline(transaction=False)
        for round in range(20):
            for i in range(100):
                pipe.execute_command('JOB.ADD', 'q', 'p%d-%d' % (round, i))
            ids += pipe.execute()
        time.sleep(0.05)
        j.server.proc.send_signal(signal.SIGKILL)
        j.server.proc.wait()
        r = j.start()
        states = {}
        for job in ids:
            state = job_info(r, job)[b'state']
            states[state] = states.get(state, 0) + 1
            if state == b'completed':
                assert r.execute_command('JOB.RESULT', job).startswith(b'p')
        assert set(states) <= {b'completed', b'pending'}, states
        assert sum(states.values()) == len(ids)
        assert r.llen('q') == states.get(b'pending', 0)
        assert j.stop() == 0
    finally:
        cleanup(j)


def test_an_embedded_server_runs_swift_closures_as_handlers():
    """Examples/EmbeddedWorker: JobdKit with a closure handler for 'greetings'."""
    example = os.path.join(os.path.dirname(JOBD_BIN), 'jobd-embedded-example')
    assert os.path.exists(example), 'build the example: swift build'
    d = tempfile.mkdtemp(prefix='jobd-embedded-')
    port = free_port()
    proc = subprocess.Popen([example, '--http-port', '0', '--port', str(port), '--bind', '127.0.0.1', '--dir', d],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, proc, 'the embedded example')
        r = redis.Redis(port=port, socket_timeout=10)
        job = r.execute_command('JOB.ADD', 'greetings', 'world')
        assert r.execute_command('JOB.RESULT', job, 'WAIT', 5000) == b'hello, world'
        bad = r.execute_command('JOB.ADD', 'greetings', '')
        wait_until(lambda: finished(r, bad), what='the throwing closure')
        info = job_info(r, bad)
        assert info[b'state'] == b'dead' and info[b'last_error'] == b'nobody to greet'
        assert pool(r)[b'handler'] == b'closure' and pool(r)[b'concurrency'] == 2
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        shutil.rmtree(d, ignore_errors=True)
