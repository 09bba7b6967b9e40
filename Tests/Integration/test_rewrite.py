"""Log rewrites (BGREWRITEAOF and automatic) under load, and restarts that
must give back exactly the data set that was there."""
import os
import random
import signal
import threading
import time

import pytest

from conftest import free_port
from test_durability import start, snapshot, assert_same_data, Writer, verify
from resp import Conn


def info(c, section='persistence'):
    text = c.cmd('INFO', section)[1].decode()
    return dict(line.split(':', 1) for line in text.split('\r\n') if ':' in line)


def log_size(workdir):
    d = os.path.join(workdir, 'appendonlydir')
    return sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d) if f.endswith('.aof'))


def wait_for_rewrite(c, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        fields = info(c)
        if fields['aof_rewrite_in_progress'] == '0':
            return fields
        time.sleep(0.05)
    raise AssertionError('rewrite did not finish')


class Pinger(threading.Thread):
    """PINGs every 100 ms and records the longest wait for an answer."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port, self.stop, self.worst = port, False, 0.0

    def run(self):
        c = Conn(self.port)
        while not self.stop:
            started = time.monotonic()
            assert c.cmd('PING') == ('+', 'PONG')
            self.worst = max(self.worst, time.monotonic() - started)
            time.sleep(0.1)


def test_a_rewrite_under_load_keeps_every_write_shrinks_the_log_and_keeps_answering(tmp_path):
    workdir = str(tmp_path)
    port = free_port()
    server = start(workdir, port)
    c = server.conn()
    # A data set worth rewriting: many overwrites and pops make the log much larger than the data.
    model_strings, model_lists = {}, {}
    for round_no in range(3):
        for i in range(20000):
            c.send('SET', 'key:%d' % i, 'r%d-%d' % (round_no, i))
        for i in range(20000):
            c.read()
        model_strings.update({'key:%d' % i: b'r%d-%d' % (round_no, i) for i in range(20000)})
    for i in range(3000):
        c.send('RPUSH', 'list:%d' % (i % 30), 'e%d' % i)
    for i in range(3000):
        c.read()
    for i in range(3000):
        model_lists.setdefault('list:%d' % (i % 30), []).append(b'e%d' % i)
    before = log_size(workdir)

    pinger = Pinger(port)
    pinger.start()
    stop = threading.Event()
    writer_errors = []

    def keep_writing():
        # Writes during the rewrite, recorded in the model as they are acknowledged.
        w = Conn(port)
        n = 0
        try:
            while not stop.is_set():
                n += 1
                key = 'key:%d' % random.randrange(20000)
                value = b'live-%d' % n
                assert w.cmd('SET', key, value) == ('+', 'OK')
                model_strings[key] = value
                lk = 'list:%d' % random.randrange(30)
                assert w.cmd('RPUSH', lk, 'live%d' % n)[0] == ':'
                model_lists[lk].append(b'live%d' % n)
                if n % 7 == 0:
                    popped = w.cmd('LPOP', lk)[1]
                    assert popped == model_lists[lk].pop(0)
                if n % 11 == 0:
                    new = 'new:%d' % n
                    w.cmd('SET', new, 'fresh')
                    model_strings[new] = b'fresh'
        except Exception as e:  # noqa: BLE001 - reported below
            writer_errors.append(e)
    writer = threading.Thread(target=keep_writing)
    writer.start()
    time.sleep(0.2)
    assert c.cmd('BGREWRITEAOF') == ('+', 'Background append only file rewriting started')
    assert c.cmd('BGREWRITEAOF')[0] == '-'  # one at a time
    fields = wait_for_rewrite(c)
    time.sleep(0.3)
    stop.set()
    writer.join()
    pinger.stop = True
    pinger.join()
    assert not writer_errors, writer_errors
    assert fields['aof_last_bgrewrite_status'] == 'ok'
    after = log_size(workdir)
    print('\nworst PING gap during the rewrite: %.1f ms; log %d -> %d bytes' % (pinger.worst * 1000, before, after))
    assert after < before / 2, (before, after)
    assert pinger.worst < 5.0

    def check(conn):
        for key, value in model_strings.items():
            assert conn.cmd('GET', key) == ('$', value), key
        for key, elements in model_lists.items():
            assert [e[1] for e in conn.cmd('LRANGE', key, '0', '-1')[1]] == elements, key
    check(c)
    # And the same after a crash and a replay of the rewritten log.
    server.proc.send_signal(signal.SIGKILL)
    server.proc.wait()
    server = start(workdir, port)
    try:
        check(server.conn())
    finally:
        server.stop()


def test_a_random_workload_restarts_to_the_same_data_set(tmp_path):
    workdir = str(tmp_path)
    port = free_port()
    server = start(workdir, port)
    c = server.conn()
    rng = random.Random(5)
    for n in range(6000):
        key = 'k%d' % rng.randrange(300)
        op = rng.randrange(21)
        if op == 0:
            c.cmd('SET', key, 'v%d' % n, 'EX', str(rng.randrange(100, 10000)))
        elif op == 1:
            c.cmd('RPUSH', 'l' + key, *['x%d' % i for i in range(rng.randrange(1, 5))])
        elif op == 2:
            c.cmd('LPOP', 'l' + key)
        elif op == 3:
            c.cmd('INCRBYFLOAT', 'f' + key, '0.1')
        elif op == 4:
            c.cmd('DEL', key)
        elif op == 5:
            c.cmd('EXPIRE', 'l' + key, str(rng.randrange(100, 10000)))
        elif op == 6:
            c.cmd('SELECT', str(rng.randrange(3)))
        elif op == 7:
            c.cmd('LMOVE', 'l' + key, 'lk%d' % rng.randrange(300), 'LEFT', 'RIGHT')
        elif op == 8:
            c.cmd('APPEND', key, 'z')
        elif op == 9:
            c.cmd('SET', key, 'gone', 'PX', '1')  # expires at once: a DEL in the log
        elif op == 10:
            c.cmd('HSET', 'h' + key, 'f%d' % rng.randrange(20), 'v%d' % n, 'g', str(n))
        elif op == 11:
            c.cmd(rng.choice(['HDEL', 'HINCRBYFLOAT']), 'h' + key, 'f%d' % rng.randrange(20), *(['1.5'] if n % 2 else []))
        elif op == 12:
            c.cmd('SADD', 's' + key, *['m%d' % rng.randrange(50) for _ in range(3)])
        elif op == 13:
            c.cmd(rng.choice(['SPOP', 'SREM']), 's' + key, *(['2'] if n % 2 else []))
        elif op == 14:
            c.cmd('XADD', 'x' + key, 'MAXLEN', '~', '5', '*', 'n', str(n))
        elif op == 15:
            last = c.cmd('XREVRANGE', 'x' + key, '+', '-', 'COUNT', '1')[1]
            if last:
                c.cmd('XDEL', 'x' + key, last[0][1][0][1])  # the newest entry: IDs must not go back
        elif op == 16:
            c.cmd('EXPIRE', rng.choice('hsx') + key, str(rng.randrange(100, 10000)))
        elif op == 17:
            c.cmd('SINTERSTORE', 's' + key, 's' + key, 'sk%d' % rng.randrange(300))
        elif op == 18:
            c.cmd('ZADD', 'z' + key, str(rng.uniform(-100, 100)), 'm%d' % rng.randrange(30), '-inf', 'low')
        elif op == 19:
            c.cmd('ZINCRBY', 'z' + key, '0.1', 'm%d' % rng.randrange(30))
        else:
            c.cmd(rng.choice(['ZPOPMIN', 'ZPOPMAX']), 'z' + key)
        if n == 2000:
            assert c.cmd('BGREWRITEAOF')[0] == '+'
    wait_for_rewrite(c)
    time.sleep(0.1)
    expected = snapshot(c)
    server.proc.send_signal(signal.SIGKILL)
    server.proc.wait()
    server = start(workdir, port)
    try:
        assert_same_data(expected, snapshot(server.conn()))
    finally:
        server.stop()


def test_the_log_is_rewritten_automatically_when_it_grows(tmp_path):
    workdir = str(tmp_path)
    port = free_port()
    server = start(workdir, port, '--auto-aof-rewrite-min-size', '1mb', '--auto-aof-rewrite-percentage', '100')
    c = server.conn()
    for round_no in range(40):
        for i in range(1000):
            c.send('SET', 'same:%d' % i, 'x' * 50)
        for i in range(1000):
            c.read()
    deadline = time.time() + 10
    while time.time() < deadline and int(info(c)['aof_rewrites']) == 0:
        time.sleep(0.1)
    fields = wait_for_rewrite(c)
    assert int(fields['aof_rewrites']) >= 1 and fields['aof_last_bgrewrite_status'] == 'ok'
    assert log_size(workdir) < 3 * 1024 * 1024
    assert c.cmd('DBSIZE') == (':', 1000)
    server.stop()


def test_acknowledged_writes_survive_sigkill_during_rewrites(tmp_path):
    workdir = str(tmp_path)
    port = free_port()
    previous = {('w%d' % i): {'pushes': [], 'counter_sent': 0} for i in range(3)}
    for round_no in range(6):
        server = start(workdir, port, '--appendfsync', 'always' if round_no % 2 else 'everysec')
        writers = [Writer(port, 'w%d' % i, round_no) for i in range(3)]
        for w in writers:
            w.start()
        time.sleep(random.uniform(0.1, 0.3))
        server.conn().cmd('BGREWRITEAOF')
        time.sleep(random.uniform(0.0, 0.3))
        server.proc.send_signal(signal.SIGKILL)
        server.proc.wait()
        for w in writers:
            w.stop = True
            w.join(10)
        server = start(workdir, port)
        try:
            verify(server, writers, previous)
        finally:
            server.stop(signal.SIGKILL)


@pytest.mark.parametrize('rewrite', [False, True])
def test_streams_keep_their_last_id_and_emptiness_across_restarts(tmp_path, rewrite):
    workdir = str(tmp_path)
    port = free_port()
    server = start(workdir, port)
    c = server.conn()
    c.cmd('XADD', 's', '5-1', 'a', '1')
    c.cmd('XADD', 's', '9-9', 'b', '2')
    assert c.cmd('XDEL', 's', '9-9') == (':', 1)
    c.cmd('XADD', 'empty', '3-3', 'x', 'y')
    c.cmd('XTRIM', 'empty', 'MAXLEN', '0')
    if rewrite:
        assert c.cmd('BGREWRITEAOF')[0] == '+'
        wait_for_rewrite(c)
    server.proc.send_signal(signal.SIGKILL)
    server.proc.wait()
    server = start(workdir, port)
    try:
        c = server.conn()
        assert c.cmd('XRANGE', 's', '-', '+') == ('*', [('*', [('$', b'5-1'), ('*', [('$', b'a'), ('$', b'1')])])])
        too_small = ('-', 'ERR The ID specified in XADD is equal or smaller than the target stream top item')
        assert c.cmd('XADD', 's', '9-9', 'c', '3') == too_small
        assert c.cmd('XADD', 's', '9-*', 'c', '3') == ('$', b'9-10')
        assert c.cmd('TYPE', 'empty') == ('+', 'stream') and c.cmd('XLEN', 'empty') == (':', 0)
        assert c.cmd('XADD', 'empty', '3-3', 'x', 'y') == too_small
    finally:
        server.stop()
