"""Helpers for test_hostile_clients.py: a raw-bytes exchange that reads while
it writes, a well-behaved client checked against a Python model, and a
network namespace joined to this one by a veth pair."""
import ast
import random
import socket
import subprocess
import threading
import time

from resp import Conn, encode, value

# --- raw exchanges ----------------------------------------------------------


def exchange(port, data, quiet=1.0, finish=b'', until=None, chunk=16384, host='127.0.0.1'):
    """Sends `data` (then `finish`) while a reader collects every reply.

    Returns (bytes received, whether the server closed the connection).
    Reading stops at EOF or a reset, when the received bytes end with
    `until`, or after `quiet` seconds without data once everything is sent.
    A reset counts as a close: a server that closes with unread input in
    its socket sends RST instead of FIN, and which one depends on timing."""
    sock = socket.create_connection((host, port), timeout=10)
    received = []
    outcome = {'closed': False}
    sent = threading.Event()

    def reader():
        sock.settimeout(quiet)
        while True:
            try:
                piece = sock.recv(1 << 16)
            except socket.timeout:
                if sent.is_set():
                    return
                continue
            except (ConnectionResetError, BrokenPipeError):
                outcome['closed'] = True
                return
            if not piece:
                outcome['closed'] = True
                return
            received.append(piece)
            if until and b''.join(received).endswith(until):
                return
    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    try:
        for start in range(0, len(data), chunk):
            sock.sendall(data[start:start + chunk])
        if finish:
            sock.sendall(finish)
    except (BrokenPipeError, ConnectionResetError):
        pass  # closed by the server part way: what it answered is still read
    sent.set()
    thread.join(60)
    sock.close()
    return b''.join(received), outcome['closed']


def garbage(seed, size=1 << 20, without=b''):
    """`size` bytes from a seeded RNG, with the bytes in `without` removed."""
    data = random.Random(seed).randbytes(size)
    return data.translate(None, without) if without else data


def info(conn, section):
    text = value(conn.cmd('INFO', section)).decode()
    return dict(line.split(':', 1) for line in text.split('\r\n') if ':' in line and not line.startswith('#'))


def used_memory(conn):
    return int(info(conn, 'memory')['used_memory'])


# --- a well-behaved client and its model --------------------------------------


class Workload(threading.Thread):
    """Seeded random SET/LPUSH/HSET/INCR/JOB.ADD, pipelined in small batches;
    every reply is checked against a Python model of the data set, and the
    first mismatch or error is kept in `failures`."""

    def __init__(self, port, seed, prefix='wl', batch=16):
        super().__init__(daemon=True)
        self.port, self.rng, self.prefix, self.batch = port, random.Random(seed), prefix, batch
        self.strings, self.lists, self.hashes, self.counters = {}, {}, {}, {}
        self.queues = {}   # queue -> payloads, head first (JOB.ADD without options pushes at the head)
        self.jobs = {}     # job id -> (queue, payload)
        self.failures = []
        self.operations = 0
        self.stopping = threading.Event()

    def run(self):
        try:
            conn = Conn(self.port, timeout=20)
            while not self.stopping.is_set() and not self.failures:
                self.round(conn)
            conn.close()
        except Exception as error:  # noqa: BLE001 - reported by the test
            self.failures.append('workload stopped: %r' % error)

    def stop(self):
        self.stopping.set()
        self.join(60)
        assert not self.is_alive(), 'the workload did not stop'

    def round(self, conn):
        ops = [self.next_op() for _ in range(self.batch)]
        conn.send_raw(b''.join(encode(*op[0]) for op in ops))
        for request, check in ops:
            reply = conn.read()
            problem = check(reply)
            if problem:
                self.failures.append('%r -> %r: %s' % (request, reply, problem))
            self.operations += 1

    def next_op(self):
        """(request, check): the check applies the request to the model and
        compares the reply, so replies must be checked in request order."""
        rng = self.rng
        value_ = rng.randbytes(rng.randrange(0, 64))
        kind = rng.choice(('set', 'lpush', 'hset', 'incr', 'job'))
        if kind == 'set':
            key = '%s:s:%d' % (self.prefix, rng.randrange(40))

            def check(reply):
                self.strings[key] = value_
                return None if reply == ('+', 'OK') else 'expected +OK'
            return ('SET', key, value_), check
        if kind == 'lpush':
            key = '%s:l:%d' % (self.prefix, rng.randrange(8))

            def check(reply):
                self.lists.setdefault(key, []).insert(0, value_)
                return None if reply == (':', len(self.lists[key])) else 'expected the new length'
            return ('LPUSH', key, value_), check
        if kind == 'hset':
            key, field = '%s:h:%d' % (self.prefix, rng.randrange(8)), 'f%d' % rng.randrange(20)

            def check(reply):
                fields = self.hashes.setdefault(key, {})
                added = field.encode() not in fields
                fields[field.encode()] = value_
                return None if reply == (':', int(added)) else 'expected %d' % added
            return ('HSET', key, field, value_), check
        if kind == 'incr':
            key = '%s:c:%d' % (self.prefix, rng.randrange(8))

            def check(reply):
                self.counters[key] = self.counters.get(key, 0) + 1
                return None if reply == (':', self.counters[key]) else 'expected %d' % self.counters[key]
            return ('INCR', key), check
        queue = '%s:q:%d' % (self.prefix, rng.randrange(3))

        def check(reply):
            self.queues.setdefault(queue, []).insert(0, value_)
            if reply[0] != '$' or not reply[1].isdigit():
                return 'expected a job id'
            if reply[1] in self.jobs:
                return 'job id given twice'
            self.jobs[reply[1]] = (queue, value_)
            return None
        return ('JOB.ADD', queue, value_), check

    def keys(self):
        return len(self.strings) + len(self.lists) + len(self.hashes) + len(self.counters) + len(self.queues)

    def differences(self, conn):
        """Where the server's data differs from the model (empty when equal),
        read with GET/LRANGE/HGETALL/JOB.INFO (the caller compares DBSIZE
        with the keys of every model, for keys nobody wrote)."""
        found = []

        def expect(what, got, want):
            if got != want:
                found.append('%s: server %r, model %r' % (what, got, want))
        for key, want in self.strings.items():
            expect(key, value(conn.cmd('GET', key)), want)
        for key, want in list(self.lists.items()) + list(self.queues.items()):
            expect(key, value(conn.cmd('LRANGE', key, 0, -1)), want)
        for key, want in self.hashes.items():
            flat = value(conn.cmd('HGETALL', key))
            expect(key, dict(zip(flat[::2], flat[1::2])), want)
        for key, want in self.counters.items():
            expect(key, value(conn.cmd('GET', key)), str(want).encode())
        for job_id, (queue, _) in self.jobs.items():
            flat = value(conn.cmd('JOB.INFO', job_id))
            fields = dict(zip(flat[::2], flat[1::2])) if isinstance(flat, list) else {}
            expect('job %s' % job_id.decode(), (fields.get(b'state'), fields.get(b'queue')),
                   (b'pending', queue.encode()))
        return found


# --- a network namespace on a veth pair -----------------------------------------


class Namespace:
    """A network namespace joined to this one by a veth pair: this side
    has `host_ip`, the namespace `guest_ip`. `problem` is why it could not
    be made (no `ip`, no CAP_NET_ADMIN ...), or None."""

    def __init__(self, tag):
        self.name = 'jobd-%s' % tag
        self.host_link, self.guest_link = 'jh%s' % tag, 'jg%s' % tag   # at most 15 characters
        octet = 16 + int(tag) % 200
        self.host_ip, self.guest_ip = '10.213.%d.1' % octet, '10.213.%d.2' % octet
        self.problem = None

    def ip(self, *args, inside=False):
        prefix = ['ip', 'netns', 'exec', self.name] if inside else []
        out = subprocess.run(prefix + ['ip', *args], capture_output=True, text=True, timeout=20)
        if out.returncode != 0:
            raise OSError('ip %s: %s' % (' '.join(args), out.stderr.strip()))

    def __enter__(self):
        try:
            self.ip('netns', 'add', self.name)
            self.ip('link', 'add', self.host_link, 'type', 'veth', 'peer', 'name', self.guest_link)
            self.ip('link', 'set', self.guest_link, 'netns', self.name)
            self.ip('addr', 'add', self.host_ip + '/24', 'dev', self.host_link)
            self.ip('link', 'set', self.host_link, 'up')
            self.ip('addr', 'add', self.guest_ip + '/24', 'dev', self.guest_link, inside=True)
            self.ip('link', 'set', self.guest_link, 'up', inside=True)
            self.ip('link', 'set', 'lo', 'up', inside=True)
        except (OSError, subprocess.SubprocessError) as error:
            self.problem = str(error)
        return self

    def __exit__(self, *exc):
        # Deleting the namespace deletes its end of the pair, and with it the other end.
        for command in (['ip', 'netns', 'del', self.name], ['ip', 'link', 'del', self.host_link]):
            try:
                subprocess.run(command, capture_output=True, timeout=20)
            except (OSError, subprocess.SubprocessError):
                pass  # nothing was made (no `ip`), or it is gone already

    def talk(self, port, *requests):
        """Connects from inside the namespace to host_ip:port, sends each
        request in turn and reads its answer; returns (answers, closed)."""
        script = '''
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
s.settimeout(0.5)
answers, closed = [], False
for request in sys.argv[3:]:
    data = b''
    try:
        s.sendall(request.encode())
        while True:
            piece = s.recv(65536)
            if not piece:
                closed = True
                break
            data += piece
    except socket.timeout:
        pass
    except (ConnectionResetError, BrokenPipeError):
        closed = True
    answers.append(data)
    if closed:
        break
print(repr((answers, closed)))
'''
        out = subprocess.run(['ip', 'netns', 'exec', self.name, 'python3', '-c', script,
                              self.host_ip, str(port), *requests], capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        return ast.literal_eval(out.stdout)


def wait_until(predicate, timeout=10.0, step=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()
