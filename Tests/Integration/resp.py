"""A raw RESP client for tests: replies come back as tagged tuples so that
reply types and error texts can be compared exactly between servers.

('+', str) simple string   ('-', str) error        (':', int) integer
('$', bytes|None) bulk     ('*', list|None) array   ('%', [(k, v)]) map
('~', list) set            ('>', list) push         ('_', None) null
(',', str) double          ('#', bool) boolean      ('=', bytes) verbatim
"""
import socket


def encode(*args):
    out = [b'*%d\r\n' % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, int):
            a = str(a).encode()
        out.append(b'$%d\r\n%s\r\n' % (len(a), a))
    return b''.join(out)


class Conn:
    def __init__(self, port, host='127.0.0.1', timeout=10, unix=None):
        if unix:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect(unix)
        else:
            self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b''

    def close(self):
        self.sock.close()

    def send(self, *args):
        self.sock.sendall(encode(*args))

    def send_raw(self, data):
        self.sock.sendall(data)

    def _fill(self):
        data = self.sock.recv(1 << 20)
        if not data:
            raise EOFError('connection closed')
        self.buf += data

    def _line(self):
        while b'\r\n' not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b'\r\n', 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n + 2:
            self._fill()
        value, self.buf = self.buf[:n], self.buf[n + 2:]
        return value

    def read(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b'+':
            return ('+', rest.decode())
        if kind == b'-':
            return ('-', rest.decode())
        if kind == b':':
            return (':', int(rest))
        if kind == b'$':
            n = int(rest)
            return ('$', None if n < 0 else self._exact(n))
        if kind in (b'*', b'~', b'>'):
            n = int(rest)
            return (kind.decode(), None if n < 0 else [self.read() for _ in range(n)])
        if kind == b'%':
            return ('%', [(self.read(), self.read()) for _ in range(int(rest))])
        if kind == b'_':
            return ('_', None)
        if kind == b',':
            return (',', rest.decode())
        if kind == b'#':
            return ('#', rest == b't')
        if kind == b'=':
            return ('=', self._exact(int(rest)))
        raise ValueError('unexpected reply line %r' % line)

    def cmd(self, *args):
        self.send(*args)
        return self.read()

    def is_closed(self, wait=2.0):
        """True when the server has closed the connection (reads EOF)."""
        self.sock.settimeout(wait)
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    return True
                self.buf += data
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False


def value(reply):
    """The plain Python value of a reply (for assertions that do not care about types)."""
    kind, v = reply
    if kind in ('*', '~', '>') and v is not None:
        return [value(x) for x in v]
    if kind == '%':
        return {value(k): value(x) for k, x in v}
    return v
