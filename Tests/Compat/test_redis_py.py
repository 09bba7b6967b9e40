"""redis-py against the server under test, over RESP2 and RESP3.

Each test asserts what redis-py hands back to the caller (types and values),
since that is what the queue libraries built on it depend on.
"""
import threading
import time

import pytest
import redis


@pytest.fixture(params=[2, 3], ids=['resp2', 'resp3'])
def protocol(request):
    return request.param


@pytest.fixture
def r(fresh_db, protocol):
    c = redis.Redis.from_url(fresh_db, protocol=protocol, decode_responses=True,
                             socket_timeout=15)
    yield c
    c.close()


@pytest.fixture
def other(fresh_db, protocol):
    """A second client, for changes made 'by someone else'."""
    c = redis.Redis.from_url(fresh_db, protocol=protocol, decode_responses=True,
                             socket_timeout=15)
    yield c
    c.close()


def later(delay, fn, *args, **kwargs):
    """Run fn(*args) in a thread after delay seconds; join() the result."""
    t = threading.Thread(target=lambda: (time.sleep(delay), fn(*args, **kwargs)), daemon=True)
    t.start()
    return t


def pairs(items):
    """(member, score) pairs whatever the container type, checking score types."""
    out = []
    for item in items:
        member, score = item
        assert isinstance(score, float), (item, type(score))
        out.append((member, score))
    return out


# --- connection, server introspection --------------------------------------

def test_connect_handshake_and_info(r, protocol):
    assert r.ping() is True
    # redis-py sends CLIENT SETINFO LIB-NAME/LIB-VER on connect and ignores an
    # error (Redis < 7.2 has no SETINFO). Explicitly: OK (7.2+) or an error,
    # but never a broken connection.
    for attr, value in (('LIB-NAME', 'compat-suite'), ('LIB-VER', '1.0')):
        try:
            assert r.client_setinfo(attr, value) is True
        except redis.ResponseError as e:
            assert 'SETINFO' in str(e).upper(), e
        assert r.ping() is True
    assert r.client_setname('compat-conn') is True
    assert r.client_getname() == 'compat-conn'
    info = r.info()
    assert isinstance(info, dict)
    assert info['redis_version'].split('.')[0].isdigit()
    assert 'connected_clients' in info and 'used_memory' in info
    assert 'redis_version' in r.info('server')
    assert r.config_get('save') == {'save': ''}    # started with --save ''
    assert r.echo('hi') == 'hi'
    assert r.dbsize() == 0


def test_type_and_scan_iter(r):
    r.set('k:str', 'v')
    r.rpush('k:list', 'a')
    r.hset('k:hash', 'f', 'v')
    r.hset('k:hash2', 'f', 'v')
    r.sadd('k:set', 'm')
    r.zadd('k:zset', {'m': 1})
    r.xadd('k:stream', {'f': 'v'})
    r.set('other', 'x')
    assert r.type('k:str') == 'string'
    assert r.type('k:list') == 'list'
    assert r.type('k:hash') == 'hash'
    assert r.type('k:set') == 'set'
    assert r.type('k:zset') == 'zset'
    assert r.type('k:stream') == 'stream'
    assert r.type('missing') == 'none'
    assert set(r.scan_iter(match='k:*')) == {'k:str', 'k:list', 'k:hash', 'k:hash2',
                                             'k:set', 'k:zset', 'k:stream'}
    assert set(r.scan_iter(match='k:*', _type='hash')) == {'k:hash', 'k:hash2'}
    assert set(r.scan_iter(match='k:*', _type='list', count=2)) == {'k:list'}
    assert set(r.scan_iter(_type='string')) == {'k:str', 'other'}


# --- strings ----------------------------------------------------------------

def test_strings(r):
    assert r.set('a', 'x') is True
    assert r.get('a') == 'x'
    assert r.set('a', 'y', nx=True) is None
    assert r.set('b', '1', xx=True) is None
    assert r.set('a', 'z', xx=True, get=True) == 'x'
    assert r.incr('n') == 1
    assert r.incrby('n', 10) == 11
    assert r.decr('n') == 10
    assert r.incrbyfloat('f', 1.5) == 1.5
    assert r.append('a', '!') == 2
    assert r.strlen('a') == 2
    assert r.mset({'m1': '1', 'm2': '2'}) is True
    assert r.mget('m1', 'm2', 'nope') == ['1', '2', None]
    assert r.execute_command('SETEX', 'e', 100, 'v') is True
    assert 0 < r.ttl('e') <= 100
    assert r.set('px', 'v', px=50000) is True
    assert 0 < r.pttl('px') <= 50000
    assert r.persist('px') is True and r.ttl('px') == -1
    assert r.expire('a', 100) is True and r.ttl('a') > 0
    assert r.getdel('m1') == '1' and r.exists('m1') == 0
    assert r.delete('a', 'm2', 'nope') == 2
    assert r.exists('e', 'px') == 2
    assert r.rename('e', 'e2') is True and r.get('e2') == 'v'
    with pytest.raises(redis.ResponseError):
        r.incr('e2')


# --- lists and blocking pops ---------------------------------------------------

def test_lists(r):
    assert r.rpush('l', 'a', 'b', 'c') == 3
    assert r.lpush('l', 'z') == 4
    assert r.lrange('l', 0, -1) == ['z', 'a', 'b', 'c']
    assert r.llen('l') == 4
    assert r.lindex('l', 1) == 'a'
    assert r.lpop('l') == 'z'
    assert r.rpop('l') == 'c'
    assert r.rpush('l', 'x', 'a') == 4
    assert r.lrem('l', 0, 'a') == 2
    assert r.lrange('l', 0, -1) == ['b', 'x']
    assert r.lmove('l', 'l2', 'LEFT', 'RIGHT') == 'b'
    assert r.rpoplpush('l', 'l2') == 'x'
    assert r.exists('l') == 0
    assert r.lrange('l2', 0, -1) == ['x', 'b']
    assert r.lset('l2', 0, 'y') is True
    assert r.ltrim('l2', 0, 0) is True
    assert r.lrange('l2', 0, -1) == ['y']
    assert r.lpop('missing') is None
    r.rpush('l3', 1, 2, 3, 4)
    assert r.lpop('l3', 2) == ['1', '2']
    assert r.lpos('l3', '4') == 1


def test_blocking_pops_timeout_return_none(r):
    t0 = time.monotonic()
    assert r.blpop(['q1', 'q2'], timeout=0.3) is None
    assert r.brpop(['q1'], timeout=0.3) is None
    assert r.blmove('q1', 'q2', 0.3, 'LEFT', 'RIGHT') is None
    assert r.brpoplpush('q1', 'q2', timeout=1) is None
    assert time.monotonic() - t0 >= 1.5
    assert r.exists('q1', 'q2') == 0


def test_blocking_pops_get_data_from_other_connection(r, other):
    # BLPOP on several keys: served from the key that was pushed to.
    t = later(0.3, other.rpush, 'q2', 'hello')
    assert r.blpop(['q1', 'q2'], timeout=5) in (('q2', 'hello'), ['q2', 'hello'])
    t.join()
    # BRPOP takes from the tail.
    t = later(0.2, other.rpush, 'q1', 'a', 'b')
    res = r.brpop(['q1'], timeout=5)
    assert tuple(res) == ('q1', 'b')
    t.join()
    assert r.lrange('q1', 0, -1) == ['a']
    # Data already there: no wait, key order respected.
    r.rpush('q3', 'x')
    assert tuple(r.blpop(['q2', 'q3', 'q1'], timeout=1)) == ('q3', 'x')
    # BLMOVE moves what another client pushes.
    t = later(0.2, other.lpush, 'src', 'job')
    assert r.blmove('src', 'dst', 5, 'RIGHT', 'LEFT') == 'job'
    t.join()
    assert r.lrange('dst', 0, -1) == ['job']
    # timeout=0 blocks until data arrives
    t = later(0.2, other.rpush, 'q4', 'late')
    assert tuple(r.brpop('q4', timeout=0)) == ('q4', 'late')
    t.join()


# --- hashes -----------------------------------------------------------------------

def test_hashes(r):
    assert r.hset('h', mapping={'a': '1', 'b': '2', 'c': 'x'}) == 3
    assert r.hset('h', 'a', '10') == 0
    assert r.hgetall('h') == {'a': '10', 'b': '2', 'c': 'x'}
    assert r.hget('h', 'a') == '10'
    assert r.hget('h', 'zz') is None
    assert r.hmget('h', ['a', 'zz', 'b']) == ['10', None, '2']
    assert r.hincrby('h', 'b', 5) == 7
    assert r.hincrby('h', 'new', -3) == -3
    assert r.hincrbyfloat('h', 'f', 1.25) == 1.25
    assert r.hincrbyfloat('h', 'f', 1) == 2.25
    assert r.hexists('h', 'a') is True and r.hexists('h', 'q') is False
    assert r.hlen('h') == 5
    assert sorted(r.hkeys('h')) == ['a', 'b', 'c', 'f', 'new']
    assert sorted(r.hvals('h')) == sorted(['10', '7', 'x', '2.25', '-3'])
    assert not r.hsetnx('h', 'a', 'no') and r.hsetnx('h', 'z', 'yes')
    assert r.hget('h', 'a') == '10' and r.hget('h', 'z') == 'yes'
    assert r.hdel('h', 'a', 'zz') == 1
    assert r.hstrlen('h', 'c') == 1
    assert r.hgetall('missing') == {}
    with pytest.raises(redis.ResponseError):
        r.hincrby('h', 'c', 1)
    big = {'f%d' % i: str(i) for i in range(300)}
    r.hset('big', mapping=big)
    assert dict(r.hscan_iter('big')) == big
    assert dict(r.hscan_iter('big', match='f1?')) == {'f%d' % i: str(i) for i in range(10, 20)}
    assert r.hrandfield('h') in r.hkeys('h')


# --- sets ------------------------------------------------------------------------

def test_sets(r):
    assert r.sadd('s1', 'a', 'b', 'c') == 3
    assert r.sadd('s1', 'a', 'd') == 1
    assert r.smembers('s1') == {'a', 'b', 'c', 'd'}
    assert r.sismember('s1', 'a') is True or r.sismember('s1', 'a') == 1
    assert r.smismember('s1', ['a', 'z']) in ([1, 0], [True, False])
    assert r.scard('s1') == 4
    r.sadd('s2', 'c', 'd', 'e')
    assert r.sinter('s1', 's2') == {'c', 'd'}
    assert r.sunion('s1', 's2') == {'a', 'b', 'c', 'd', 'e'}
    assert r.sdiff('s1', 's2') == {'a', 'b'}
    assert r.sunionstore('u', ['s1', 's2']) == 5
    assert r.smembers('u') == {'a', 'b', 'c', 'd', 'e'}
    assert r.sinterstore('i', ['s1', 's2']) == 2
    assert r.srem('s1', 'a', 'zz') == 1
    assert r.smove('s1', 's2', 'b') is True
    popped = r.spop('u', 2)
    assert isinstance(popped, list) and len(popped) == 2
    assert set(popped) | r.smembers('u') == {'a', 'b', 'c', 'd', 'e'}
    assert r.scard('u') == 3
    one = r.spop('u')
    assert isinstance(one, str) and r.scard('u') == 2
    assert r.spop('missing') is None
    assert r.smembers('missing') == set()
    assert r.srandmember('s2') in r.smembers('s2')
    members = {'m%d' % i for i in range(500)}
    r.sadd('big', *members)
    assert set(r.sscan_iter('big')) == members
    assert set(r.sscan_iter('big', match='m1?')) == {'m%d' % i for i in range(10, 20)}


# --- sorted sets --------------------------------------------------------------------

def test_zadd_flags(r):
    assert r.zadd('z', {'a': 1, 'b': 2}) == 2
    assert r.zadd('z', {'a': 5, 'c': 3}, nx=True) == 1          # only c added
    assert r.zscore('z', 'a') == 1.0
    assert r.zadd('z', {'a': 7, 'd': 4}, xx=True) == 0          # a updated, d not added
    assert r.zscore('z', 'a') == 7.0 and r.zscore('z', 'd') is None
    assert r.zadd('z', {'a': 9, 'b': 1}, xx=True, ch=True) == 2  # changed count
    assert r.zadd('z', {'a': 8, 'b': 5}, gt=True, ch=True) == 1  # only b raised
    assert r.zscore('z', 'a') == 9.0 and r.zscore('z', 'b') == 5.0
    assert r.zadd('z', {'a': 10, 'b': 4}, lt=True, ch=True) == 1  # only b lowered
    assert r.zscore('z', 'a') == 9.0 and r.zscore('z', 'b') == 4.0
    assert r.zadd('z', {'a': 1.5}, incr=True) == 10.5
    assert r.zadd('z', {'a': 1}, incr=True, nx=True) is None     # NX+INCR on existing
    assert r.zincrby('z', 2, 'c') == 5.0
    assert r.zincrby('z', -1.5, 'new') == -1.5
    assert r.zcard('z') == 4
    with pytest.raises(redis.DataError):
        r.zadd('z', {'a': 1}, nx=True, xx=True)


def test_zranges(r):
    r.zadd('z', {'a': 1, 'b': 2, 'c': 3, 'd': 4, 'e': 4.5})
    assert r.zrange('z', 0, -1) == ['a', 'b', 'c', 'd', 'e']
    ws = r.zrange('z', 0, 1, withscores=True)
    assert pairs(ws) == [('a', 1.0), ('b', 2.0)]
    assert pairs(r.zrange('z', 0, 0, desc=True, withscores=True)) == [('e', 4.5)]
    assert r.zrevrange('z', 0, 1) == ['e', 'd']
    assert r.zrangebyscore('z', 2, 4) == ['b', 'c', 'd']
    assert r.zrangebyscore('z', '(2', '(4') == ['c']
    assert r.zrangebyscore('z', '(1', '+inf', start=1, num=2) == ['c', 'd']
    assert r.zrangebyscore('z', '-inf', '(3') == ['a', 'b']
    assert pairs(r.zrangebyscore('z', 4, 5, withscores=True)) == [('d', 4.0), ('e', 4.5)]
    assert r.zrevrangebyscore('z', '(4', 2) == ['c', 'b']
    assert r.zcount('z', '(1', 3) == 2
    assert r.zrange('z', '(1', 3, byscore=True) == ['b', 'c']
    assert r.zrank('z', 'c') == 2
    assert r.zrevrank('z', 'c') == 2
    assert r.zrank('z', 'nope') is None
    assert r.zrem('z', 'a', 'nope') == 1
    assert r.zremrangebyscore('z', '-inf', 2) == 1
    assert r.zrange('z', 0, -1) == ['c', 'd', 'e']
    assert r.zmscore('z', ['c', 'x']) == [3.0, None]
    r.zadd('lex', {'alpha': 0, 'beta': 0, 'gamma': 0, 'delta': 0})
    assert r.zrange('lex', '[b', '(g', bylex=True) == ['beta', 'delta']
    assert r.zrangebylex('lex', '-', '[beta') == ['alpha', 'beta']
    assert r.zrange('lex', '+', '(e', bylex=True, desc=True) == ['gamma']
    assert r.zrange('lex', '-', '+', bylex=True, offset=1, num=2) == ['beta', 'delta']
    assert r.zlexcount('lex', '-', '+') == 4
    big = {'m%d' % i: i for i in range(300)}
    r.zadd('big', big)
    scanned = pairs(r.zscan_iter('big'))
    assert dict(scanned) == {k: float(v) for k, v in big.items()}


def test_zpop_and_bzpopmin(r, other, protocol):
    r.zadd('z', {'a': 1, 'b': 2, 'c': 3, 'd': 4})
    # Without COUNT, Redis 7 answers a flat [member, score] over RESP3 and
    # redis-py passes that shape through; with COUNT, a list of pairs.
    if protocol == 2:
        assert r.zpopmin('z') == [('a', 1.0)]
    else:
        assert r.zpopmin('z') == ['a', 1.0]
    assert pairs(r.zpopmax('z', 2)) == [('d', 4.0), ('c', 3.0)]
    assert pairs(r.zpopmin('missing')) == []
    got = r.bzpopmin(['empty', 'z'], timeout=1)
    assert tuple(got) == ('z', 'b', 2.0)
    assert r.exists('z') == 0
    t0 = time.monotonic()
    assert r.bzpopmin('z', timeout=0.3) is None
    assert r.bzpopmax('z', timeout=0.3) is None
    assert time.monotonic() - t0 >= 0.5
    t = later(0.2, other.zadd, 'z', {'x': 7, 'y': 8})
    assert tuple(r.bzpopmax('z', timeout=5)) == ('z', 'y', 8.0)
    t.join()


# --- pipelines and transactions ---------------------------------------------------

def test_pipeline_no_transaction(r):
    with r.pipeline(transaction=False) as p:
        p.set('a', 1).incr('a').rpush('l', 'x', 'y').lrange('l', 0, -1)
        p.hset('h', mapping={'f': 'v'}).hgetall('h').get('missing')
        p.zadd('z', {'m': 2}).zrange('z', 0, -1, withscores=True)
        res = p.execute()
    assert res[:7] == [True, 2, 2, ['x', 'y'], 1, {'f': 'v'}, None]
    assert res[7] == 1 and pairs(res[8]) == [('m', 2.0)]
    # An error inside the pipeline is reported per command.
    with r.pipeline(transaction=False) as p:
        p.set('s', 'x').incr('s').get('s')
        res = p.execute(raise_on_error=False)
    assert res[0] is True and isinstance(res[1], redis.ResponseError) and res[2] == 'x'


def test_pipeline_transaction(r):
    with r.pipeline(transaction=True) as p:
        p.set('a', 1).incr('a').incrby('a', 5).get('a')
        assert p.execute() == [True, 2, 7, '7']
    # Runtime error inside MULTI: others still run, execute raises
    with r.pipeline() as p:
        p.set('s', 'x').lpush('s', 'y').set('t', 'z')
        with pytest.raises(redis.ResponseError):
            p.execute()
    assert r.get('t') == 'z'
    # An empty transaction
    with r.pipeline() as p:
        assert p.execute() == []


def test_transaction_func_retries_on_watched_change(r, other):
    r.set('counter', 10)
    calls = []

    def work(pipe):
        value = int(pipe.get('counter'))
        calls.append(value)
        if len(calls) == 1:
            other.incr('counter')   # someone else changes the watched key
        pipe.multi()
        pipe.set('counter', value * 2)

    result = r.transaction(work, 'counter')
    assert calls == [10, 11]
    assert result == [True]
    assert r.get('counter') == '22'


def test_watch_error(r, other):
    r.set('k', 'v1')
    with r.pipeline() as p:
        p.watch('k')
        assert p.get('k') == 'v1'
        other.set('k', 'v2')
        p.multi()
        p.set('k', 'mine')
        with pytest.raises(redis.WatchError):
            p.execute()
    assert r.get('k') == 'v2'
    # Without a concurrent change, the same flow commits.
    with r.pipeline() as p:
        p.watch('k')
        p.multi()
        p.set('k', 'mine')
        assert p.execute() == [True]
    assert r.get('k') == 'mine'
    # UNWATCH / a key deleted by someone else also aborts
    with r.pipeline() as p:
        p.watch('k')
        other.delete('k')
        p.multi()
        p.set('k', 'again')
        with pytest.raises(redis.WatchError):
            p.execute()
    assert r.exists('k') == 0


# --- pub/sub -------------------------------------------------------------------------

def next_message(p, timeout=5.0, ignore_subscribe=False):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = p.get_message(ignore_subscribe_messages=ignore_subscribe, timeout=0.1)
        if m is not None:
            return m
    raise AssertionError('no pub/sub message within %.1fs' % timeout)


def test_pubsub_subscribe_and_get_message(r, other):
    p = r.pubsub()
    try:
        p.subscribe('ch1', 'ch2')
        subs = [next_message(p), next_message(p)]
        assert [(m['type'], m['channel'], m['data']) for m in subs] == [
            ('subscribe', 'ch1', 1), ('subscribe', 'ch2', 2)]
        p.psubscribe('news.*')
        m = next_message(p)
        assert (m['type'], m['channel'], m['data']) == ('psubscribe', 'news.*', 3)
        assert other.publish('ch1', 'hello') == 1
        assert other.publish('news.tech', 'n1') == 1
        assert other.publish('nobody', 'x') == 0
        m = next_message(p)
        assert (m['type'], m['channel'], m['data'], m['pattern']) == ('message', 'ch1', 'hello', None)
        m = next_message(p)
        assert (m['type'], m['channel'], m['data'], m['pattern']) == ('pmessage', 'news.tech', 'n1', 'news.*')
        assert p.get_message(timeout=0.2) is None

        assert dict(other.pubsub_numsub('ch1', 'ch2', 'ch3')) == {'ch1': 1, 'ch2': 1, 'ch3': 0}
        assert set(other.pubsub_channels()) == {'ch1', 'ch2'}
        assert set(other.pubsub_channels('ch1*')) == {'ch1'}
        assert other.pubsub_numpat() == 1

        p.unsubscribe('ch1')
        m = next_message(p)
        assert (m['type'], m['channel'], m['data']) == ('unsubscribe', 'ch1', 2)
        p.punsubscribe('news.*')
        m = next_message(p)
        assert (m['type'], m['channel'], m['data']) == ('punsubscribe', 'news.*', 1)
        p.unsubscribe()
        m = next_message(p)
        assert (m['type'], m['channel'], m['data']) == ('unsubscribe', 'ch2', 0)
        assert other.pubsub_numpat() == 0
        assert other.pubsub_channels() == []
        assert other.publish('ch2', 'gone') == 0
    finally:
        p.close()


def test_pubsub_listener_thread(r, other):
    received = []
    done = threading.Event()

    def handler(message):
        received.append(message['data'])
        if len(received) == 20:
            done.set()

    p = r.pubsub(ignore_subscribe_messages=True)
    p.subscribe(**{'jobs': handler})
    p.psubscribe(**{'evt:*': handler})
    thread = p.run_in_thread(sleep_time=0.05, daemon=True)
    try:
        deadline = time.monotonic() + 5
        while other.pubsub_numsub('jobs')[0][1] != 1 or other.pubsub_numpat() != 1:
            assert time.monotonic() < deadline, 'subscriptions not registered'
            time.sleep(0.02)
        for i in range(10):
            assert other.publish('jobs', 'j%d' % i) == 1
            assert other.publish('evt:%d' % i, 'e%d' % i) == 1
        assert done.wait(5), received
        assert [m for m in received if m.startswith('j')] == ['j%d' % i for i in range(10)]
        assert [m for m in received if m.startswith('e')] == ['e%d' % i for i in range(10)]
    finally:
        thread.stop()
        thread.join(5)
        p.close()


def test_pubsub_bytes_and_ping(fresh_db, protocol):
    c = redis.Redis.from_url(fresh_db, protocol=protocol)
    p = c.pubsub()
    try:
        p.subscribe('b')
        assert next_message(p)['data'] == 1
        p.ping()
        m = next_message(p)
        assert m['type'] == 'pong'
        assert c.publish('b', b'\x00\xffbin') == 1
        m = next_message(p)
        assert m['channel'] == b'b' and m['data'] == b'\x00\xffbin'
    finally:
        p.close()
        c.close()


# --- streams ----------------------------------------------------------------------------

def test_streams(r, other):
    ids = [r.xadd('s', {'n': str(i), 'kind': 'job'}) for i in range(10)]
    assert all(isinstance(i, str) and '-' in i for i in ids)
    assert r.xlen('s') == 10
    entries = r.xrange('s')
    assert [e[0] for e in entries] == ids
    assert entries[0][1] == {'n': '0', 'kind': 'job'}
    assert [e[0] for e in r.xrange('s', min=ids[2], max=ids[4])] == ids[2:5]
    assert [e[0] for e in r.xrange('s', count=3)] == ids[:3]
    assert [e[0] for e in r.xrevrange('s', count=2)] == [ids[9], ids[8]]
    assert [e[0] for e in r.xrevrange('s', max=ids[5], min=ids[3])] == [ids[5], ids[4], ids[3]]
    assert r.xdel('s', ids[0], ids[1], '0-1') == 2
    assert r.xlen('s') == 8
    assert r.xtrim('s', maxlen=5, approximate=False) == 3
    assert [e[0] for e in r.xrange('s')] == ids[5:]
    # explicit IDs and approximate MAXLEN
    assert r.xadd('t', {'a': 1}, id='5-1') == '5-1'
    with pytest.raises(redis.ResponseError):
        r.xadd('t', {'a': 1}, id='5-0')
    for i in range(30):
        r.xadd('t', {'i': i}, maxlen=10, approximate=True)
    assert 10 <= r.xlen('t') <= 31     # '~' trims whole nodes only: maybe nothing
    r.xadd('t', {'i': 'last'}, maxlen=10, approximate=False)
    assert r.xlen('t') == 10
    assert r.xtrim('t', maxlen=3, approximate=False) == 7
    assert r.xlen('t') == 3
    assert r.xrange('t', count=1)[0][1] == {'i': '28'}


def test_xread(r, other, protocol):
    first = r.xadd('s', {'n': '1'})
    second = r.xadd('s', {'n': '2'})

    def as_dict(reply):
        """RESP2: [[key, entries]]; RESP3: {key: [entries]} (redis-py 8 shapes)."""
        if protocol == 2:
            assert isinstance(reply, list), reply
            return {key: entries for key, entries in reply}
        assert isinstance(reply, dict), reply
        out = {}
        for key, wrapped in reply.items():
            assert len(wrapped) == 1, wrapped
            out[key] = wrapped[0]
        return out

    assert as_dict(r.xread({'s': '0-0'}, count=1)) == {'s': [(first, {'n': '1'})]}
    assert as_dict(r.xread({'s': first})) == {'s': [(second, {'n': '2'})]}
    assert as_dict(r.xread({'s': '0'}, count=5)) == {'s': [(first, {'n': '1'}), (second, {'n': '2'})]}
    # Nothing new: a short block times out empty
    t0 = time.monotonic()
    assert as_dict(r.xread({'s': '$'}, block=300)) == {}
    assert time.monotonic() - t0 >= 0.25
    # Block until another client adds
    added = []
    t = later(0.3, lambda: added.append(other.xadd('s', {'n': '3'})))
    got = as_dict(r.xread({'s': '$', 'other': '$'}, block=5000, count=10))
    t.join()
    assert got == {'s': [(added[0], {'n': '3'})]}


# --- scripting (optional) ---------------------------------------------------------------

def test_scripting_is_optional(r):
    """Lua is NOT required of jobd: EVAL/EVALSHA/SCRIPT may answer an error.

    Accepts either the Redis result or a redis.ResponseError, and only checks
    that the connection stays usable afterwards. Do not add Lua result checks.
    """
    outcomes = []
    try:
        outcomes.append(r.eval("return redis.call('SET', KEYS[1], ARGV[1])", 1, 'lk', 'lv'))
    except redis.ResponseError as e:
        outcomes.append(e)
    script = r.register_script("return ARGV[1]")
    try:
        outcomes.append(script(keys=[], args=['x']))
    except redis.ResponseError as e:    # NoScriptError is a ResponseError too
        outcomes.append(e)
    try:
        outcomes.append(r.script_exists(script.sha))
    except redis.ResponseError as e:
        outcomes.append(e)
    assert len(outcomes) == 3
    if not isinstance(outcomes[0], Exception):
        assert r.get('lk') == 'lv'
    assert r.ping() is True
    assert r.set('after', '1') is True and r.get('after') == '1'
