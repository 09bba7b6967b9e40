"""Durability is tested by killing: writers record every write jobd
acknowledged, jobd gets SIGKILL at a random moment, and after a restart
every acknowledged write must be there — under appendfsync always and
everysec (a process crash leaves written pages in the OS). Nothing may
appear that was never written."""
import os
import random
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import pytest

from conftest import JOBD_BIN, free_port, wait_for_port, Server
from resp import Conn

ROUNDS = int(os.environ.get('JOBD_CRASH_ROUNDS', '10'))


def start(workdir, port, *flags):
    log = os.path.join(workdir, 'jobd-%d.log' % time.time_ns())
    proc = subprocess.Popen([JOBD_BIN, 'serve', '--http-port', '0', '--port', str(port), '--bind', '127.0.0.1', '--dir', workdir,
                             *flags], stdout=open(log, 'w'), stderr=subprocess.STDOUT)
    server = Server(proc, port, None, log)
    try:
        wait_for_port(port, proc, 'jobd')
    except Exception:
        print(server.log_text())
        raise
    return server


class Writer(threading.Thread):
    """Sends pipelined writes and records what was acknowledged.

    Three shapes of write, each with a precise survival rule:
    SET of a unique key (must exist with its value), RPUSH of a numbered
    element (the list must start with every acknowledged element, in order),
    INCR (the counter is at least the last acknowledged value)."""

    def __init__(self, port, name, round_no):
        super().__init__(daemon=True)
        self.port, self.name, self.round = port, name, round_no
        self.acked_sets = {}
        self.acked_pushes = []
        self.sent_pushes = []
        self.acked_counter = 0
        self.sent_counter = 0
        self.stop = False

    def run(self):
        try:
            c = Conn(self.port, timeout=5)
            n = 0
            while not self.stop:
                batch = []
                for _ in range(8):
                    n += 1
                    key = '%s:r%d:set:%d' % (self.name, self.round, n)
                    value = 'v%d-%d' % (n, random.randrange(1 << 30))
                    batch.append(('set', key, value))
                    batch.append(('push', '%s:r%d:%d' % (self.name, self.round, n)))
                    batch.append(('incr',))
                for op in batch:
                    if op[0] == 'set':
                        c.send('SET', op[1], op[2])
                    elif op[0] == 'push':
                        c.send('RPUSH', '%s:list' % self.name, op[1])
                        self.sent_pushes.append(op[1])
                    else:
                        c.send('INCR', '%s:counter' % self.name)
                        self.sent_counter += 1
                for op in batch:
                    reply = c.read()
                    if op[0] == 'set':
                        assert reply == ('+', 'OK'), reply
                        self.acked_sets[op[1]] = op[2].encode()
                    elif op[0] == 'push':
                        assert reply[0] == ':', reply
                        self.acked_pushes.append(op[1])
                    else:
                        assert reply[0] == ':', reply
                        self.acked_counter = reply[1]
        except (OSError, EOFError):
            pass  # the server was killed


def verify(server, writers, previous):
    c = server.conn()
    for w in writers:
        for key, value in w.acked_sets.items():
            assert c.cmd('GET', key) == ('$', value), 'lost acknowledged SET %s' % key
        elements = [e[1].decode() for e in c.cmd('LRANGE', '%s:list' % w.name, '0', '-1')[1]]
        everything_sent = previous[w.name]['pushes'] + w.sent_pushes
        everything_acked = previous[w.name]['pushes'] + w.acked_pushes
        assert elements[:len(everything_acked)] == everything_acked, 'lost or reordered acknowledged RPUSH'
        # Anything beyond was sent (executed but its reply lost in the kill), never invented.
        assert elements == everything_sent[:len(elements)], 'list holds elements that were never sent'
        counter = c.cmd('GET', '%s:counter' % w.name)[1]
        counter = int(counter) if counter else 0
        assert counter >= w.acked_counter, 'lost acknowledged INCR'
        assert counter <= previous[w.name]['counter_sent'] + w.sent_counter
        previous[w.name] = {'pushes': elements, 'counter_sent': counter}
    # No key that was never written.
    expected_prefixes = tuple('%s:' % w.name for w in writers)
    cursor = '0'
    while True:
        cursor, keys = c.cmd('SCAN', cursor, 'COUNT', '1000')[1]
        for _, key in keys[1]:
            assert key.decode().startswith(expected_prefixes), 'unexpected key %r' % key
        cursor = cursor[1].decode()
        if cursor == '0':
            break
    c.close()


@pytest.mark.parametrize('policy', ['always', 'everysec'])
def test_acknowledged_writes_survive_sigkill(policy):
    workdir = tempfile.mkdtemp(prefix='jobd-crash-')
    port = free_port()
    previous = {('w%d' % i): {'pushes': [], 'counter_sent': 0} for i in range(4)}
    total_acked = 0
    try:
        for round_no in range(ROUNDS):
            server = start(workdir, port, '--appendfsync', policy)
            writers = [Writer(port, 'w%d' % i, round_no) for i in range(4)]
            for w in writers:
                w.start()
            time.sleep(random.uniform(0.2, 0.8))
            server.proc.send_signal(signal.SIGKILL)
            server.proc.wait()
            for w in writers:
                w.stop = True
                w.join(10)
            total_acked += sum(len(w.acked_sets) for w in writers)
            server = start(workdir, port, '--appendfsync', policy)
            try:
                verify(server, writers, previous)
            finally:
                server.stop(signal.SIGKILL)
        assert total_acked > 100, 'the writers hardly wrote anything (%d)' % total_acked
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def test_a_clean_shutdown_keeps_everything_and_restarts_identically(fresh_jobd, tmp_path):
    port = free_port()
    server = start(str(tmp_path), port)
    c = server.conn()
    for i in range(200):
        c.cmd('RPUSH', 'q', str(i))
        c.cmd('SET', 's:%d' % i, 'x' * i, 'PX', '600000')
    c.cmd('INCRBYFLOAT', 'f', '0.1')
    c.cmd('INCRBYFLOAT', 'f', '0.2')
    c.cmd('SELECT', '5')
    c.cmd('SET', 'in5', 'yes')
    before = snapshot(c)
    c.close()
    assert server.stop() == 0
    server = start(str(tmp_path), port)
    try:
        assert_same_data(before, snapshot(server.conn()))
    finally:
        server.stop()


def snapshot(c):
    """Every key in every database: type, value and TTL rounded to seconds."""
    state = {}
    for db in range(16):
        c.cmd('SELECT', str(db))
        for _, key in c.cmd('KEYS', '*')[1]:
            kind = c.cmd('TYPE', key)[1]
            if kind == 'string':
                value = c.cmd('GET', key)[1]
            elif kind == 'list':
                value = tuple(x[1] for x in c.cmd('LRANGE', key, '0', '-1')[1])
            elif kind == 'hash':
                items = [x[1] for x in c.cmd('HGETALL', key)[1]]
                value = tuple(sorted(zip(items[::2], items[1::2])))
            elif kind == 'set':
                value = tuple(sorted(x[1] for x in c.cmd('SMEMBERS', key)[1]))
            elif kind == 'zset':
                value = tuple(x[1] for x in c.cmd('ZRANGE', key, '0', '-1', 'WITHSCORES')[1])
            else:
                value = repr(c.cmd('XRANGE', key, '-', '+'))
            state[(db, key)] = (kind, value, c.cmd('TTL', key)[1])
    c.cmd('SELECT', '0')
    return state


def assert_same_data(before, after, ttl_slack=2):
    """Same keys, types and values; TTLs within a couple of seconds (time passes between the two)."""
    assert sorted(before) == sorted(after)
    for key, (kind, value, ttl) in before.items():
        kind2, value2, ttl2 = after[key]
        assert (kind, value) == (kind2, value2), key
        assert (ttl == -1) == (ttl2 == -1) and abs(ttl - ttl2) <= ttl_slack, (key, ttl, ttl2)


def fill_and_stop(workdir, count=50):
    port = free_port()
    server = start(workdir, port)
    c = server.conn()
    for i in range(count):
        c.cmd('RPUSH', 'q', 'item-%d' % i)
    c.close()
    assert server.stop() == 0
    return os.path.join(workdir, 'appendonlydir', 'appendonly.aof.1.incr.aof')


def start_result(workdir, *flags):
    """Starts jobd and returns (exit code or None if it is serving, its log)."""
    port = free_port()
    log = os.path.join(workdir, 'start.log')
    proc = subprocess.Popen([JOBD_BIN, 'serve', '--http-port', '0', '--port', str(port), '--bind', '127.0.0.1', '--dir', workdir, *flags],
                            stdout=open(log, 'w'), stderr=subprocess.STDOUT)
    try:
        code = proc.wait(5)
    except subprocess.TimeoutExpired:
        code = None
        proc.terminate()
        proc.wait(10)
    return code, open(log).read()


def test_a_corrupt_middle_refuses_to_start_and_check_aof_repairs_it(tmp_path):
    workdir = str(tmp_path)
    path = fill_and_stop(workdir)
    data = bytearray(open(path, 'rb').read())
    middle = data.index(b'item-20')
    data[middle] ^= 0x20
    open(path, 'wb').write(bytes(data))
    code, log = start_result(workdir)
    assert code == 1
    assert 'Bad file format' in log and 'check-aof --fix' in log and 'offset' in log
    manifest = os.path.join(workdir, 'appendonlydir', 'appendonly.aof.manifest')
    out = subprocess.run([JOBD_BIN, 'check-aof', manifest], capture_output=True, text=True)
    assert out.returncode == 1 and 'first bad offset' in out.stdout
    out = subprocess.run([JOBD_BIN, 'check-aof', manifest, '--fix', '--yes'], capture_output=True, text=True)
    assert out.returncode == 0 and 'fixed' in out.stdout
    port = free_port()
    server = start(workdir, port)
    try:
        items = [e[1] for e in server.conn().cmd('LRANGE', 'q', '0', '-1')[1]]
        assert items == [b'item-%d' % i for i in range(len(items))] and 10 < len(items) < 50
    finally:
        server.stop()


def test_a_torn_tail_is_dropped_with_a_warning_or_refused_when_configured(tmp_path):
    workdir = str(tmp_path)
    path = fill_and_stop(workdir)
    size = os.path.getsize(path)
    with open(path, 'r+b') as f:
        f.truncate(size - 7)  # cut the last batch short, as a crash during write(2) would
    code, log = start_result(workdir, '--aof-load-truncated', 'no')
    assert code == 1 and 'aof-load-truncated' in log
    code, log = start_result(workdir)
    assert code is None and 'truncating' in log
    assert os.path.getsize(path) < size - 7
    port = free_port()
    server = start(workdir, port)
    try:
        assert server.conn().cmd('LLEN', 'q') == (':', 49)
    finally:
        server.stop()


def test_a_stalled_fsync_delays_writes_but_not_reads(fresh_jobd):
    server = fresh_jobd('--appendfsync', 'everysec')
    c = server.conn()
    assert c.cmd('DEBUG', 'AOF-FSYNC-DELAY', '5000') == ('+', 'OK')
    c.cmd('SET', 'before', '1')       # the next fsync (within ~1 s) now takes 5 s
    time.sleep(3.6)                   # ... and has been running for over 2 s
    reader = server.conn()
    started = time.monotonic()
    assert reader.cmd('GET', 'before') == ('$', b'1')
    assert time.monotonic() - started < 0.5, 'reads are not delayed'
    started = time.monotonic()
    assert c.cmd('SET', 'during', '2') == ('+', 'OK')
    waited = time.monotonic() - started
    assert waited > 0.2, 'a write is answered only after its batch is written (%.2f s)' % waited
    fields = dict(l.split(':', 1) for l in c.cmd('INFO', 'persistence')[1].decode().split('\r\n') if ':' in l)
    assert int(fields['aof_delayed_fsync']) >= 1
    assert 'taking too long' in server.log_text()
    c.cmd('DEBUG', 'AOF-FSYNC-DELAY', '0')
    assert c.cmd('GET', 'during') == ('$', b'2')


def test_while_a_large_log_loads_info_shows_progress_and_commands_get_loading(tmp_path):
    workdir = str(tmp_path)
    port = free_port()
    server = start(workdir, port)
    payload = b''.join(b'*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$20\r\nxxxxxxxxxxxxxxxxxxxx\r\n' % (len(k), k)
                       for k in (b'key:%d' % i for i in range(1_500_000)))
    out = subprocess.run(['redis-cli', '-p', str(port), '--pipe'], input=payload, capture_output=True, timeout=300)
    assert b'errors: 0' in out.stdout, out.stdout
    assert server.stop() == 0
    log = os.path.join(workdir, 'restart.log')
    proc = subprocess.Popen([JOBD_BIN, 'serve', '--http-port', '0', '--port', str(port), '--bind', '127.0.0.1', '--dir', workdir],
                            stdout=open(log, 'w'), stderr=subprocess.STDOUT)
    try:
        seen_loading = None
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                c = Conn(port, timeout=5)
            except OSError:
                time.sleep(0.01)
                continue
            def persistence():
                return dict(l.split(':', 1) for l in c.cmd('INFO', 'persistence')[1].decode().split('\r\n') if ':' in l)
            fields = persistence()
            if fields['loading'] == '1':
                sample = (fields, c.cmd('GET', 'key:1'), c.cmd('PING'))
                if persistence()['loading'] == '1':  # still loading after the probes: they saw it too
                    seen_loading = sample
            else:
                break
        assert seen_loading, 'the log loaded before any INFO could see it (too small to observe?)'
        fields, get_reply, ping_reply = seen_loading
        assert get_reply == ('-', 'LOADING Redis is loading the dataset in memory')
        assert ping_reply == ('-', 'LOADING Redis is loading the dataset in memory')  # as Redis: PING is not a loading command
        assert 0 <= float(fields['loading_loaded_perc']) <= 100
        assert int(fields['loading_total_bytes']) > 10_000_000
        c = Conn(port)
        assert c.cmd('DBSIZE') == (':', 1_500_000)
        assert c.cmd('GET', 'key:1499999') == ('$', b'x' * 20)
        assert 'Ready to accept connections' in open(log).read()
    finally:
        proc.terminate()
        proc.wait(30)


def test_replies_held_for_a_slow_disk_stop_reads_at_the_limit_instead_of_growing():
    """appendfsync always with a 3 s fsync: a client pipelining 40 GETs of a
    1 MB value behind a SET would hold 40 MB of replies while the SET waits
    for the disk; with aof-wait-buffer-limit 2mb reading pauses after a few
    (the HTTP port, not paused, shows the memory meanwhile), and every reply
    still arrives in order once the log is durable."""
    import urllib.request
    from conftest import start_jobd_with_http
    server = start_jobd_with_http('--appendfsync', 'always', '--aof-wait-buffer-limit', '2mb')
    try:
        def memory():
            text = urllib.request.urlopen('http://127.0.0.1:%d/metrics' % server.http_port, timeout=5).read().decode()
            return int(float(next(l.split()[1] for l in text.splitlines() if l.startswith('jobd_memory_used_bytes '))))
        c = server.conn()
        big = b'x' * (1024 * 1024)
        assert c.cmd('SET', 'big', big) == ('+', 'OK')
        baseline = memory()
        assert c.cmd('DEBUG', 'AOF-FSYNC-DELAY', '3000') == ('+', 'OK')
        pipelined = server.conn(timeout=30)
        pipelined.send_raw(b'*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n' + b'*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n' * 40)
        time.sleep(1.5)  # the SET's fsync is still running
        held = memory() - baseline
        assert held < 8 * 1024 * 1024, 'held replies grew to %d bytes' % held
        assert pipelined.read() == ('+', 'OK')
        for _ in range(40):
            assert pipelined.read() == ('$', big)
        c.cmd('DEBUG', 'AOF-FSYNC-DELAY', '0')
        fields = dict(l.split(':', 1) for l in c.cmd('INFO', 'persistence')[1].decode().split('\r\n') if ':' in l)
        assert int(fields['aof_wait_buffer_pauses']) >= 1
        assert int(fields['aof_wait_buffer_bytes']) == 0
        assert 'not reading from clients' in server.log_text()
    finally:
        server.stop()
