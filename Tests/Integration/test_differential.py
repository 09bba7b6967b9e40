"""The differential test: the same random command sequences go to jobd and
to a real redis-server, and every reply must be identical, error texts and
reply types included (DESIGN.md: a client that works with Redis works with
jobd for the commands it implements)."""
import os
import time

import pytest

from commands_gen import Generator, normalize

SEEDS = int(os.environ.get('JOBD_DIFF_SEEDS', '12'))
OPS = int(os.environ.get('JOBD_DIFF_OPS', '500'))


def run_sequence(jobd, redis, seed, protocol, gen=None, normalize=normalize, ops=OPS):
    a, b = jobd.conn(), redis.conn()
    if protocol == 3:
        assert a.cmd('HELLO', '3')[0] == '%'
        assert b.cmd('HELLO', '3')[0] == '%'
    gen = gen or Generator(seed)
    history = []
    for n in range(ops):
        command = gen.command()
        history.append(command)
        mine = normalize(command, a.cmd(*command))
        theirs = normalize(command, b.cmd(*command))
        if mine != theirs:
            context = '\n'.join('    %r' % c for c in history[-10:-1])
            pytest.fail('seed %d (RESP%d), op %d: %r\n  jobd:  %r\n  redis: %r\n  preceded by:\n%s'
                        % (seed, protocol, n, command, mine, theirs, context))
    a.close()
    b.close()


@pytest.mark.parametrize('seed', range(SEEDS))
def test_random_sequences_get_identical_replies_in_resp2(both, seed):
    run_sequence(*both, seed, 2)


@pytest.mark.parametrize('seed', range(SEEDS // 2))
def test_random_sequences_get_identical_replies_in_resp3(both, seed):
    run_sequence(*both, 1000 + seed, 3)


# --- several clients: blocking pops -------------------------------------------

def scenario(server, steps):
    """Runs steps [(client index, command)] on fresh connections; a step whose
    command blocks is sent without waiting. Returns every reply in order of reading."""
    conns = {}
    replies = []
    for step in steps:
        who, action = step[0], step[1]
        conn = conns.setdefault(who, server.conn())
        if action == 'send':
            conn.send(*step[2])
        elif action == 'read':
            replies.append((who, conn.read()))
        elif action == 'cmd':
            replies.append((who, conn.cmd(*step[2])))
        elif action == 'quiet':  # run, but the reply is allowed to differ (HELLO's id and version)
            conn.cmd(*step[2])
        elif action == 'sleep':
            time.sleep(step[2])
        elif action == 'close':
            conn.close()
        elif action == 'pipeline':
            for command in step[2]:
                conn.send(*command)
            for _ in step[2]:
                replies.append((who, conn.read()))
    for conn in conns.values():
        try:
            conn.close()
        except OSError:
            pass
    return replies


BLOCKING_SCENARIOS = {
    'push_wakes_waiter_before_the_next_pipelined_command': [
        (0, 'send', ['BLPOP', 'q', '0']), (0, 'sleep', 0.1),
        (1, 'pipeline', [['LPUSH', 'q', 'x', 'y'], ['LLEN', 'q'], ['LRANGE', 'q', '0', '-1']]),
        (0, 'read'),
    ],
    'waiters_are_served_in_arrival_order': [
        (0, 'send', ['BRPOP', 'q', '0']), (0, 'sleep', 0.05),
        (1, 'send', ['BRPOP', 'q', '0']), (1, 'sleep', 0.05),
        (2, 'send', ['BRPOP', 'q', '0']), (2, 'sleep', 0.05),
        (3, 'cmd', ['RPUSH', 'q', 'a', 'b']),
        (0, 'read'), (1, 'read'),
        (3, 'cmd', ['RPUSH', 'q', 'c']), (2, 'read'), (3, 'cmd', ['EXISTS', 'q']),
    ],
    'waiter_on_several_keys_takes_the_first_ready': [
        (0, 'send', ['BLPOP', 'a', 'b', 'c', '0']), (0, 'sleep', 0.1),
        (1, 'cmd', ['RPUSH', 'c', 'from-c']), (0, 'read'),
        (1, 'cmd', ['LLEN', 'c']),
    ],
    'blmove_chain_wakes_the_next_waiter': [
        (0, 'send', ['BLMOVE', 'src', 'mid', 'RIGHT', 'LEFT', '0']), (0, 'sleep', 0.05),
        (1, 'send', ['BLPOP', 'mid', '0']), (1, 'sleep', 0.05),
        (2, 'cmd', ['LPUSH', 'src', 'job']),
        (0, 'read'), (1, 'read'), (2, 'cmd', ['EXISTS', 'src', 'mid']),
    ],
    'brpoplpush_onto_its_own_list_keeps_the_element': [
        (0, 'send', ['BRPOPLPUSH', 'same', 'same', '0']), (0, 'sleep', 0.1),
        (1, 'cmd', ['RPUSH', 'same', 'only']), (0, 'read'), (1, 'cmd', ['LRANGE', 'same', '0', '-1']),
    ],
    'timeouts_reply_null': [
        (0, 'cmd', ['BLPOP', 'none', '0.1']), (0, 'cmd', ['BLMOVE', 'none', 'x', 'LEFT', 'LEFT', '0.1']),
        (0, 'cmd', ['BRPOPLPUSH', 'none', 'x', '0.1']), (0, 'cmd', ['BLMPOP', '0.1', '1', 'none', 'LEFT']),
    ],
    'timeouts_reply_null_in_resp3': [
        (0, 'quiet', ['HELLO', '3']), (0, 'cmd', ['BLPOP', 'none', '0.1']),
        (0, 'cmd', ['BLMOVE', 'none', 'x', 'LEFT', 'LEFT', '0.05']),
    ],
    'a_waiter_that_disconnects_does_not_take_the_element': [
        (0, 'send', ['BLPOP', 'q', '0']), (0, 'sleep', 0.05), (0, 'close'), (1, 'sleep', 0.1),
        (1, 'cmd', ['LPUSH', 'q', 'kept']), (1, 'cmd', ['LRANGE', 'q', '0', '-1']),
    ],
    'pipelined_commands_after_a_blocking_pop_wait_for_it': [
        (0, 'send', ['BLPOP', 'q', '0']), (0, 'send', ['SET', 'after', '1']), (0, 'sleep', 0.1),
        (1, 'cmd', ['GET', 'after']), (1, 'cmd', ['RPUSH', 'q', 'v']),
        (0, 'read'), (0, 'read'), (1, 'cmd', ['GET', 'after']),
    ],
    'blmpop_waiter_gets_up_to_count': [
        (0, 'send', ['BLMPOP', '0', '2', 'x', 'y', 'RIGHT', 'COUNT', '3']), (0, 'sleep', 0.1),
        (1, 'cmd', ['RPUSH', 'y', '1', '2', '3', '4']), (0, 'read'), (1, 'cmd', ['LRANGE', 'y', '0', '-1']),
    ],
    'wrong_type_destination_errors_the_waiter': [
        (0, 'send', ['BLMOVE', 'src', 'dst', 'LEFT', 'LEFT', '0']), (0, 'sleep', 0.05),
        (1, 'cmd', ['SET', 'dst', 'string']), (1, 'cmd', ['RPUSH', 'src', 'v']), (0, 'read'),
        (1, 'cmd', ['LRANGE', 'src', '0', '-1']),
    ],
    'a_list_made_by_rename_wakes_the_waiter': [
        (0, 'send', ['BLPOP', 'target', '0']), (0, 'sleep', 0.05),
        (1, 'cmd', ['RPUSH', 'tmp', 'a', 'b']), (1, 'cmd', ['RENAME', 'tmp', 'target']), (0, 'read'),
        (1, 'cmd', ['LRANGE', 'target', '0', '-1']),
    ],
}


@pytest.mark.parametrize('name', sorted(BLOCKING_SCENARIOS))
def test_blocking_scenarios_match_redis(both, name):
    jobd, redis = both
    steps = BLOCKING_SCENARIOS[name]
    mine = scenario(jobd, steps)
    theirs = scenario(redis, steps)
    assert mine == theirs


def test_move_matches_redis(both):
    jobd, redis = both
    replies = {}
    for name, server in (('jobd', jobd), ('redis', redis)):
        c = server.conn()
        c.cmd('SELECT', 0)
        replies[name] = [c.cmd(*command) for command in [
            ['RPUSH', 'q', 'a', 'b'], ['SET', 's', 'v', 'EX', '100'], ['SET', 'taken', 'x'],
            ['MOVE', 'q', '1'], ['MOVE', 'q', '1'], ['MOVE', 'missing', '1'], ['MOVE', 's', '0'],
            ['MOVE', 's', '16'], ['MOVE', 's', '-1'], ['MOVE', 's', 'x'], ['MOVE', 's'],
            ['SELECT', '1'], ['SET', 'taken', 'y'], ['SELECT', '0'], ['MOVE', 'taken', '1'], ['MOVE', 's', '1'],
            ['EXISTS', 'q', 's', 'taken'], ['SELECT', '1'], ['LRANGE', 'q', '0', '-1'], ['GET', 'taken'],
            ['TTL', 's'], ['TYPE', 's'], ['FLUSHDB'], ['SELECT', '0'],
        ]]
        c.cmd('FLUSHALL')
    assert replies['jobd'] == replies['redis']
