"""maxmemory: keys the policy allows are evicted to stay under the limit,
approximating LRU/LFU by sampling; lists (queues of jobs) are never evicted;
when only protected data remains, writes that would grow memory get Redis'
-OOM error and pops still work, so queues drain and then accept work again."""
import pytest

from resp import value

OOM = ('-', "OOM command not allowed when used memory > 'maxmemory'.")
POLICIES = ['noeviction', 'allkeys-lru', 'volatile-lru', 'allkeys-lfu', 'volatile-lfu', 'allkeys-random',
            'volatile-random', 'volatile-ttl']


def info(c, section):
    text = c.cmd('INFO', section)[1].decode()
    return dict(line.split(':', 1) for line in text.split('\r\n') if ':' in line)


def pipeline(c, commands):
    for command in commands:
        c.send(*command)
    return [c.read() for _ in commands]


def test_allkeys_lru_keeps_the_hot_keys_and_memory_under_the_limit(fresh_jobd):
    server = fresh_jobd('--appendonly', 'no', '--maxmemory', '50mb', '--maxmemory-policy', 'allkeys-lru')
    c = server.conn()
    value_1k = 'v' * 1000
    hot = ['hot:%d' % i for i in range(1000)]
    pipeline(c, [['SET', key, value_1k] for key in hot])
    for round_no in range(50):  # 100,000 cold keys of 1 KB: twice the limit
        pipeline(c, [['SET', 'cold:%d:%d' % (round_no, i), value_1k] for i in range(2000)])
        replies = pipeline(c, [['GET', key] for key in hot])
        if round_no % 10 == 9:
            c.cmd('DEBUG', 'SLEEP', '0.15')  # let the access clock (tenths of a second) move on
    survivors = sum(1 for reply in pipeline(c, [['EXISTS', key] for key in hot]) if reply == (':', 1))
    memory, stats = info(c, 'memory'), info(c, 'stats')
    assert int(stats['evicted_keys']) > 40_000
    assert survivors >= 990, 'only %d of 1000 hot keys survived' % survivors
    assert int(memory['used_memory']) <= 50 * 1024 * 1024 * 1.05
    assert int(memory['used_memory_rss']) <= 50 * 1024 * 1024 * 1.3, memory['used_memory_rss']
    assert memory['maxmemory_policy'] == 'allkeys-lru' and memory['maxmemory'] == str(50 * 1024 * 1024)


@pytest.mark.parametrize('policy', POLICIES)
def test_lists_survive_every_policy_and_oom_lets_the_queue_drain(fresh_jobd, policy):
    server = fresh_jobd('--appendonly', 'no', '--maxmemory', '20mb', '--maxmemory-policy', policy)
    c = server.conn()
    jobs = ['job-%05d-' % i + 'x' * 90 for i in range(10_000)]
    for start in range(0, len(jobs), 1000):
        assert c.cmd('LPUSH', 'q', *jobs[start:start + 1000])[0] == ':'
    # Fill memory with strings (with a TTL, so volatile policies have candidates) until writes are refused or evicted.
    refused = 0
    for round_no in range(30):
        replies = pipeline(c, [['SET', 's:%d:%d' % (round_no, i), 'v' * 1000, 'EX', '3600'] for i in range(1000)])
        refused += sum(1 for reply in replies if reply == OOM)
    stats = info(c, 'stats')
    if policy == 'noeviction':
        assert refused > 0 and int(stats['evicted_keys']) == 0
    else:
        assert int(stats['evicted_keys']) > 0
    assert c.cmd('LLEN', 'q') == (':', 10_000)
    assert value(c.cmd('LRANGE', 'q', '0', '-1')) == [job.encode() for job in reversed(jobs)]
    # Only the queue may remain: below its size, pushes are refused (evictable keys go first) ...
    assert c.cmd('CONFIG', 'SET', 'maxmemory', '1mb') == ('+', 'OK')
    for _ in range(100):
        if c.cmd('LPUSH', 'q', 'one-more') == OOM:
            break
    else:
        pytest.fail('LPUSH never got -OOM below the queue size')
    assert int(info(c, 'stats')['rejected_enqueues_oom']) >= 1
    if not policy.startswith('volatile') and policy != 'noeviction':
        assert c.cmd('DBSIZE') == (':', 1), 'every evictable key should be gone'
    assert c.cmd('GET', 'anything')[0] == '$'  # reads work
    # ... pops work and free memory, and then pushes are accepted again.
    for _ in range(95):
        assert c.cmd('RPOP', 'q', '100')[0] == '*'
    c.cmd('FLUSHDB')  # the strings a volatile/noeviction policy could not drop
    assert c.cmd('LPUSH', 'q', 'after-drain')[0] == ':'


def test_oom_replies_match_redis(both):
    jobd, redis = both
    replies = {}
    for name, server in (('jobd', jobd), ('redis', redis)):
        c = server.conn()
        c.cmd('SET', 'k', 'v')
        c.cmd('RPUSH', 'q', 'a', 'b')
        assert c.cmd('CONFIG', 'SET', 'maxmemory', '1') == ('+', 'OK')
        assert c.cmd('CONFIG', 'SET', 'maxmemory-policy', 'noeviction') == ('+', 'OK')
        try:
            replies[name] = pipeline(c, [
                ['SET', 'k', 'w'], ['LPUSH', 'q', 'c'], ['APPEND', 'k', 'x'], ['GET', 'k'], ['RPOP', 'q'], ['DEL', 'k'],
                ['MULTI'], ['SET', 'x', '1'], ['GET', 'x'], ['EXEC'],
                ['CONFIG', 'SET', 'maxmemory-policy', 'bogus'], ['CONFIG', 'GET', 'maxmemory-policy'],
            ])
        finally:
            c.cmd('CONFIG', 'SET', 'maxmemory', '0')
    assert replies['jobd'] == replies['redis']


def test_lfu_counts_accesses(fresh_jobd):
    server = fresh_jobd('--appendonly', 'no', '--maxmemory-policy', 'allkeys-lfu')
    c = server.conn()
    c.cmd('SET', 'often', 'x')
    c.cmd('SET', 'rarely', 'x')
    assert c.cmd('OBJECT', 'FREQ', 'rarely') == (':', 5)  # new keys start at 5, as Redis
    pipeline(c, [['GET', 'often']] * 2000)
    assert value(c.cmd('OBJECT', 'FREQ', 'often')) > 10
    assert c.cmd('OBJECT', 'FREQ', 'rarely') == (':', 5)  # OBJECT itself does not count


def test_info_memory_reports_what_queues_hold(fresh_jobd):
    server = fresh_jobd('--appendonly', 'no')
    c = server.conn()
    assert int(info(c, 'memory')['used_memory_jobs']) == 0
    for start in range(0, 100_000, 1000):
        c.cmd('LPUSH', 'q', *(['x' * 100] * 1000))
    c.cmd('SET', 'other', 'y' * 1_000_000)
    memory = info(c, 'memory')
    jobs, used = int(memory['used_memory_jobs']), int(memory['used_memory'])
    assert 100_000 * 100 <= jobs <= 100_000 * 130, jobs  # the elements plus packing overhead
    assert jobs + 1_000_000 <= used
    assert {'used_memory_human', 'used_memory_rss', 'used_memory_peak', 'maxmemory', 'maxmemory_policy',
            'mem_fragmentation_ratio'} <= set(memory)


def finish_jobs(c, queue, count, result):
    """Adds `count` jobs, leases them in one JOB.GET and acks each with `result`; returns their ids."""
    ids = [reply[1].decode() for reply in pipeline(c, [['JOB.ADD', queue, 'p%d' % i] for i in range(count)])]
    taken = value(c.cmd('JOB.GET', 'COUNT', str(count), 'FROM', queue))
    assert len(taken) == count
    assert all(reply == ('+', 'OK') for reply in pipeline(c, [['JOB.ACK', job[1], result] for job in taken]))
    return ids


@pytest.mark.parametrize('policy', ['allkeys-lru', 'volatile-ttl'])
def test_kept_results_are_evicted_oldest_first_and_unfinished_jobs_never(fresh_jobd, policy):
    server = fresh_jobd('--appendonly', 'no', '--maxmemory', '30mb', '--maxmemory-policy', policy)
    c = server.conn()
    dead_id = value(c.cmd('JOB.ADD', 'risky', 'boom'))
    c.cmd('JOB.GET', 'FROM', 'risky')
    assert c.cmd('JOB.FAIL', dead_id, 'broken') == ('+', 'OK')
    waiting = ['waiting-%d' % i for i in range(1000)]
    c.cmd('LPUSH', 'later', *waiting)
    delayed_id = value(c.cmd('JOB.ADD', 'later', 'in-an-hour', 'DELAY', '3600000'))
    first_ids = finish_jobs(c, 'work', 500, 'r' * 2000)
    for _ in range(39):  # 20,000 results of 2 KB: about 40 MB, over the 30 MB limit
        last_ids = finish_jobs(c, 'work', 500, 'r' * 2000)
    c.cmd('JOB.ADD', 'work', 'one-more')  # a write: brings memory back under the limit
    jobs, memory = info(c, 'jobs'), info(c, 'memory')
    assert int(jobs['job_records_evicted']) > 2000, jobs
    assert int(memory['used_memory']) <= 30 * 1024 * 1024 * 1.1, memory['used_memory']
    assert c.cmd('JOB.RESULT', first_ids[0])[0] == '-', 'the oldest result should have been evicted'
    assert value(c.cmd('JOB.RESULT', last_ids[-1])) == b'r' * 2000, 'the newest result should be kept'
    # Nothing unfinished or dead was touched.
    assert value(c.cmd('QUEUE.DEAD', 'risky'))[0][0] == dead_id
    fields = value(c.cmd('JOB.INFO', delayed_id))
    assert dict(zip(fields[::2], fields[1::2]))[b'state'] == b'delayed'
    assert value(c.cmd('LRANGE', 'later', '0', '-1')) == [job.encode() for job in reversed(waiting)]
    assert int(info(c, 'stats')['evicted_keys']) == 0  # the records went first: no key had to


def test_noeviction_keeps_results_and_refuses_new_jobs(fresh_jobd):
    server = fresh_jobd('--appendonly', 'no', '--maxmemory', '20mb', '--maxmemory-policy', 'noeviction')
    c = server.conn()
    first_ids = finish_jobs(c, 'work', 500, 'r' * 2000)
    refused = 0
    for _ in range(20):
        replies = pipeline(c, [['JOB.ADD', 'work', 'p'] for _ in range(500)])
        refused += sum(1 for reply in replies if reply == OOM)
        taken = value(c.cmd('JOB.GET', 'COUNT', '500', 'FROM', 'work'))
        # Acks are never refused: a finished job must be able to say so.
        assert all(reply == ('+', 'OK') for reply in pipeline(c, [['JOB.ACK', job[1], 'r' * 2000] for job in taken]))
    assert refused > 0
    assert int(info(c, 'jobs')['job_records_evicted']) == 0
    assert value(c.cmd('JOB.RESULT', first_ids[0])) == b'r' * 2000


def test_info_memory_counts_job_records(fresh_jobd):
    server = fresh_jobd('--appendonly', 'no')
    c = server.conn()
    before = int(info(c, 'memory')['used_memory_jobs'])
    finish_jobs(c, 'work', 1000, 'r' * 1000)
    after = int(info(c, 'memory')['used_memory_jobs'])
    assert after - before >= 1000 * 1000, (before, after)
