"""The job engine over RESP: JOB.*, QUEUE.*, CRON.* against the real binary.

Queues are lists: plain pushes and pops behave as Redis (the differential
suite checks that); these tests check what jobd adds on top: priorities,
leases, retries, dead letters, results, unique jobs and durability."""
import os
import signal
import threading
import time

import pytest

from conftest import start_jobd
from resp import Conn, value


def ids(reply):
    return [job[1] for job in value(reply)]


def get(c, *queues, count=None, block=None, lease=None):
    args = ['JOB.GET']
    if block is not None:
        args += ['BLOCK', block]
    if count is not None:
        args += ['COUNT', count]
    if lease is not None:
        args += ['LEASE', lease]
    return value(c.cmd(*args, 'FROM', *queues))


def info(c, job_id):
    fields = value(c.cmd('JOB.INFO', job_id))
    return dict(zip(fields[::2], fields[1::2]))


def stats(c, queue):
    fields = value(c.cmd('QUEUE.STATS', queue))
    return dict(zip(fields[::2], fields[1::2]))


def test_a_job_is_added_leased_and_acked_with_its_result(jobd):
    c = jobd.conn()
    job = value(c.cmd('JOB.ADD', 'emails', 'hello'))
    assert c.cmd('LLEN', 'emails') == (':', 1)
    [[queue, job_id, payload, attempt]] = get(c, 'emails')
    assert (queue, job_id, payload, attempt) == (b'emails', job, b'hello', 1)
    assert info(c, job)[b'state'] == b'active'
    assert c.cmd('JOB.ACK', job, 'sent') == ('+', 'OK')
    assert info(c, job)[b'state'] == b'completed'
    assert c.cmd('JOB.RESULT', job) == ('$', b'sent')
    assert c.cmd('JOB.ACK', job) == ('-', "ERR job '%s' is completed, not active" % job.decode())
    assert stats(c, 'emails')[b'completed'] == 1


def test_a_plain_lpush_is_a_job_and_gets_a_record_when_leased(jobd):
    c = jobd.conn()
    c.cmd('LPUSH', 'q', 'a', 'b')
    jobs = get(c, 'q', count=5)
    assert [j[2] for j in jobs] == [b'a', b'b']  # FIFO: pushed at the head, taken at the tail
    for j in jobs:
        assert info(c, j[1])[b'state'] == b'active'
        c.cmd('JOB.ACK', j[1])
    assert get(c, 'q') == []
    assert c.cmd('EXISTS', 'q') == (':', 0)


def test_priorities_lie_along_the_list_and_tail_pops_take_the_most_urgent(jobd):
    c = jobd.conn()
    c.cmd('JOB.ADD', 'q', 'normal1')
    c.cmd('JOB.ADD', 'q', 'low', 'PRIORITY', 9)
    c.cmd('JOB.ADD', 'q', 'critical', 'PRIORITY', 0)
    c.cmd('JOB.ADD', 'q', 'normal2')
    c.cmd('RPUSH', 'q', 'front-of-normal')  # the front of the line of its level
    assert value(c.cmd('LRANGE', 'q', 0, -1)) == [b'low', b'normal2', b'normal1', b'front-of-normal', b'critical']
    assert c.cmd('RPOP', 'q') == ('$', b'critical')
    assert [j[2] for j in get(c, 'q', count=10)] == [b'front-of-normal', b'normal1', b'normal2', b'low']
    pending = stats(c, 'q')
    assert pending[b'pending'] == 0 and pending[b'active'] == 4


def test_queue_config_sets_the_priority_of_plain_pushes(jobd):
    c = jobd.conn()
    c.cmd('LPUSH', 'q', 'normal')
    assert c.cmd('QUEUE.CONFIG', 'q', 'PRIORITY', 1) == ('+', 'OK')
    c.cmd('LPUSH', 'q', 'critical')
    assert c.cmd('RPOP', 'q') == ('$', b'critical')
    assert c.cmd('QUEUE.CONFIG', 'q', 'PRIORITY', 11)[0] == '-'


def test_job_get_takes_the_most_urgent_across_queues_ties_by_order(jobd):
    c = jobd.conn()
    c.cmd('JOB.ADD', 'a', 'a5')
    c.cmd('JOB.ADD', 'b', 'b5')
    c.cmd('JOB.ADD', 'b', 'b2', 'PRIORITY', 2)
    assert [j[2] for j in get(c, 'a', 'b', count=3)] == [b'b2', b'a5', b'b5']


def test_job_get_without_block_answers_at_once_and_with_block_waits(jobd):
    c = jobd.conn()
    assert c.cmd('JOB.GET', 'FROM', 'empty') == ('*', [])
    t = time.time()
    assert c.cmd('JOB.GET', 'BLOCK', 200, 'FROM', 'empty') == ('*', [])
    assert time.time() - t >= 0.15
    waiters = [jobd.conn() for _ in range(3)]
    for w in waiters:
        w.send('JOB.GET', 'BLOCK', 5000, 'FROM', 'work')
    time.sleep(0.2)
    c.cmd('LPUSH', 'work', 'one', 'two', 'three')
    got = [value(w.read())[0][2] for w in waiters]
    assert got == [b'one', b'two', b'three']  # fair FIFO among waiting workers


def test_only_the_lease_holder_may_ack_and_a_closed_connection_gives_the_job_back(jobd):
    worker, other = jobd.conn(), jobd.conn()
    job = value(worker.cmd('JOB.ADD', 'q', 'x'))
    get(worker, 'q')
    reply = other.cmd('JOB.ACK', job)
    assert reply[0] == '-' and reply[1].startswith('NOLEASE')
    assert other.cmd('JOB.FAIL', job, 'boom')[1].startswith('NOLEASE')
    assert other.cmd('JOB.TOUCH', job)[1].startswith('NOLEASE')
    worker.close()
    time.sleep(0.2)
    assert info(other, job)[b'state'] == b'pending'
    [[_, again, _, attempt]] = get(other, 'q')
    assert again == job and attempt == 2


def test_a_lease_that_runs_out_is_a_failed_attempt(jobd):
    c = jobd.conn()
    job = value(c.cmd('JOB.ADD', 'q', 'x', 'RETRIES', 1))
    get(c, 'q', lease=100)
    time.sleep(0.4)
    i = info(c, job)
    assert i[b'state'] == b'pending' and i[b'last_error'] == b'lease expired'
    get(c, 'q', lease=100)
    time.sleep(0.4)
    assert info(c, job)[b'state'] == b'dead'


def test_touch_extends_a_lease(jobd):
    c = jobd.conn()
    job = value(c.cmd('JOB.ADD', 'q', 'x'))
    get(c, 'q', lease=300)
    for _ in range(3):
        time.sleep(0.15)
        assert c.cmd('JOB.TOUCH', job, 300)[0] == ':'
    assert info(c, job)[b'state'] == b'active'


def test_failures_retry_with_backoff_then_go_to_dead_letters(jobd):
    c = jobd.conn()
    job = value(c.cmd('JOB.ADD', 'q', 'x', 'RETRIES', 2, 'BACKOFF', 100))
    for attempt in (1, 2):
        [[_, _, _, n]] = get(c, 'q', block=2000)
        assert n == attempt
        c.cmd('JOB.FAIL', job, 'err%d' % attempt)
        assert info(c, job)[b'state'] == b'delayed'
    get(c, 'q', block=2000)
    c.cmd('JOB.FAIL', job, 'err3')
    i = info(c, job)
    assert i[b'state'] == b'dead' and i[b'attempts'] == 3
    assert i[b'errors'] == [b'err1', b'err2', b'err3']
    [[dead_id, payload, attempts, error, _]] = value(c.cmd('QUEUE.DEAD', 'q'))
    assert (dead_id, payload, attempts, error) == (job, b'x', 3, b'err3')
    assert stats(c, 'q')[b'dead'] == 1
    reply = c.cmd('JOB.RESULT', job)
    assert reply[0] == '-' and 'is dead: err3' in reply[1]
    assert c.cmd('QUEUE.REQUEUE', 'q', 'ALL') == (':', 1)
    assert info(c, job)[b'state'] == b'pending'
    assert value(c.cmd('QUEUE.DEAD', 'q')) == []


def test_fail_dead_and_retryin(jobd):
    c = jobd.conn()
    a = value(c.cmd('JOB.ADD', 'q', 'a', 'RETRIES', 5))
    get(c, 'q')
    c.cmd('JOB.FAIL', a, 'fatal', 'DEAD')
    assert info(c, a)[b'state'] == b'dead'
    b = value(c.cmd('JOB.ADD', 'q', 'b'))
    get(c, 'q')
    c.cmd('JOB.FAIL', b, 'rate limited', 'RETRYIN', 150)
    assert info(c, b)[b'state'] == b'delayed'
    assert get(c, 'q', block=2000)[0][1] == b


def test_delayed_jobs_become_pending_on_time(jobd):
    c = jobd.conn()
    job = value(c.cmd('JOB.ADD', 'q', 'later', 'DELAY', 300))
    assert c.cmd('LLEN', 'q') == (':', 0)
    assert stats(c, 'q')[b'delayed'] == 1
    t = time.time()
    [[_, got, payload, _]] = get(c, 'q', block=3000)
    assert got == job and payload == b'later' and time.time() - t >= 0.2
    at = value(c.cmd('JOB.ADD', 'q', 'at', 'AT', int(time.time() * 1000) + 200))
    assert info(c, at)[b'state'] == b'delayed'


def test_a_job_not_started_within_its_ttl_expires(jobd):
    c = jobd.conn()
    job = value(c.cmd('JOB.ADD', 'q', 'x', 'TTL', 100))
    time.sleep(0.35)
    assert info(c, job)[b'state'] == b'expired'
    assert c.cmd('LLEN', 'q') == (':', 0)


def test_unique_jobs_return_the_existing_id(jobd):
    c = jobd.conn()
    first = value(c.cmd('JOB.ADD', 'q', 'x', 'UNIQUE', 'user:1'))
    assert value(c.cmd('JOB.ADD', 'q', 'y', 'UNIQUE', 'user:1')) == first
    get(c, 'q')
    assert value(c.cmd('JOB.ADD', 'q', 'y', 'UNIQUE', 'user:1')) == first  # active still holds it
    c.cmd('JOB.ACK', first)
    assert value(c.cmd('JOB.ADD', 'q', 'y', 'UNIQUE', 'user:1')) != first
    held = value(c.cmd('JOB.ADD', 'q2', 'z', 'UNIQUE', 'k', 'FOR', 60000))
    get(c, 'q2')
    c.cmd('JOB.ACK', held)
    assert value(c.cmd('JOB.ADD', 'q2', 'z', 'UNIQUE', 'k')) == held  # FOR ms after it started


def test_cancel_and_retry(jobd):
    c = jobd.conn()
    job = value(c.cmd('JOB.ADD', 'q', 'x'))
    c.cmd('LPUSH', 'q', 'other')
    assert c.cmd('JOB.CANCEL', job) == ('+', 'OK')
    assert value(c.cmd('LRANGE', 'q', 0, -1)) == [b'other']
    assert info(c, job)[b'state'] == b'canceled'
    assert c.cmd('JOB.CANCEL', job)[0] == '-'
    assert c.cmd('JOB.RETRY', job) == ('+', 'OK')
    assert info(c, job)[b'state'] == b'pending'
    assert c.cmd('JOB.RETRY', job)[0] == '-'


def test_result_wait_blocks_until_the_job_finishes(jobd):
    worker, waiter = jobd.conn(), jobd.conn()
    job = value(worker.cmd('JOB.ADD', 'q', 'x'))
    assert waiter.cmd('JOB.RESULT', job, 'WAIT', 100) == ('$', None)
    waiter.send('JOB.RESULT', job, 'WAIT', 5000)
    get(worker, 'q')
    time.sleep(0.1)
    worker.cmd('JOB.ACK', job, '42')
    assert waiter.read() == ('$', b'42')


def test_pause_resume_and_purge(jobd):
    c = jobd.conn()
    c.cmd('LPUSH', 'q', 'a', 'b')
    c.cmd('JOB.ADD', 'q', 'later', 'DELAY', 100000)
    assert c.cmd('QUEUE.PAUSE', 'q') == ('+', 'OK')
    assert get(c, 'q') == []
    w = jobd.conn()
    w.send('JOB.GET', 'BLOCK', 5000, 'FROM', 'q')
    time.sleep(0.1)
    c.cmd('QUEUE.RESUME', 'q')
    assert value(w.read())[0][2] == b'a'
    assert c.cmd('QUEUE.PURGE', 'q') == (':', 2)
    assert c.cmd('LLEN', 'q') == (':', 0)
    assert stats(c, 'q')[b'delayed'] == 0
    assert b'q' in value(c.cmd('QUEUE.LIST'))  # still has an active job


def test_a_plain_lpush_into_a_new_list_is_counted_from_its_first_job(jobd):
    c = jobd.conn()
    assert c.cmd('LPUSH', 'fresh', 'a', 'b', 'c') == (':', 3)
    c.cmd('RPUSH', 'fresh', 'd')
    time.sleep(1.1)
    s = stats(c, 'fresh')
    assert s[b'enqueued'] == 4 and s[b'pending'] == 4
    assert s[b'oldest_pending_ms'] >= 1000
    assert b'fresh' in value(c.cmd('QUEUE.LIST'))


def test_queue_list_shows_empty_queues_with_settings_and_not_plain_empty_ones(jobd):
    c = jobd.conn()
    c.cmd('QUEUE.CONFIG', 'critical', 'PRIORITY', 1)
    c.cmd('QUEUE.CONFIG', 'limited', 'RATE', '10/s')
    c.cmd('QUEUE.PAUSE', 'held')
    c.cmd('LPUSH', 'drained', 'x')
    c.cmd('RPOP', 'drained')
    assert value(c.cmd('QUEUE.LIST')) == [b'critical', b'held', b'limited']


def test_plain_pops_take_jobs_out_of_the_engine(jobd):
    c = jobd.conn()
    job = value(c.cmd('JOB.ADD', 'q', 'x', 'UNIQUE', 'u'))
    assert c.cmd('BRPOP', 'q', 1) == ('*', [('$', b'q'), ('$', b'x')])
    assert c.cmd('JOB.INFO', job)[0] == '-'
    assert value(c.cmd('JOB.ADD', 'q', 'y', 'UNIQUE', 'u')) != job


def test_bad_input_gets_precise_errors_and_changes_nothing(jobd):
    c = jobd.conn()
    bad = [
        (('JOB.ADD', 'q', 'x', 'PRIORITY', 11), 'PRIORITY'),
        (('JOB.ADD', 'q', 'x', 'DELAY', -5), 'DELAY'),
        (('JOB.ADD', 'q', 'x', 'RETRIES', 'many'), 'RETRIES'),
        (('JOB.ADD', 'q', 'x', 'WHATEVER'), 'WHATEVER'),
        (('JOB.ADD', 'q', 'x', 'MAX', 5), 'BACKOFF'),
        (('JOB.ADD', 'q', 'x', 'DELAY', 5, 'AT', 5), 'AT'),
        (('JOB.ADD', 'q', 'x', 'TTL'), 'TTL'),
        (('JOB.GET', 'COUNT', 1), 'FROM'),
        (('JOB.GET', 'BLOCK', -1, 'FROM', 'q'), 'BLOCK'),
        (('JOB.ACK', 'nope'), 'no such job'),
        (('JOB.FAIL', 'nope', 'e', 'RETRYIN', -1), 'RETRYIN'),
        (('CRON.ADD', 'n', '61 * * * *', 'q', 'x'), 'minute'),
        (('CRON.ADD', 'n', '* * *', 'q', 'x'), '5 fields'),
        (('QUEUE.DEAD', 'q', 'COUNT', 0), 'COUNT'),
    ]
    for args, word in bad:
        kind, message = c.cmd(*args)
        assert kind == '-' and message.startswith('ERR') and word in message, (args, message)
    c.cmd('SET', 's', 'v')
    assert c.cmd('JOB.ADD', 's', 'x')[1].startswith('WRONGTYPE')
    assert c.cmd('JOB.GET', 'FROM', 's')[1].startswith('WRONGTYPE')
    assert c.cmd('DBSIZE') == (':', 1)
    assert value(c.cmd('CRON.LIST')) == []
    assert c.cmd('JOBD', 'ADD', '1')[0] == '-'


def test_cron_entries_are_listed_and_deleted(jobd):
    c = jobd.conn()
    assert c.cmd('CRON.ADD', 'nightly', '@daily', 'reports', 'build', 'PRIORITY', 3) == ('+', 'OK')
    assert c.cmd('CRON.ADD', 'quarter', '*/15 9-17 * * 1-5', 'reports', 'tick') == ('+', 'OK')
    entries = value(c.cmd('CRON.LIST'))
    assert [e[0] for e in entries] == [b'nightly', b'quarter']
    nightly = entries[0]
    assert nightly[1] == b'@daily' and nightly[4] % 86400000 == 0 and nightly[6] == [b'PRIORITY', b'3']
    assert c.cmd('CRON.DEL', 'nightly') == (':', 1)
    assert c.cmd('CRON.DEL', 'nightly') == (':', 0)


def test_info_jobs_and_command_docs(jobd):
    c = jobd.conn()
    c.cmd('JOB.ADD', 'q', 'x')
    text = value(c.cmd('INFO', 'jobs')).decode()
    assert '# Jobs' in text and 'jobs_pending:1' in text and 'queues:1' in text
    docs = value(c.cmd('COMMAND', 'DOCS', 'job.add'))
    assert docs[0] == b'job.add'
    info_reply = value(c.cmd('COMMAND', 'INFO', 'job.get'))
    assert info_reply[0][0] == b'job.get' and info_reply[0][1] == -3


def test_jobs_survive_a_kill_and_active_ones_return_to_pending():
    server = start_jobd('--appendonly', 'yes', '--appendfsync', 'always')
    try:
        c = server.conn()
        pending = value(c.cmd('JOB.ADD', 'q', 'p', 'PRIORITY', 2, 'RETRIES', 3))
        c.cmd('LPUSH', 'q', 'plain')
        delayed = value(c.cmd('JOB.ADD', 'q', 'd', 'DELAY', 600000))
        done = value(c.cmd('JOB.ADD', 'q', 'done', 'PRIORITY', 0))
        [[_, got, _, _]] = get(c, 'q')
        assert got == done
        c.cmd('JOB.ACK', done, 'result!')
        dead = value(c.cmd('JOB.ADD', 'q', 'dead', 'PRIORITY', 0))
        get(c, 'q')
        c.cmd('JOB.FAIL', dead, 'bad', 'DEAD')
        [[_, active, _, _]] = get(c, 'q')
        assert active == pending
        c.cmd('QUEUE.CONFIG', 'q', 'PRIORITY', 1)
        server.proc.send_signal(signal.SIGKILL)
        server.proc.wait()
        data = os.path.join(server.workdir, 'data')
        again = start_jobd('--appendonly', 'yes', '--dir', data)
        try:
            c = again.conn()
            assert info(c, delayed)[b'state'] == b'delayed'
            assert info(c, dead)[b'state'] == b'dead'
            assert c.cmd('JOB.RESULT', done) == ('$', b'result!')
            i = info(c, pending)
            assert i[b'state'] == b'pending' and i[b'attempts'] == 1
            jobs = get(c, 'q', count=5)
            assert [(j[2], j[3]) for j in jobs] == [(b'p', 2), (b'plain', 1)]
            c.cmd('LPUSH', 'q', 'critical')  # the queue's default priority survived
            assert c.cmd('RPOP', 'q') == ('$', b'critical')
        finally:
            again.stop()
    finally:
        server.stop()


def test_a_log_rewrite_keeps_job_records_levels_and_settings():
    server = start_jobd('--appendonly', 'yes')
    try:
        c = server.conn()
        c.cmd('QUEUE.CONFIG', 'q', 'PRIORITY', 3)
        c.cmd('LPUSH', 'q', 'plain3')
        urgent = value(c.cmd('JOB.ADD', 'q', 'urgent', 'PRIORITY', 0, 'RETRIES', 4, 'UNIQUE', 'u'))
        c.cmd('JOB.ADD', 'q', 'low', 'PRIORITY', 9)
        delayed = value(c.cmd('JOB.ADD', 'q', 'later', 'DELAY', 600000))
        dead = value(c.cmd('JOB.ADD', 'd', 'x'))
        get(c, 'd')
        c.cmd('JOB.FAIL', dead, 'oops', 'DEAD')
        c.cmd('CRON.ADD', 'hourly', '@hourly', 'q', 'tick')
        before = value(c.cmd('LRANGE', 'q', 0, -1))
        assert c.cmd('BGREWRITEAOF')[0] == '+'
        for _ in range(100):
            if b'aof_rewrite_in_progress:0' in value(c.cmd('INFO', 'persistence')):
                break
            time.sleep(0.05)
        c.cmd('JOB.ADD', 'q', 'after-rewrite', 'PRIORITY', 1)
        server.proc.send_signal(signal.SIGKILL)
        server.proc.wait()
        again = start_jobd('--appendonly', 'yes', '--dir', os.path.join(server.workdir, 'data'))
        try:
            c = again.conn()
            after = value(c.cmd('LRANGE', 'q', 0, -1))
            assert after == before[:-1] + [b'after-rewrite', b'urgent']
            assert info(c, urgent)[b'max_retries'] == 4
            assert value(c.cmd('JOB.ADD', 'q', 'dup', 'UNIQUE', 'u')) == urgent
            assert info(c, delayed)[b'state'] == b'delayed'
            assert info(c, dead)[b'errors'] == [b'oops']
            assert [e[0] for e in value(c.cmd('CRON.LIST'))] == [b'hourly']
            assert [j[2] for j in get(c, 'q', count=10)] == [b'urgent', b'after-rewrite', b'plain3', b'low']
        finally:
            again.stop()
    finally:
        server.stop()


def test_swapdb_swaps_the_jobs_and_move_carries_pending_ones_along():
    server = start_jobd('--appendonly', 'yes')
    try:
        c = server.conn()
        first = value(c.cmd('JOB.ADD', 'q', 'a', 'UNIQUE', 'u'))
        delayed = value(c.cmd('JOB.ADD', 'q', 'later', 'DELAY', 600000))
        c.cmd('QUEUE.CONFIG', 'q', 'PRIORITY', 2)
        assert c.cmd('SWAPDB', 0, 1) == ('+', 'OK')
        assert stats(c, 'q')[b'delayed'] == 0 and c.cmd('LLEN', 'q') == (':', 0)
        assert c.cmd('JOB.ADD', 'q', 'again', 'UNIQUE', 'u')[1] != first, 'the unique key went with its db'
        c.cmd('SELECT', 1)
        assert stats(c, 'q')[b'delayed'] == 1 and stats(c, 'q')[b'default_priority'] == 2
        assert c.cmd('JOB.ADD', 'q', 'dup', 'UNIQUE', 'u') == ('$', first)
        [[queue, got, _, _]] = get(c, 'q')
        assert (queue, got) == (b'q', first)
        assert c.cmd('JOB.ACK', first, 'done') == ('+', 'OK')
        assert stats(c, 'q')[b'completed'] == 1
        # MOVE carries the list: its jobs are leased, failed and retried in the database they went to.
        c.cmd('SELECT', 0)
        moved = value(c.cmd('JOB.ADD', 'm', 'b', 'RETRIES', 1, 'UNIQUE', 'mu'))
        assert c.cmd('MOVE', 'm', 1) == (':', 1)
        c.cmd('SELECT', 1)
        [[_, got, _, _]] = get(c, 'm')
        assert got == moved
        assert c.cmd('JOB.FAIL', moved, 'once', 'RETRYIN', 0) == ('+', 'OK')
        time.sleep(0.2)
        assert c.cmd('LLEN', 'm') == (':', 1)
        assert c.cmd('JOB.ADD', 'm', 'dup', 'UNIQUE', 'mu') == ('$', moved)
        c.cmd('SELECT', 0)
        assert c.cmd('EXISTS', 'm') == (':', 0)
        server.proc.send_signal(signal.SIGKILL)
        server.proc.wait()
        again = start_jobd('--appendonly', 'yes', '--dir', os.path.join(server.workdir, 'data'))
        try:
            c = again.conn()
            c.cmd('SELECT', 1)
            assert info(c, delayed)[b'state'] == b'delayed' and stats(c, 'q')[b'delayed'] == 1
            assert c.cmd('LLEN', 'm') == (':', 1) and info(c, moved)[b'attempts'] == 1
            assert c.cmd('JOB.ADD', 'm', 'dup', 'UNIQUE', 'mu') == ('$', moved)
            c.cmd('SELECT', 0)
            assert stats(c, 'q')[b'delayed'] == 0
        finally:
            again.stop()
    finally:
        server.stop()
