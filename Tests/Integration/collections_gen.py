"""Random command sequences over hashes, sets, sorted sets and transactions
for the differential test, on keys that strings and lists also use (so
WRONGTYPE comes up), with bad arguments mixed in.

Replies that legitimately differ are normalized: unordered collections are
sorted, random picks are reduced to their shape. A command whose *effect*
is random (SPOP of part of a set) is followed by a DEL of its key, so the
two servers hold the same data again."""
import random

KEYS = ['h1', 'h2', 's1', 's2', 'z1', 'z2', 'k1', '{x}']
FIELDS = ['f1', 'f2', 'f3', 'f4', '', 'f\x00', '1', '10', '-5', 'x' * 70]
VALUES = ['', 'a', 'abc', '0', '1', '-1', '10', '3.5', '1e3', ' 1', '9223372036854775807', 'x' * 100,
          'nan', 'inf', '1.5e308', '01']
INTS = ['0', '1', '-1', '2', '-3', '5', '100', 'abc', '1.5', '', '9223372036854775807', '-9223372036854775808',
        '99999999999999999999']
FLOATS = ['0', '1', '-1', '2.5', '-0.5', '1e3', 'inf', '-inf', '+inf', 'nan', 'abc', '', '1e400', '0x10', ' 1',
          '3.0000000000000001', '1.1']


class CollectionGenerator:
    def __init__(self, seed, families=('hash', 'set', 'common')):
        self.r = random.Random(seed)
        self.follow_up = []
        self.choices = []
        for family in families:
            self.choices += getattr(self, family)()

    def key(self):
        return self.r.choice(KEYS)

    def pick(self, *xs):
        return self.r.choice(xs)

    def n(self, low, high):
        return self.r.randrange(low, high + 1)

    def some(self, xs, most):
        return self.r.sample(xs, self.r.randrange(0, most + 1))

    def field(self):
        return self.r.choice(FIELDS)

    def value(self):
        return self.r.choice(VALUES)

    def command(self):
        if self.follow_up:
            command = self.follow_up.pop(0)
        else:
            command = self.r.choice(self.choices)()
        return self.track_transaction(command)

    in_multi = False
    queued = []

    def track_transaction(self, command):
        """Remembers what a MULTI queued, so that EXEC's reply can be normalized command by command."""
        name = command[0].upper() if command else ''
        if name == 'MULTI' and len(command) == 1:
            if not self.in_multi:
                self.in_multi, self.queued = True, []
        elif name == 'EXEC' and len(command) > 1:
            self.in_multi = False  # a refused EXEC ends the transaction (EXECABORT)
        elif name in ('EXEC', 'DISCARD') and len(command) == 1 and self.in_multi:
            self.in_multi = False
            if name == 'EXEC':
                command = Exec(command)
                command.queued = self.queued
        elif self.in_multi and name not in ('WATCH', 'MULTI', 'EXEC', 'DISCARD'):
            self.queued.append(command)
        return command

    def transaction(self):
        k, p = self.key, self.pick
        return [
            lambda: ['MULTI'],
            lambda: ['MULTI'],
            lambda: [p('EXEC', 'EXEC', 'EXEC', 'DISCARD')],
            lambda: ['WATCH'] + [k() for _ in range(self.n(1, 2))],
            lambda: ['UNWATCH'],
            lambda: ['MULTI', 'x'] if self.n(0, 1) else ['EXEC', 'x'],
            lambda: [p('BLPOP', 'BRPOP'), k(), '0.01'],
            lambda: ['BLMOVE', k(), k(), 'LEFT', 'RIGHT', '0.01'],
            lambda: ['NOSUCHCMD', k()],
            lambda: ['INCR', k()],
        ]

    def hash(self):
        k, f, v, p, n = self.key, self.field, self.value, self.pick, self.n
        return [
            lambda: [p('HSET', 'HMSET'), k()] + [x for _ in range(n(1, 3)) for x in (f(), v())],
            lambda: [p('HSET', 'HMSET'), k(), f()] + ([v(), f()] if n(0, 1) else []),
            lambda: ['HSETNX', k(), f(), v()],
            lambda: ['HGET', k(), f()],
            lambda: ['HMGET', k()] + [f() for _ in range(n(1, 3))],
            lambda: ['HDEL', k()] + [f() for _ in range(n(1, 3))],
            lambda: [p('HEXISTS', 'HSTRLEN'), k(), f()],
            lambda: [p('HLEN', 'HGETALL', 'HKEYS', 'HVALS'), k()],
            lambda: ['HINCRBY', k(), f(), p(*INTS)],
            lambda: ['HINCRBYFLOAT', k(), f(), p(*FLOATS)],
            lambda: ['HRANDFIELD', k()] + p([], [p(*INTS)], [p('3', '-3', '100', '0', '-100')], ['2', 'WITHVALUES'],
                                            ['-4', 'WITHVALUES'], ['100', 'WITHVALUES'], ['1', 'FOO'], ['1', 'WITHVALUES', 'X']),
            # A whole scan in one call (COUNT 1000): where a partial step stops depends on hash order.
            lambda: ['HSCAN', k(), p('0', 'abc')] + p(['COUNT', '1000'], ['MATCH', 'f*', 'COUNT', '1000'],
                                                    ['COUNT', '0'], ['MATCH'], ['FOO', 'bar']),
        ]

    def set(self):
        k, f, p, n = self.key, self.field, self.pick, self.n
        return [
            lambda: ['SADD', k()] + [f() for _ in range(n(1, 4))],
            lambda: ['SREM', k()] + [f() for _ in range(n(1, 3))],
            lambda: ['SISMEMBER', k(), f()],
            lambda: ['SMISMEMBER', k()] + [f() for _ in range(n(1, 3))],
            lambda: [p('SCARD', 'SMEMBERS'), k()],
            lambda: ['SMOVE', k(), k(), f()],
            lambda: self.spop(),
            lambda: ['SRANDMEMBER', k()] + p([], [p(*INTS)], ['100'], ['-5'], ['0'], ['1', 'X']),
            lambda: [p('SINTER', 'SUNION', 'SDIFF')] + [k() for _ in range(n(1, 3))],
            lambda: [p('SINTERSTORE', 'SUNIONSTORE', 'SDIFFSTORE')] + [k() for _ in range(n(2, 4))],
            lambda: ['SINTERCARD', p('1', '2', '0', '3', 'abc'), k(), k()] + p([], ['LIMIT', '1'], ['LIMIT', '-1'],
                                                                              ['LIMIT'], ['FOO', '1']),
            lambda: ['SSCAN', k(), p('0', 'x')] + p(['COUNT', '1000'], ['MATCH', '*1*', 'COUNT', '1000'],
                                                  ['COUNT', '-1']),
        ]

    def zset(self):
        k, p, n, f = self.key, self.pick, self.n, self.field
        scores = ['0', '1', '-1', '2.5', '1e3', 'inf', '-inf', '+inf', '1.1', '3', 'nan', 'abc', '', '0x10', '-0']
        bounds = ['-inf', '+inf', '0', '1', '(1', '(2.5', '2.5', '-1', '(-inf', 'abc', '(', '1e3', 'nan', '(0']
        ranks = ['0', '1', '-1', '2', '-2', '10', '-10', 'x']
        lex = ['-', '+', '[a', '(a', '[f1', '(f2', '[', '(', 'a', '[f4', '(-']
        z = lambda: p(k(), k(), 'lex')
        return [
            lambda: ['ZADD', k()] + self.some(['NX', 'XX', 'GT', 'LT', 'CH', 'INCR'], 2)
            + [x for _ in range(n(1, 3)) for x in (p(*scores), f())],
            lambda: ['ZADD', 'lex', '0', f()] if n(0, 1) else ['ZADD', 'lex', 'NX', '0', f(), '0', p('a', 'b', 'c', 'd')],
            lambda: ['ZINCRBY', k(), p(*scores), f()],  # not 'lex': its scores stay equal
            lambda: ['ZREM', z()] + [f() for _ in range(n(1, 3))],
            lambda: [p('ZSCORE', 'ZRANK', 'ZREVRANK'), z(), f()],
            lambda: ['ZMSCORE', z(), f(), f()],
            lambda: ['ZCARD', z()],
            lambda: [p('ZRANGE', 'ZREVRANGE'), z(), p(*ranks), p(*ranks)] + p([], ['WITHSCORES'], ['LIMIT', '0', '1'], ['X']),
            lambda: ['ZRANGE', z(), p(*bounds), p(*bounds)] + self.some(['BYSCORE', 'REV', 'WITHSCORES'], 3)
            + p([], ['LIMIT', p('0', '1', '-1'), p('1', '2', '-1', '0')], ['LIMIT', '0']),
            lambda: ['ZRANGE', 'lex', p(*lex), p(*lex), 'BYLEX'] + self.some(['REV', 'WITHSCORES'], 1)
            + p([], ['LIMIT', p('0', '1'), p('2', '-1')]),
            lambda: [p('ZRANGEBYSCORE', 'ZREVRANGEBYSCORE'), z(), p(*bounds), p(*bounds)]
            + self.some(['WITHSCORES'], 1) + p([], ['LIMIT', p('0', '1', '-1'), p('1', '-1', '5')], ['BYSCORE']),
            lambda: [p('ZRANGEBYLEX', 'ZREVRANGEBYLEX'), 'lex', p(*lex), p(*lex)] + p([], ['LIMIT', '1', '2'], ['WITHSCORES']),
            lambda: ['ZCOUNT', z(), p(*bounds), p(*bounds)],
            lambda: ['ZLEXCOUNT', 'lex', p(*lex), p(*lex)],
            lambda: ['ZREMRANGEBYRANK', z(), p(*ranks), p(*ranks)],
            lambda: ['ZREMRANGEBYSCORE', z(), p(*bounds), p(*bounds)],
            lambda: ['ZREMRANGEBYLEX', 'lex', p(*lex), p(*lex)],
            lambda: [p('ZPOPMIN', 'ZPOPMAX'), z()] + p([], ['1'], ['2'], ['0'], ['-1'], ['x'], ['1', '2']),
            lambda: [p('BZPOPMIN', 'BZPOPMAX'), z(), z(), p('0.01', 'x', '-1')],
            lambda: ['ZRANDMEMBER', z()] + p([], ['100'], ['100', 'WITHSCORES'], ['-3'], ['0'], ['x']),
            lambda: ['ZSCAN', z(), p('0', 'x')] + p(['COUNT', '1000'], ['MATCH', 'f*', 'COUNT', '1000'], ['COUNT', '0']),
            lambda: ['ZRANGESTORE', k(), z(), p(*ranks), p(*ranks)] + p([], ['REV'], ['BYSCORE'], ['WITHSCORES']),
        ]

    def stream(self):
        k, p, n = self.key, self.pick, self.n
        ids = ['1', '1-1', '2-0', '2-*', '3', '5-5', '0-0', '0-1', '10-*', 'abc', '1-x', '-1', '18446744073709551615-1',
               '18446744073709551616', '7']
        bounds = ['-', '+', '0', '1', '2-0', '(1-1', '(2', '(0-0', '(+', '5', 'abc', '(-', '18446744073709551615']
        fv = lambda: [x for _ in range(n(1, 2)) for x in (self.field(), self.value())]
        return [
            lambda: ['XADD', k()] + p([], [], ['NOMKSTREAM'], ['MAXLEN', '3'], ['MAXLEN', '=', '2'], ['MINID', '2'],
                                      ['MAXLEN', '-1'], ['MAXLEN', '2', 'LIMIT', '5'], ['MINID', 'x'],
                                      ['MAXLEN', '1', 'MINID', '1']) + [p(*ids)] + fv(),
            lambda: ['XADD', k(), p(*ids), self.field()],
            lambda: ['XLEN', k()],
            lambda: [p('XRANGE', 'XREVRANGE'), k(), p(*bounds), p(*bounds)] + p([], ['COUNT', '2'], ['COUNT', '0'],
                                                                                ['COUNT', '-1'], ['COUNT'], ['X', '1']),
            lambda: ['XDEL', k()] + [p(*ids) for _ in range(n(1, 3))],
            lambda: ['XTRIM', k()] + p(['MAXLEN', '2'], ['MAXLEN', '=', '0'], ['MINID', '3'], ['MINID', '=', '2-0'],
                                       [], ['MAXLEN'], ['LIMIT', '1'], ['MAXLEN', '1', 'LIMIT', '1'], ['FOO']),
            lambda: ['XREAD'] + p([], ['COUNT', '1'], ['COUNT', '-3'], ['BLOCK', '10'], ['BLOCK', '-1'],
                                  ['BLOCK', 'abc']) + p(['STREAMS', k(), p('0', '1-1', '$', 'abc')],
                                                        ['STREAMS', k(), k(), '0', p('2', '$')],
                                                        ['STREAMS', k(), k(), '0'], ['STREAMS'], ['FOO']),
        ]

    def spop(self):
        key = self.key()
        command = ['SPOP', key] + self.pick([], ['100'], ['0'], ['2'], ['-1'], ['abc'], ['1', '2'])
        if command[2:] in ([], ['2']):
            self.follow_up.append(['DEL', key])
        return command

    def common(self):
        k, p, v = self.key, self.pick, self.value
        return [
            lambda: ['SET', k(), v()],
            lambda: ['LPUSH', k(), v()],
            lambda: ['GET', k()],
            lambda: [p('TYPE', 'EXISTS', 'DEL'), k()],
            lambda: ['RENAME', k(), k()],
            lambda: ['EXPIRE', k(), '1000'],
            lambda: ['SCAN', '0', 'COUNT', '1000', 'TYPE', p('hash', 'set', 'zset', 'string', 'list')],
            lambda: ['FLUSHDB'] if self.r.randrange(60) == 0 else ['PING'],
        ]


class Exec(list):
    """An EXEC command that knows the commands its transaction queued."""
    queued = []


UNORDERED = {'HKEYS', 'HVALS', 'SMEMBERS', 'SINTER', 'SUNION', 'SDIFF'}


def pairs(items):
    return sorted(zip(items[::2], items[1::2]))


def normalize(command, reply):
    name = command[0].upper()
    kind, value = reply
    if isinstance(command, Exec) and kind == '*' and value is not None and len(value) == len(command.queued):
        return (kind, [normalize(c, r) for c, r in zip(command.queued, value)])
    if kind in '-+:_':
        return reply
    if name in UNORDERED and value is not None:
        return (kind, sorted(value))
    if name == 'HGETALL':
        return (kind, sorted(value) if kind == '%' else pairs(value))
    if name in ('HSCAN', 'SSCAN', 'ZSCAN') and kind == '*':
        cursor, items = value
        return (kind, [cursor, pairs(items[1]) if name != 'SSCAN' else sorted(items[1])])
    if name == 'SCAN':
        return (kind, [value[0], sorted(value[1][1])])
    if name == 'XREAD' and kind == '%':
        return (kind, sorted(value))
    if name == 'ZRANDMEMBER' and kind == '*' and value is not None and len(command) > 2 and command[2] == '100':
        return (kind, sorted(map(repr, value)))
    if name == 'ZRANDMEMBER':
        return (kind, None if value is None else ('one' if kind == '$' else len(value)))
    if name in ('HRANDFIELD', 'SRANDMEMBER', 'SPOP'):
        count = int(command[2]) if len(command) > 2 and command[2].lstrip('-').isdigit() else None
        if value is None or kind == '$':
            return (kind, 'one member' if value is not None else None)
        if count is not None and count >= 100:
            return (kind, sorted(map(repr, value)))  # all of them
        return (kind, len(value))
    return reply
