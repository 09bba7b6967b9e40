"""Bad input never hurts: every command in the table gets random arguments
(numbers at the edges, empty and binary strings, option words in the wrong
places, keys of every type) and must answer with a reply, while the server
keeps running and keeps the data it was not asked to change."""
import os
import random

from resp import value

SEED_KEYS = ['str', 'list', 'hash', 'set', 'zset', 'stream', 'missing']
WORDS = ['0', '1', '-1', '2', '-2', '100', '9223372036854775807', '-9223372036854775808', '18446744073709551616',
         '1.5', 'inf', '-inf', 'nan', '', 'x', '\x00\xff', '(1', '[a', '-', '+', '*', '$', '0-0', '1-1', 'abc',
         'COUNT', 'LIMIT', 'MATCH', 'WITHSCORES', 'BYSCORE', 'BYLEX', 'REV', 'NX', 'XX', 'GT', 'LT', 'CH', 'INCR',
         'MAXLEN', 'MINID', '~', '=', 'STREAMS', 'BLOCK', 'TYPE', 'LEFT', 'RIGHT', 'KEEPTTL', 'EX', 'PX', 'GET',
         'WITHVALUES', 'REPLACE', 'DB', 'NOMKSTREAM', 'x' * 300]
# Commands that change the connection or the server in ways the loop cannot undo.
SKIP = {'shutdown', 'debug', 'monitor', 'subscribe', 'psubscribe', 'ssubscribe', 'quit', 'reset', 'client', 'hello',
        'auth', 'config', 'bgrewriteaof', 'multi', 'exec', 'watch', 'select', 'swapdb', 'flushall', 'flushdb',
        'unsubscribe', 'punsubscribe', 'sunsubscribe'}  # (un)subscribe replies once per argument


def seed(c):
    c.cmd('SET', 'str', 'v')
    c.cmd('RPUSH', 'list', 'a', 'b', 'c')
    c.cmd('HSET', 'hash', 'f', '1')
    c.cmd('SADD', 'set', 'm', '1')
    c.cmd('ZADD', 'zset', '1', 'a', '2', 'b')
    c.cmd('XADD', 'stream', '1-1', 'f', 'v')
    c.cmd('SET', 'sentinel', 'untouched')


def test_random_arguments_to_every_command_never_hurt(jobd):
    rng = random.Random(int(os.environ.get('JOBD_FUZZ_SEED', '7')))
    rounds = int(os.environ.get('JOBD_FUZZ_ROUNDS', '40'))
    c = jobd.conn()
    names = sorted(n.decode() for n in value(c.cmd('COMMAND', 'LIST')))
    seed(c)
    for name in names:
        if name in SKIP:
            continue
        for _ in range(rounds):
            args = [rng.choice(SEED_KEYS) if rng.random() < 0.4 else rng.choice(WORDS)
                    for _ in range(rng.randrange(0, 7))]
            # Blocking commands: never wait long (a timeout is the last argument, or the first for *MPOP).
            if name.startswith(('bl', 'br', 'bz')) and args:
                args[0 if name.endswith('mpop') else -1] = '0.01'
            if name == 'xread':
                args = [a for a in args if a != 'BLOCK'] + (['BLOCK', '10'] if rng.random() < 0.3 else [])
                args = args[-2:] + args[:-2] if args[-2:] == ['BLOCK', '10'] else args
            reply = c.cmd(name, *args)
            assert reply[0] in '+-:$*%~_,#=>', (name, args, reply)
            if c.cmd('ECHO', 'alive') != ('$', b'alive'):  # still in step with the connection
                raise AssertionError('connection out of step after %s %r' % (name, args))
        if name in ('del', 'unlink', 'rename', 'renamenx', 'copy', 'move', 'getdel', 'expire', 'pexpire',
                    'expireat', 'pexpireat', 'set', 'getex'):
            c.cmd('SET', 'sentinel', 'untouched')
        seed(c)
    assert c.cmd('GET', 'sentinel') == ('$', b'untouched')
    assert jobd.proc.poll() is None
