"""The differential test for hashes, sets, sorted sets and transactions:
random sequences to jobd and to redis-server, identical replies after
normalizing what may legitimately differ (order of unordered replies,
random picks)."""
import os

import pytest

import collections_gen
from test_differential import run_sequence

SEEDS = int(os.environ.get('JOBD_DIFF_SEEDS', '12'))
OPS = int(os.environ.get('JOBD_DIFF_OPS', '500'))
FAMILIES = {
    'hash': ('hash', 'common'),
    'set': ('set', 'common'),
    'mixed': ('hash', 'set', 'common'),
    'transaction': ('hash', 'set', 'common', 'transaction'),
    'stream': ('stream', 'common'),
    'zset': ('zset', 'common'),
    'zset_transaction': ('zset', 'hash', 'common', 'transaction'),
}


@pytest.mark.parametrize('family', sorted(FAMILIES))
@pytest.mark.parametrize('seed', range(SEEDS // 2))
def test_collections_get_identical_replies_in_resp2(both, family, seed):
    gen = collections_gen.CollectionGenerator(seed, FAMILIES[family])
    run_sequence(*both, seed, 2, gen, collections_gen.normalize, OPS)


@pytest.mark.parametrize('family', sorted(FAMILIES))
@pytest.mark.parametrize('seed', range(SEEDS // 4))
def test_collections_get_identical_replies_in_resp3(both, family, seed):
    gen = collections_gen.CollectionGenerator(2000 + seed, FAMILIES[family])
    run_sequence(*both, seed, 3, gen, collections_gen.normalize, OPS)


# --- WATCH and MULTI with several clients, against redis-server ----------------

from test_differential import scenario  # noqa: E402

W = ['WATCH', 'k']
TX = [['MULTI'], ['INCR', 'k'], ['EXEC']]
TRANSACTION_SCENARIOS = {
    'another_client_write_aborts_exec': [
        (0, 'cmd', ['SET', 'k', '1']), (0, 'cmd', W), (1, 'cmd', ['SET', 'k', '5']),
        (0, 'pipeline', TX), (0, 'cmd', ['GET', 'k']),
    ],
    'own_write_after_watch_aborts_exec': [
        (0, 'cmd', W), (0, 'cmd', ['SET', 'k', '2']), (0, 'pipeline', TX),
    ],
    'a_read_or_another_key_does_not_abort': [
        (0, 'cmd', ['WATCH', 'k', 'other']), (1, 'cmd', ['GET', 'k']), (1, 'cmd', ['SET', 'unrelated', '1']),
        (0, 'pipeline', TX),
    ],
    'a_no_op_write_does_not_abort': [
        (0, 'cmd', W), (1, 'cmd', ['DEL', 'k']), (1, 'cmd', ['HDEL', 'k', 'f']), (1, 'cmd', ['SREM', 'k', 'm']),
        (0, 'pipeline', TX),
    ],
    'expiry_of_a_watched_key_aborts': [
        (0, 'cmd', ['SET', 'k', '1', 'PX', '100']), (0, 'cmd', W), (0, 'sleep', 0.25), (0, 'pipeline', TX),
    ],
    'flushall_aborts_only_when_the_key_existed': [
        (0, 'cmd', ['SET', 'k', '1']), (0, 'cmd', W), (1, 'cmd', ['FLUSHALL']), (0, 'pipeline', TX),
        (0, 'cmd', ['WATCH', 'missing']), (1, 'cmd', ['FLUSHDB']), (0, 'pipeline', TX),
    ],
    'swapdb_aborts_watchers_of_either_database': [
        (1, 'cmd', ['SELECT', '1']), (1, 'cmd', ['SET', 'k', 'in-db-1']), (0, 'cmd', W),
        (1, 'cmd', ['SWAPDB', '0', '1']), (0, 'pipeline', TX), (0, 'cmd', ['GET', 'k']),
    ],
    'unwatch_and_discard_forget_the_keys': [
        (0, 'cmd', W), (0, 'cmd', ['UNWATCH']), (1, 'cmd', ['SET', 'k', '1']), (0, 'pipeline', TX),
        (0, 'cmd', W), (0, 'cmd', ['MULTI']), (0, 'cmd', ['DISCARD']), (1, 'cmd', ['SET', 'k', '7']),
        (0, 'pipeline', TX),
    ],
    'exec_wakes_a_blocked_client_after_the_transaction': [
        (1, 'send', ['BLPOP', 'q', '0']), (1, 'sleep', 0.05),
        (0, 'pipeline', [['MULTI'], ['RPUSH', 'q', 'a', 'b'], ['LLEN', 'q'], ['EXEC']]),
        (1, 'read'), (0, 'cmd', ['LRANGE', 'q', '0', '-1']),
    ],
    'blocking_commands_inside_multi_do_not_block': [
        (0, 'pipeline', [['MULTI'], ['BLPOP', 'none', '0'], ['BLMOVE', 'none', 'x', 'LEFT', 'LEFT', '0'],
                         ['BLMPOP', '0', '1', 'none', 'LEFT'], ['EXEC']]),
    ],
    'queue_time_errors_abort_runtime_errors_do_not': [
        (0, 'pipeline', [['MULTI'], ['SET', 'a', '1'], ['LPUSH', 'a', 'x'], ['INCR', 'a'], ['EXEC']]),
        (0, 'pipeline', [['MULTI'], ['SET', 'b', '1'], ['GET'], ['NOSUCH'], ['EXEC'], ['GET', 'b']]),
        (0, 'pipeline', [['MULTI'], ['MULTI'], ['WATCH', 'x'], ['PING'], ['EXEC']]),
        (0, 'pipeline', [['EXEC'], ['DISCARD']]),
    ],
    'a_watched_key_changed_inside_another_transaction': [
        (0, 'cmd', W), (1, 'pipeline', [['MULTI'], ['SET', 'k', 'x'], ['EXEC']]), (0, 'pipeline', TX),
    ],
    'a_blocked_pop_served_later_touches_the_key': [
        (1, 'send', ['BLMOVE', 'src', 'k', 'LEFT', 'LEFT', '0']), (1, 'sleep', 0.05),
        (0, 'cmd', W), (2, 'cmd', ['RPUSH', 'src', 'v']), (1, 'read'),
        (0, 'pipeline', [['MULTI'], ['LLEN', 'k'], ['EXEC']]),
    ],
}



# --- pub/sub, against redis-server -------------------------------------------------

PUBSUB_SCENARIOS = {
    'messages_reach_channel_and_pattern_subscribers': [
        (0, 'cmd', ['SUBSCRIBE', 'news']), (0, 'send', ['PSUBSCRIBE', 'n*', 'x?']), (0, 'read'), (0, 'read'),
        (1, 'cmd', ['PUBLISH', 'news', 'hello']), (0, 'read'), (0, 'read'),
        (1, 'cmd', ['PUBLISH', 'xy', 'only-pattern']), (0, 'read'),
        (1, 'cmd', ['PUBLISH', 'nobody', 'lost']), (0, 'read'),
        (1, 'cmd', ['PUBLISH', 'silent', 'm']),
        (1, 'cmd', ['PUBSUB', 'NUMSUB', 'news', 'none']), (1, 'cmd', ['PUBSUB', 'NUMPAT']),
        (1, 'cmd', ['PUBSUB', 'CHANNELS']), (1, 'cmd', ['PUBSUB', 'CHANNELS', 'z*']),
    ],
    'resp2_subscribed_mode_allows_only_some_commands': [
        (0, 'cmd', ['SUBSCRIBE', 'c']), (0, 'cmd', ['GET', 'k']), (0, 'cmd', ['PING']), (0, 'cmd', ['PING', 'hi']),
        (0, 'cmd', ['UNSUBSCRIBE', 'c']), (0, 'cmd', ['GET', 'k']), (0, 'cmd', ['UNSUBSCRIBE']),
        (0, 'cmd', ['PUNSUBSCRIBE']), (0, 'cmd', ['PING']),
    ],
    'unsubscribe_without_arguments_leaves_every_channel': [
        (0, 'send', ['SUBSCRIBE', 'a', 'a']), (0, 'read'), (0, 'read'),
        (0, 'cmd', ['UNSUBSCRIBE']), (1, 'cmd', ['PUBLISH', 'a', 'x']), (0, 'cmd', ['PING']),
    ],
    'resp3_pushes_interleave_with_replies': [
        (0, 'quiet', ['HELLO', '3']), (0, 'cmd', ['SUBSCRIBE', 'c']), (0, 'cmd', ['SET', 'k', 'v']),
        (1, 'cmd', ['PUBLISH', 'c', 'pushed']), (0, 'read'), (0, 'cmd', ['GET', 'k']), (0, 'cmd', ['PING']),
        (0, 'cmd', ['UNSUBSCRIBE', 'c']),
    ],
    'reset_and_disconnect_drop_subscriptions': [
        (0, 'cmd', ['SUBSCRIBE', 'c']), (0, 'cmd', ['RESET']), (2, 'cmd', ['SUBSCRIBE', 'c']), (2, 'close'),
        (1, 'sleep', 0.05), (1, 'cmd', ['PUBLISH', 'c', 'x']), (1, 'cmd', ['PUBSUB', 'NUMSUB', 'c']),
    ],
    'subscribe_errors': [
        (0, 'cmd', ['SUBSCRIBE']), (0, 'cmd', ['PUBLISH', 'c']), (0, 'cmd', ['PUBSUB', 'NOPE']),
        (0, 'cmd', ['PUBSUB', 'CHANNELS', 'a', 'b']),
    ],
}



# --- XREAD BLOCK, against redis-server ------------------------------------------

STREAM_SCENARIOS = {
    'xadd_wakes_every_blocked_reader': [
        (2, 'cmd', ['XADD', 's', '1-1', 'a', '1']),
        (0, 'send', ['XREAD', 'BLOCK', '0', 'STREAMS', 's', '$']), (0, 'sleep', 0.05),
        (1, 'send', ['XREAD', 'COUNT', '1', 'BLOCK', '0', 'STREAMS', 'other', 's', '0', '1-1']), (1, 'sleep', 0.05),
        (2, 'cmd', ['XADD', 's', '2-1', 'b', '2']), (0, 'read'), (1, 'read'),
    ],
    'xread_block_on_a_new_stream': [
        (0, 'send', ['XREAD', 'BLOCK', '0', 'STREAMS', 'a', 'b', '$', '$']), (0, 'sleep', 0.05),
        (1, 'cmd', ['XADD', 'b', '7-7', 'f', 'v']), (0, 'read'),
    ],
    'xread_block_times_out_with_null': [
        (0, 'cmd', ['XREAD', 'BLOCK', '100', 'STREAMS', 's', '0']),
        (0, 'quiet', ['HELLO', '3']), (0, 'cmd', ['XREAD', 'BLOCK', '50', 'STREAMS', 's', '0']),
    ],
    'xread_in_resp3_is_a_map': [
        (0, 'quiet', ['HELLO', '3']), (0, 'cmd', ['XADD', 's', '1-1', 'a', '1']),
        (0, 'cmd', ['XREAD', 'STREAMS', 's', '0']),
        (1, 'quiet', ['HELLO', '3']), (1, 'send', ['XREAD', 'BLOCK', '0', 'STREAMS', 's', '$']), (1, 'sleep', 0.05),
        (0, 'cmd', ['XADD', 's', '2-2', 'b', '2']), (1, 'read'),
    ],
    'xread_block_inside_multi_does_not_block': [
        (0, 'pipeline', [['MULTI'], ['XREAD', 'BLOCK', '0', 'STREAMS', 's', '$'], ['EXEC']]),
    ],
    'bzpopmin_waiters_are_served_in_order_with_scores': [
        (0, 'send', ['BZPOPMIN', 'z', 'other', '0']), (0, 'sleep', 0.05),
        (1, 'send', ['BZPOPMAX', 'z', '0']), (1, 'sleep', 0.05),
        (2, 'cmd', ['ZADD', 'z', '1', 'a', '2', 'b', '3', 'c']), (0, 'read'), (1, 'read'),
        (2, 'cmd', ['ZRANGE', 'z', '0', '-1', 'WITHSCORES']),
        (2, 'quiet', ['HELLO', '3']), (2, 'cmd', ['BZPOPMIN', 'z', '0']), (2, 'cmd', ['BZPOPMIN', 'z', '0.05']),
        (2, 'cmd', ['ZPOPMIN', 'none', '2']),
    ],
    'a_stream_stays_when_emptied': [
        (0, 'cmd', ['XADD', 's', '5-5', 'a', '1']), (0, 'cmd', ['XDEL', 's', '5-5']), (0, 'cmd', ['EXISTS', 's']),
        (0, 'cmd', ['XLEN', 's']), (0, 'cmd', ['XADD', 's', '5-5', 'a', '1']), (0, 'cmd', ['XADD', 's', '5-*', 'a', '1']),
        (0, 'cmd', ['XTRIM', 's', 'MAXLEN', '0']), (0, 'cmd', ['TYPE', 's']), (0, 'cmd', ['XRANGE', 's', '-', '+']),
    ],
}



# --- odds and ends clients call, against redis-server ------------------------------

EXTRAS_SCENARIOS = {
    'object_encoding_and_refcount': [
        (0, 'pipeline', [['SET', 'i', '12345'], ['SET', 's', 'short'], ['SET', 'r', 'x' * 50], ['RPUSH', 'l', 'a'],
                         ['HSET', 'h', 'f', 'v'], ['HSET', 'big', 'f', 'x' * 100], ['SADD', 'is', '1', '2'],
                         ['SADD', 'ss', 'a'], ['XADD', 'x', '1-1', 'a', 'b'],
                         ['OBJECT', 'ENCODING', 'i'], ['OBJECT', 'ENCODING', 's'], ['OBJECT', 'ENCODING', 'r'],
                         ['OBJECT', 'ENCODING', 'l'], ['OBJECT', 'ENCODING', 'h'], ['OBJECT', 'ENCODING', 'big'],
                         ['OBJECT', 'ENCODING', 'is'], ['OBJECT', 'ENCODING', 'ss'], ['OBJECT', 'ENCODING', 'x'],
                         ['OBJECT', 'ENCODING', 'none'], ['OBJECT', 'FREQ', 's'], ['OBJECT', 'REFCOUNT', 's'],
                         ['OBJECT', 'IDLETIME', 's'], ['OBJECT', 'NOPE', 's'], ['OBJECT', 'ENCODING']]),
    ],
    'copy_between_keys_and_databases': [
        (0, 'pipeline', [['RPUSH', 'l', 'a', 'b'], ['HSET', 'h', 'f', 'v'], ['SADD', 's', 'm'], ['SET', 'k', 'v', 'EX', '100'],
                         ['XADD', 'x', '1-1', 'a', 'b'],
                         ['COPY', 'l', 'l2'], ['RPUSH', 'l2', 'c'], ['LRANGE', 'l', '0', '-1'], ['LRANGE', 'l2', '0', '-1'],
                         ['COPY', 'h', 'h2'], ['HSET', 'h2', 'g', 'w'], ['HLEN', 'h'], ['COPY', 's', 's2', 'DB', '1'],
                         ['COPY', 'k', 'l'], ['COPY', 'k', 'l', 'REPLACE'], ['TYPE', 'l'], ['TTL', 'l'], ['COPY', 'k', 'k'],
                         ['COPY', 'x', 'x2'], ['XADD', 'x2', '2-2', 'c', 'd'], ['XLEN', 'x'],
                         ['COPY', 'none', 'n2'], ['COPY', 'k', 'z', 'DB', '16'], ['COPY', 'k', 'z', 'DB', 'x'],
                         ['COPY', 'k', 'z', 'FOO'], ['SELECT', '1'], ['SMEMBERS', 's2']]),
    ],
    'scripting_answers': [
        (0, 'pipeline', [['EVAL', 'return 1', '-1'], ['EVAL', 'return 1', '3', 'a'], ['EVALSHA', 'abc', '0'],
                         ['EVALSHA', 'abc', 'x'], ['SCRIPT', 'EXISTS', 'a', 'b'], ['SCRIPT', 'FLUSH'],
                         ['SCRIPT', 'FLUSH', 'X'], ['SCRIPT', 'KILL'], ['WAIT', '0', '0'], ['WAIT', '1', '-1'],
                         ['WAIT', 'x', '0']]),
    ],
}


SCENARIOS = {**TRANSACTION_SCENARIOS, **PUBSUB_SCENARIOS, **STREAM_SCENARIOS, **EXTRAS_SCENARIOS}


@pytest.mark.parametrize('name', sorted(SCENARIOS))
def test_scenarios_with_several_clients_match_redis(both, name):
    jobd, redis = both
    assert scenario(jobd, SCENARIOS[name]) == scenario(redis, SCENARIOS[name])
