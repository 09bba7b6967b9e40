"""The Lua scripts queue libraries send run natively in jobd: each one,
from random starting states, gives the same reply and leaves the same data
as redis-server running the real Lua (EVAL, SCRIPT LOAD + EVALSHA)."""
import os
import random

import pytest

from known_scripts import SCRIPTS
from resp import value

KEYS = ['lock', 'a', 'b', 'c', 'd', 'e', 'f', 'q', 'rq:job:1', 'rq:job:1:dependents', 'rq:job:2']
TOKENS = ['tok', 'other', '']


def setup_commands(rng):
    """A random starting state over a few keys, of several types."""
    commands = []
    for key in rng.sample(KEYS, rng.randrange(0, 6)):
        kind = rng.randrange(7)
        if kind == 0:
            commands.append(['SET', key, rng.choice(TOKENS + ['done', '3', '5'])]
                            + rng.choice([[], ['PX', '100000'], ['EX', '50']]))
        elif kind == 1:
            commands.append(['RPUSH', key] + rng.sample(['1', '2', 'x'], rng.randrange(1, 3)))
        elif kind == 2:
            commands.append(['SADD', key, rng.choice(['m', 't:1', 'q1'])])
        elif kind == 3:
            commands.append(['ZADD', key, rng.choice(['1', '5', '99999999999999']), rng.choice(['ex1', 'ex2'])])
        elif kind == 4:
            commands.append(['HSET', key, 'f', 'v'])
        else:
            commands.append(['DEL', key])
    return commands


def arguments(rng, name):
    """KEYS and ARGV shaped like the library's calls, with random values."""
    k = lambda: rng.choice(KEYS)
    n = lambda *xs: rng.choice(xs)
    if name in ('lock_release', 'rq_release_lock'):
        return [k()], [n(*TOKENS)]
    if name == 'lock_extend':
        return [k()], [n(*TOKENS), n('1000', '50000'), n('0', '1')]
    if name == 'lock_reacquire':
        return [k()], [n(*TOKENS), n('1000', '60000')]
    if name == 'kombu_refresh_binding':
        return [k(), k()], [n('q1', 'q2'), n('ex1', 'ex2'), n('1000', '60000')]
    if name == 'kombu_sweep_bindings':
        return [k()], [n('a', 'b'), n('c', 'd'), n('1', '10')]
    if name == 'chord_part_return':
        return [k() for _ in range(6)], [n('t', 'u'), n('v1', 'v2'), n('0', '1'), n('0', '1', '2'),
                                         n('0', '100'), n('0', '200'), n('30'), n('tok', 'other')]
    if name == 'chord_cleanup':
        return [k() for _ in range(5)], [n(*TOKENS), n('0', '60')]
    if name == 'chord_claim_extend':
        return [k(), k()], [n(*TOKENS), n('30', '60')]
    if name == 'rq_acquire_or_refresh_lock':
        return [k()], [n(*TOKENS), n('60', '5')]
    if name == 'rq_unique_enqueue':
        return [k(), k()], [n('1', '2'), n('L', 'R', 'N'), n('-1', '500')] + n([], ['status', 'queued', 'data', 'x'])
    if name == 'rq_unique_schedule':
        return [k(), k(), k()], [n('1', '2'), n('-1', '500'), n('1700000000', '1.5'), n('rq:queue:x')] + n([], ['f', 'v'])
    if name == 'rq_empty_queue':
        return [k()], []
    raise AssertionError(name)


def state(conn):
    """Every key: type and contents; whether it has a TTL. Binding deadlines (TIME-based) are compared by member."""
    result = {}
    for key in sorted(value(conn.cmd('KEYS', '*'))):
        kind = conn.cmd('TYPE', key)[1]
        if kind == 'string':
            contents = value(conn.cmd('GET', key))
        elif kind == 'list':
            contents = value(conn.cmd('LRANGE', key, '0', '-1'))
        elif kind == 'set':
            contents = sorted(value(conn.cmd('SMEMBERS', key)))
        elif kind == 'hash':
            items = value(conn.cmd('HGETALL', key))
            contents = sorted(zip(items[::2], items[1::2]))
        else:
            pairs = value(conn.cmd('ZRANGE', key, '0', '-1', 'WITHSCORES'))
            contents = [(m, s if float(s) < 1e12 else 'a time') for m, s in zip(pairs[::2], pairs[1::2])]
        result[key] = (kind, contents, value(conn.cmd('TTL', key)) > 0)
    return result


@pytest.mark.parametrize('name', sorted(SCRIPTS))
def test_native_script_matches_redis_lua(both, name):
    sha, body = SCRIPTS[name]
    jobd, redis = both
    a, b = jobd.conn(), redis.conn()
    assert a.cmd('SCRIPT', 'LOAD', body) == b.cmd('SCRIPT', 'LOAD', body) == ('$', sha.encode())
    assert a.cmd('SCRIPT', 'EXISTS', sha) == b.cmd('SCRIPT', 'EXISTS', sha) == ('*', [(':', 1)])
    rng = random.Random(name)
    for trial in range(int(os.environ.get("JOBD_SCRIPT_TRIALS", "80"))):
        for conn in (a, b):
            conn.cmd('FLUSHALL')
        for command in setup_commands(rng):
            assert a.cmd(*command)[0] == b.cmd(*command)[0], command
        keys, argv = arguments(rng, name)
        call = (['EVAL', body] if trial % 2 else ['EVALSHA', sha]) + [str(len(keys))] + keys + argv
        mine, theirs = a.cmd(*call), b.cmd(*call)
        if theirs[0] == '-':
            # A Lua runtime error: jobd must fail too (the wording of Lua's messages is not copied).
            assert mine[0] == '-', (trial, call[2:], mine, theirs)
        else:
            assert mine == theirs, (trial, call[2:])
        assert state(a) == state(b), (trial, call[2:])


def test_unknown_scripts_still_get_noscript_and_a_clear_error(jobd):
    c = jobd.conn()
    assert c.cmd('EVALSHA', 'ffffffffffffffffffffffffffffffffffffffff', '0') == \
        ('-', 'NOSCRIPT No matching script. Please use EVAL.')
    assert c.cmd('EVAL', 'return 1', '0')[1].startswith('ERR jobd does not run Lua scripts')
    assert c.cmd('SCRIPT', 'LOAD', 'return 1')[0] == '-'
    sha, body = SCRIPTS['lock_release']
    # Too few keys for what the script reads: an error, never a crash.
    assert c.cmd('EVALSHA', sha, '0')[0] == '-'
    assert c.cmd('EVAL', body, '1', 'k')[0] == '-'
    assert c.cmd('PING') == ('+', 'PONG')
