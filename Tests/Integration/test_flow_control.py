"""Flow control against the real binary: QUEUE.CONFIG RATE (a token bucket)
and CONCURRENCY (most jobs active at once) on JOB.GET and in-process
workers, the settings' persistence (restart, BGREWRITEAOF), the `queue`
config directive, and bad input. Timings use generous bounds: the machine
is a small, shared VM."""
import os
import signal
import subprocess
import threading
import time

from conftest import JOBD_BIN, free_port
from resp import Conn, value
from test_inprocess_workers import fresh, cleanup, wait_until
from test_rewrite import wait_for_rewrite


def stats(c, queue):
    reply = value(c.cmd('QUEUE.STATS', queue))
    return dict(zip(reply[::2], reply[1::2])) if isinstance(reply, list) else reply


def settings(c, queue):
    reply = value(c.cmd('QUEUE.CONFIG', queue))
    return dict(zip(reply[::2], reply[1::2])) if isinstance(reply, list) else reply


def get(c, *queues, count=1, block=None):
    args = ['JOB.GET'] + (['BLOCK', block] if block is not None else []) + ['COUNT', count, 'FROM'] + list(queues)
    return value(c.cmd(*args))


def conn(j):
    return Conn(j.server.port, timeout=30)


# MARK: Rate


def test_a_job_get_block_loop_at_rate_20_per_second_takes_about_5_seconds(jobd):
    c = jobd.conn(timeout=30)
    assert c.cmd('QUEUE.CONFIG', 'q', 'RATE', '20/s') == ('+', 'OK')
    c.cmd('LPUSH', 'q', *['job%d' % i for i in range(100)])
    started = time.monotonic()
    taken, first_second = 0, None
    while taken < 100:
        # Every BLOCK call is answered by the next token (the server wakes for it): none times out.
        jobs = get(c, 'q', block=3000)
        assert len(jobs) == 1, 'a blocked JOB.GET was not served when a token came'
        assert c.cmd('JOB.ACK', jobs[0][1]) == ('+', 'OK')
        taken += 1
        if first_second is None and time.monotonic() - started >= 1.0:
            first_second = taken
    elapsed = time.monotonic() - started
    # A full bucket of 20, then 20 a second: 4 s in theory.
    assert 3.5 <= elapsed <= 9, elapsed
    assert first_second is None or first_second <= 45, first_second
    s = stats(c, 'q')
    assert s[b'completed'] == 100 and s[b'rate_limit'] == b'20/s' and s[b'throttled'] > 0


def test_an_inprocess_noop_pool_at_rate_20_per_second_takes_about_5_seconds():
    j = fresh()
    try:
        j.start('--worker', 'q noop concurrency 4')
        c = conn(j)
        assert c.cmd('QUEUE.CONFIG', 'q', 'RATE', '20/s') == ('+', 'OK')
        started = time.monotonic()
        c.cmd('LPUSH', 'q', *['job%d' % i for i in range(100)])
        samples = []
        while True:
            done = stats(c, 'q')[b'completed']
            samples.append((time.monotonic() - started, done))
            if done == 100:
                break
            assert time.monotonic() - started < 15, samples[-1]
            time.sleep(0.1)
        elapsed = samples[-1][0]
        assert 3.5 <= elapsed <= 9, elapsed
        # Spread over the time, not in one go after a pause: about half done at half time.
        at_two = [done for t, done in samples if t <= 2.0][-1]
        assert 25 <= at_two <= 80, samples
        assert stats(c, 'q')[b'throttled'] > 0
        assert j.stop() == 0
    finally:
        cleanup(j)


def test_a_throttled_queue_is_skipped_for_the_next_in_from_and_plain_pops_are_not_throttled(jobd):
    c = jobd.conn()
    c.cmd('QUEUE.CONFIG', 'a', 'RATE', '1/m')
    c.cmd('LPUSH', 'a', 'a1', 'a2', 'a3', 'a4')
    c.cmd('LPUSH', 'b', 'b1', 'b2')
    jobs = get(c, 'a', 'b', count=10)
    assert [j[2] for j in jobs] == [b'a1', b'b1', b'b2']
    assert get(c, 'a', 'b') == []
    # A blocked JOB.GET on the throttled queue waits (its token is a minute away)...
    assert get(c, 'a', block=300) == []
    # ...while plain list commands stay Redis list commands.
    assert value(c.cmd('RPOP', 'a')) == b'a2'
    assert value(c.cmd('BRPOP', 'a', 1)) == [b'a', b'a3']
    assert value(c.cmd('LMOVE', 'a', 'elsewhere', 'RIGHT', 'LEFT')) == b'a4'
    assert stats(c, 'a')[b'throttled'] >= 2


# MARK: Concurrency


def test_concurrency_2_with_4_external_clients_never_has_more_than_2_active(jobd):
    admin = jobd.conn()
    assert admin.cmd('QUEUE.CONFIG', 'q', 'CONCURRENCY', 2) == ('+', 'OK')
    admin.cmd('LPUSH', 'q', *['job%d' % i for i in range(4)])
    clients = [jobd.conn(timeout=30) for _ in range(4)]
    got = [get(cl, 'q') for cl in clients]
    assert sorted(len(g) for g in got) == [0, 0, 1, 1]
    assert stats(admin, 'q')[b'active'] == 2
    # A third client blocks; an ack gives it the freed place at once.
    waiting = next(cl for cl, g in zip(clients, got) if not g)
    waiting.send('JOB.GET', 'BLOCK', 10000, 'FROM', 'q')
    time.sleep(0.2)
    holder, [job] = next((cl, g) for cl, g in zip(clients, got) if g)
    started = time.monotonic()
    assert holder.cmd('JOB.ACK', job[1]) == ('+', 'OK')
    served = value(waiting.read())
    assert len(served) == 1 and time.monotonic() - started < 3
    assert stats(admin, 'q')[b'active'] == 2
    for cl in clients:
        cl.close()  # the leases go back to the queue
    wait_until(lambda: stats(admin, 'q')[b'active'] == 0, what='leases released')

    # Four busy workers: leases counted by the workers and QUEUE.STATS active never pass 2.
    admin.cmd('LPUSH', 'q', *['more%d' % i for i in range(16)])
    total = 19  # 3 left from above, 16 more
    lock = threading.Lock()
    held = {'now': 0, 'max': 0, 'done': 0}

    def worker():
        c = jobd.conn(timeout=30)
        while True:
            with lock:
                if held['done'] >= total:
                    return
            jobs = get(c, 'q', block=300)
            if not jobs:
                continue
            with lock:
                held['now'] += 1
                held['max'] = max(held['max'], held['now'])
            time.sleep(0.03)
            with lock:
                held['now'] -= 1
                held['done'] += 1
            assert c.cmd('JOB.ACK', jobs[0][1]) == ('+', 'OK')

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(4)]
    for t in threads:
        t.start()
    active = []
    while any(t.is_alive() for t in threads):
        active.append(stats(admin, 'q')[b'active'])
        time.sleep(0.01)
        assert len(active) < 3000, 'the workers did not finish'
    for t in threads:
        t.join()
    assert held['done'] == total
    assert held['max'] <= 2 and max(active) <= 2, (held, max(active))
    assert max(active) == 2  # the limit, not a lack of work, held it there
    assert stats(admin, 'q')[b'throttled'] > 0


def test_a_sleep_pool_of_4_with_concurrency_2_never_runs_more_than_2():
    j = fresh()
    try:
        j.start('--worker', 's sleep concurrency 4')
        c = conn(j)
        assert c.cmd('QUEUE.CONFIG', 's', 'CONCURRENCY', 2) == ('+', 'OK')
        c.cmd('LPUSH', 's', *['60'] * 16)
        active, busy = [], []
        started = time.monotonic()
        while True:
            s = stats(c, 's')
            active.append(s[b'active'])
            [pool] = s[b'workers']
            busy.append(dict(zip(pool[::2], pool[1::2]))[b'busy'])
            if s[b'completed'] == 16:
                break
            assert time.monotonic() - started < 20
            time.sleep(0.01)
        assert max(active) == 2 and max(busy) <= 2, (max(active), max(busy))
        # 16 jobs of 60 ms two at a time take at least 480 ms.
        assert time.monotonic() - started >= 0.45
        # Lifting the limit lets all 4 workers run.
        assert c.cmd('QUEUE.CONFIG', 's', 'CONCURRENCY', 0) == ('+', 'OK')
        c.cmd('LPUSH', 's', *['300'] * 8)
        assert wait_until(lambda: stats(c, 's')[b'active'] > 2, timeout=5, what='more than 2 active')
        assert j.stop() == 0
    finally:
        cleanup(j)


# MARK: Settings: QUEUE.CONFIG, persistence, config file


def test_queue_config_sets_several_options_replies_them_and_stats_append_them(jobd):
    c = jobd.conn()
    assert settings(c, 'q') == {b'priority': 5, b'rate': b'', b'concurrency': 0, b'paused': 0}
    before = list(stats(c, 'q').keys())
    assert c.cmd('QUEUE.CONFIG', 'q', 'PRIORITY', 1, 'RATE', '100/s', 'CONCURRENCY', 5) == ('+', 'OK')
    assert settings(c, 'q') == {b'priority': 1, b'rate': b'100/s', b'concurrency': 5, b'paused': 0}
    keys = list(stats(c, 'q').keys())
    assert keys[:len(before) - 3] == before[:-3]
    assert keys[-4:] == [b'workers', b'rate_limit', b'concurrency_limit', b'throttled']
    s = stats(c, 'q')
    assert (s[b'rate_limit'], s[b'concurrency_limit'], s[b'throttled']) == (b'100/s', 5, 0)
    assert c.cmd('QUEUE.CONFIG', 'q', 'rate', '30/M', 'concurrency', 0) == ('+', 'OK')
    assert settings(c, 'q')[b'rate'] == b'30/m' and settings(c, 'q')[b'concurrency'] == 0
    assert c.cmd('QUEUE.CONFIG', 'q', 'RATE', 'off') == ('+', 'OK')
    assert settings(c, 'q')[b'rate'] == b''
    # RESP3: maps, with the new fields last.
    r3 = jobd.conn()
    r3.cmd('HELLO', 3)
    kind, pairs = r3.cmd('QUEUE.STATS', 'q')
    assert kind == '%' and [value(k) for k, _ in pairs][-3:] == [b'rate_limit', b'concurrency_limit', b'throttled']
    kind, pairs = r3.cmd('QUEUE.CONFIG', 'q')
    assert kind == '%' and value((kind, pairs)) == {b'priority': 1, b'rate': b'', b'concurrency': 0, b'paused': 0}


def test_bad_queue_config_input_gets_an_error_changes_nothing_and_the_server_keeps_serving(jobd):
    c = jobd.conn()
    c.cmd('QUEUE.CONFIG', 'q', 'RATE', '10/s', 'CONCURRENCY', 3)
    bad = [
        (('RATE', 'fast'), "ERR invalid rate 'fast'"),
        (('RATE', '10'), "ERR invalid rate '10'"),
        (('RATE', '-5/s'), "ERR invalid rate '-5/s'"),
        (('RATE', '1.5/s'), "ERR invalid rate '1.5/s'"),
        (('RATE', '10/d'), "ERR invalid rate '10/d'"),
        (('RATE', '99999999999/s'), "ERR invalid rate '99999999999/s'"),
        (('RATE',), 'ERR RATE needs a value'),
        (('CONCURRENCY', -1), 'ERR CONCURRENCY must be an integer from 0'),
        (('CONCURRENCY', 'many'), 'ERR CONCURRENCY must be an integer from 0'),
        (('CONCURRENCY', '1e3'), 'ERR CONCURRENCY must be an integer from 0'),
        (('PRIORITY', 11), 'ERR PRIORITY must be an integer from 0'),
        (('SPEED', 3), "ERR unknown option 'SPEED'"),
        (('PRIORITY', 1, 'RATE', 'bad'), "ERR invalid rate 'bad'"),  # nothing is applied
        (('CONCURRENCY', 1, 'PRIORITY'), 'ERR PRIORITY needs a value'),
    ]
    for args, error in bad:
        kind, text = c.cmd('QUEUE.CONFIG', 'q', *args)
        assert kind == '-' and text.startswith(error), (args, text)
    assert settings(c, 'q') == {b'priority': 5, b'rate': b'10/s', b'concurrency': 3, b'paused': 0}
    assert c.cmd('QUEUE.CONFIG')[1].startswith('ERR wrong number of arguments')
    c.cmd('SET', 'str', 'x')
    assert c.cmd('QUEUE.CONFIG', 'str', 'RATE', '1/s')[1].startswith('WRONGTYPE')
    assert c.cmd('PING') == ('+', 'PONG')


def test_settings_survive_a_restart_and_a_log_rewrite():
    j = fresh()
    try:
        j.start()
        c = conn(j)
        assert c.cmd('QUEUE.CONFIG', 'q', 'PRIORITY', 3, 'RATE', '30/m', 'CONCURRENCY', 7) == ('+', 'OK')
        c.cmd('QUEUE.CONFIG', 'q2', 'RATE', '5/h')
        c.cmd('QUEUE.CONFIG', 'q2', 'RATE', 'off')
        c.cmd('QUEUE.CONFIG', 'q3', 'CONCURRENCY', 1)
        c.cmd('LPUSH', 'q', *['job%d' % i for i in range(40)])
        expected_q = {b'priority': 3, b'rate': b'30/m', b'concurrency': 7, b'paused': 0}
        for step in ('restart', 'rewrite'):
            if step == 'rewrite':
                assert c.cmd('BGREWRITEAOF')[0] == '+'
                wait_for_rewrite(c)
            j.stop(signal.SIGKILL)
            j.start()
            c = conn(j)
            assert settings(c, 'q') == expected_q, step
            assert settings(c, 'q2')[b'rate'] == b'', step
            assert settings(c, 'q3')[b'concurrency'] == 1, step
        # And they hold: 7 at once (concurrency), then the rest of the 30 tokens.
        assert len(get(c, 'q', count=100)) == 7
        assert c.cmd('QUEUE.CONFIG', 'q', 'CONCURRENCY', 0) == ('+', 'OK')
        assert len(get(c, 'q', count=100)) == 23
        assert j.stop() == 0
    finally:
        cleanup(j)


def test_queue_config_lines_apply_after_the_log_and_win_for_what_they_name(tmp_path):
    j = fresh()
    conf = tmp_path / 'jobd.conf'
    conf.write_text('queue q rate 10/s concurrency 3 priority 2\n'
                    'queue "other q" paused yes\n')
    try:
        j.start('--config', str(conf))
        c = conn(j)
        assert settings(c, 'q') == {b'priority': 2, b'rate': b'10/s', b'concurrency': 3, b'paused': 0}
        assert settings(c, 'other q')[b'paused'] == 1
        c.cmd('LPUSH', 'q', *['job%d' % i for i in range(20)])
        assert len(get(c, 'q', count=20)) == 3
        assert value(c.cmd('CONFIG', 'GET', 'queue'))[1].startswith(b'q priority 2 rate 10/s concurrency 3')
        # Changed at runtime, then restarted: the file's settings come back; the others stay as logged.
        c.cmd('QUEUE.CONFIG', 'q', 'RATE', '50/s', 'CONCURRENCY', 9, 'PRIORITY', 1)
        c.cmd('QUEUE.PAUSE', 'q')
        c.cmd('QUEUE.RESUME', 'other q')
        j.stop()
        j.start('--config', str(conf))
        c = conn(j)
        assert settings(c, 'q') == {b'priority': 2, b'rate': b'10/s', b'concurrency': 3, b'paused': 1}
        assert settings(c, 'other q')[b'paused'] == 1
        # The same given as a flag.
        j.stop()
        j.start('--queue', 'q concurrency 6')
        c = conn(j)
        assert settings(c, 'q')[b'concurrency'] == 6 and settings(c, 'q')[b'rate'] == b'10/s'
        assert j.stop() == 0
    finally:
        cleanup(j)


def test_flushall_drops_runtime_queue_settings_and_config_lines_hold_again(tmp_path):
    j = fresh()
    conf = tmp_path / 'jobd.conf'
    conf.write_text('queue critical priority 1 concurrency 2\n')
    try:
        j.start('--config', str(conf))
        c = conn(j)
        c.cmd('QUEUE.CONFIG', 'critical', 'RATE', '5/s')
        c.cmd('QUEUE.CONFIG', 'other', 'PRIORITY', 3)
        c.cmd('QUEUE.PAUSE', 'held')
        c.cmd('LPUSH', 'critical', 'a')
        assert c.cmd('FLUSHALL') == ('+', 'OK')
        # QUEUE.CONFIG and QUEUE.PAUSE are data, as keys are: gone. The file's line is configuration: it holds.
        assert settings(c, 'critical') == {b'priority': 1, b'rate': b'', b'concurrency': 2, b'paused': 0}
        assert settings(c, 'other')[b'priority'] == 5
        assert settings(c, 'held')[b'paused'] == 0
        c.cmd('LPUSH', 'critical', 'b')
        assert value(c.cmd('QUEUE.STATS', 'critical'))[3][1::2][1] == 1  # pending_by_priority: level 1 holds it
        # The same after a restart that replays the FLUSHALL from the log.
        j.stop()
        j.start('--config', str(conf))
        c = conn(j)
        assert settings(c, 'critical') == {b'priority': 1, b'rate': b'', b'concurrency': 2, b'paused': 0}
        assert settings(c, 'other')[b'priority'] == 5
        assert j.stop() == 0
    finally:
        cleanup(j)


def test_a_bad_queue_line_stops_the_server_naming_it(tmp_path):
    conf = tmp_path / 'bad.conf'
    conf.write_text('port %d\nqueue q rate fast\n' % free_port())
    out = subprocess.run([JOBD_BIN, 'serve', str(conf), '--dir', str(tmp_path / 'data')],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 1
    assert 'line 2' in out.stderr and "invalid rate 'fast'" in out.stderr
