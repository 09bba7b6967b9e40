"""Random command sequences for the differential test: strings, keys,
lists and non-blocking uses of the blocking pops, with bad arguments,
wrong types, wrong arity and unknown commands mixed in."""
import random

KEYS = ['k1', 'k2', 'k3', 'l1', 'l2', 's1', '{x}', '', 'bin\x00key']
VALUES = ['', 'a', 'b', 'abc', '0', '1', '-1', '10', '3.5', '1e3', '-0', '+1', ' 1', '99999999999999999999',
          '9223372036854775807', '-9223372036854775808', 'hello world', 'x' * 100, bytes(range(256)),
          'nan', 'inf', 'x' * 20000]
INTS = ['0', '1', '-1', '2', '-2', '3', '5', '10', '-10', '100', 'abc', '1.5', '', '9223372036854775807',
        '-9223372036854775808', '99999999999999999999', '+1', ' 1', '-0', '01']


class Generator:
    def __init__(self, seed):
        self.r = random.Random(seed)

    def key(self):
        return self.r.choice(KEYS)

    def val(self):
        return self.r.choice(VALUES)

    def int(self):
        return self.r.choice(INTS)

    def pick(self, *xs):
        return self.r.choice(xs)

    def some(self, xs, most):
        return self.r.sample(xs, self.r.randrange(0, most + 1))

    def command(self):
        k, v, i, p, r = self.key, self.val, self.int, self.pick, self.r.randrange
        expiry_opts = ['NX', 'XX', 'GET', 'KEEPTTL', 'EX', '100', 'PX', '100000', 'EXAT', '9999999999',
                       'PXAT', '1', 'EX', '0', 'EX', '-5', 'EX', 'abc', 'FOO']
        choices = [
            lambda: ['GET', k()],
            lambda: ['SET', k(), v()] + self.some(expiry_opts, 4),
            lambda: ['SETNX', k(), v()],
            lambda: ['SETEX', k(), p('100', '0', '-1', 'abc'), v()],
            lambda: ['PSETEX', k(), p('100000', '0', 'abc'), v()],
            lambda: ['MGET'] + [k() for _ in range(r(1, 4))],
            lambda: ['MSET'] + sum([[k(), v()] for _ in range(r(1, 3))], []) + ([k()] if r(5) == 0 else []),
            lambda: ['MSETNX'] + sum([[k(), v()] for _ in range(r(1, 3))], []),
            lambda: [p('INCR', 'DECR'), k()],
            lambda: [p('INCRBY', 'DECRBY'), k(), i()],
            lambda: ['INCRBYFLOAT', k(), p('1.5', '-0.1', '1e3', 'abc', 'inf', '0', '10', '0.1')],
            lambda: ['APPEND', k(), v()],
            lambda: ['STRLEN', k()],
            lambda: ['GETDEL', k()],
            lambda: ['GETEX', k()] + p([], ['PERSIST'], ['EX', '100'], ['PX', '100000'], ['EXAT', '1'], ['FOO'],
                                       ['EX'], ['EX', '0'], ['PERSIST', 'EX', '5']),
            lambda: [p('GETRANGE', 'SUBSTR'), k(), i(), i()],
            lambda: ['SETRANGE', k(), p('0', '1', '5', '-1', 'abc', '20'), v()],
            lambda: [p('DEL', 'UNLINK', 'EXISTS')] + [k() for _ in range(r(1, 4))],
            # no TTL short enough to run out between the two servers' copies of a command
            lambda: [p('EXPIRE', 'PEXPIRE'), k(), p('100000', '1000000', '-1', '0', 'abc', '9223372036854775807')]
            + self.some(['NX', 'XX', 'GT', 'LT', 'FOO'], 2),
            lambda: [p('EXPIREAT', 'PEXPIREAT'), k(), p('1', '9999999999', '99999999999999', 'abc')]
            + self.some(['NX', 'XX', 'GT', 'LT'], 2),
            lambda: [p('TTL', 'PTTL', 'PERSIST', 'TYPE', 'EXPIRETIME', 'PEXPIRETIME'), k()],
            lambda: [p('RENAME', 'RENAMENX'), k(), k()],
            lambda: ['KEYS', p('*', 'k*', '?1', '[kl]*', '*1', '\\*', '[^k]*', 'b*\\x00*')],
            lambda: ['DBSIZE'],
            lambda: ['SELECT', p('0', '1', '2', '16', '-1', 'abc')],
            lambda: [p('LPUSH', 'RPUSH', 'LPUSHX', 'RPUSHX'), k()] + [v() for _ in range(r(1, 4))],
            lambda: [p('LPOP', 'RPOP'), k()] + ([p('0', '1', '2', '5', '-1', 'abc')] if r(2) else []),
            lambda: ['LLEN', k()],
            lambda: ['LRANGE', k(), i(), i()],
            lambda: ['LINDEX', k(), i()],
            lambda: ['LSET', k(), i(), v()],
            lambda: ['LREM', k(), p('0', '1', '-1', '2', '-2', 'abc'), v()],
            lambda: ['LTRIM', k(), i(), i()],
            lambda: ['LINSERT', k(), p('BEFORE', 'AFTER', 'X'), v(), v()],
            lambda: ['LPOS', k(), v()] + p([], ['RANK', '1'], ['RANK', '-1'], ['RANK', '0'], ['COUNT', '0'],
                                           ['COUNT', '2'], ['MAXLEN', '2'], ['RANK', '2', 'COUNT', '0'],
                                           ['COUNT', '-1'], ['FOO'], ['RANK', '-2', 'MAXLEN', '3', 'COUNT', '2']),
            lambda: ['LMOVE', k(), k(), p('LEFT', 'RIGHT', 'UP'), p('LEFT', 'RIGHT')],
            lambda: ['RPOPLPUSH', k(), k()],
            lambda: ['LMPOP', p('1', '2', '0', 'abc', '9223372036854775807'), k(), k(), p('LEFT', 'RIGHT', 'X')]
            + p([], ['COUNT', '2'], ['COUNT', '0'], ['COUNT']),
            # Blocking pops with short timeouts (or keys that exist) never wait long.
            lambda: [p('BLPOP', 'BRPOP'), k(), k(), p('0.01', 'abc', '-1', '0.001')],
            lambda: ['BLMOVE', k(), k(), 'LEFT', 'RIGHT', p('0.01', 'abc')],
            lambda: ['BRPOPLPUSH', k(), k(), '0.01'],
            lambda: ['BLMPOP', '0.01', '2', k(), k(), p('LEFT', 'RIGHT')] + p([], ['COUNT', '3']),
            lambda: [p('GET', 'SET', 'LPUSH', 'LRANGE', 'EXPIRE', 'INCR', 'BLPOP', 'MSET')],
            lambda: ['NOSUCHCMD', k(), v()],
            lambda: ['FLUSHDB'] if r(30) == 0 else ['PING'],
            lambda: ['ECHO', v()],
        ]
        return self.r.choice(choices)()


def normalize(command, reply):
    """Replies that legitimately differ between two servers (time passes, hash order)."""
    name = command[0].upper() if command else ''
    kind, value = reply
    if name in ('TTL', 'PTTL') and kind == ':' and value >= 0:
        return (':', 'a ttl')
    if name in ('EXPIRETIME', 'PEXPIRETIME') and kind == ':' and value >= 0:
        return (':', 'a timestamp')
    if name == 'KEYS' and kind == '*':
        return ('*', sorted(value))
    return reply
