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
