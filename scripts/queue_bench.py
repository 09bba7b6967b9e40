"""Queue round trip for scripts/bench.py's `queue` section: 1 producer and W
workers, each its own OS process, against one server, and the jobs/s it took
to push and consume N jobs.

    python3 scripts/queue_bench.py SYSTEM PORT [--jobs N] [--workers 4] [--batch 100] [--prefetch 16]

  jobget        producer LPUSH q payload; worker JOB.GET BLOCK 1000 FROM q, then JOB.ACK id
  jobget-batch  the same producer; worker JOB.GET BLOCK 1000 COUNT <prefetch> FROM q, and the
                acks of those jobs sent in the same write as its next JOB.GET (a worker with
                prefetch, as Celery's worker_prefetch_multiplier: still one ack per job)
  brpop         producer LPUSH q payload; worker BRPOP q 1 (the job is done when popped)
  blmpop        the same producer; worker BLMPOP 1 1 q RIGHT COUNT <prefetch> (Redis 7's
                batched blocking pop, no ack: the reference for jobget-batch)
  beanstalkd    producer put <pri> 0 60 <bytes>; worker reserve, then delete id

The producer pipelines its pushes, `--batch` commands per write, and reads
that many replies before the next write (the same batching for every system).
Each worker has one connection: a blocking take, then the ack or delete, per
job (the batch systems take up to --prefetch jobs per round trip). After the N jobs the producer pushes one stop job per
worker; the queues are FIFO, so each worker sees its stop job only after every
real job has been taken (a batch worker that takes several stop jobs puts the
others back at the tail for the workers still running). The clock runs from releasing the producer (all
processes connected) to the last worker's last ack; the parent waits for
every worker's report. Prints one JSON object: jobs_per_s and details, or
`unavailable` (JOB.GET answered an error: not implemented), or `error`.

The RESP and beanstalkd clients are hand-written and equally lean (bytes,
buffered reads, one send per command) so that client overhead is as close as
possible between the systems compared.
"""
import argparse
import json
import multiprocessing
import os
import queue as queue_mod
import socket
import sys
import time

STOP = b'stop'


class Incomplete(Exception):
    pass


class ReplyError(Exception):
    pass


class Error(str):
    """A RESP error reply (returned, not raised, so arrays holding one parse)."""


def encode(*args):
    out = [b'*%d\r\n' % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, int):
            a = b'%d' % a
        out.append(b'$%d\r\n%s\r\n' % (len(a), a))
    return b''.join(out)


def parse(buf, pos):
    """One RESP2 reply from buf at pos -> (value, next pos); Incomplete if buf ends first."""
    end = buf.find(b'\r\n', pos)
    if end < 0:
        raise Incomplete
    kind = buf[pos]
    if kind == 36:  # $ bulk
        n = int(buf[pos + 1:end])
        if n < 0:
            return None, end + 2
        start = end + 2
        stop = start + n
        if len(buf) < stop + 2:
            raise Incomplete
        return buf[start:stop], stop + 2
    if kind == 42:  # * array
        n = int(buf[pos + 1:end])
        pos = end + 2
        if n < 0:
            return None, pos
        items = []
        for _ in range(n):
            item, pos = parse(buf, pos)
            items.append(item)
        return items, pos
    if kind == 58:  # : integer
        return int(buf[pos + 1:end]), end + 2
    if kind == 43:  # + simple string
        return buf[pos + 1:end], end + 2
    if kind == 45:  # - error
        return Error(buf[pos + 1:end].decode(errors='replace')), end + 2
    if kind == 95:  # _ RESP3 null
        return None, end + 2
    raise ReplyError('unexpected reply type %r' % buf[pos:end])


class Conn:
    """One TCP connection with a receive buffer; RESP replies, lines and exact byte counts."""

    def __init__(self, port):
        self.sock = socket.create_connection(('127.0.0.1', port), timeout=None)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.send = self.sock.sendall
        self.buf = b''
        self.pos = 0

    def fill(self):
        data = self.sock.recv(262144)
        if not data:
            raise EOFError('server closed the connection')
        self.buf = self.buf[self.pos:] + data if self.pos < len(self.buf) else data
        self.pos = 0

    def reply(self):
        while True:
            try:
                value, self.pos = parse(self.buf, self.pos)
                return value
            except Incomplete:
                self.fill()

    def line(self):
        while True:
            end = self.buf.find(b'\r\n', self.pos)
            if end >= 0:
                line = self.buf[self.pos:end]
                self.pos = end + 2
                return line
            self.fill()

    def exact(self, n):
        """n bytes followed by CRLF."""
        while len(self.buf) - self.pos < n + 2:
            self.fill()
        data = self.buf[self.pos:self.pos + n]
        self.pos += n + 2
        return data

    def lines(self, n):
        """The next n CRLF-terminated lines (the producer's pipelined replies)."""
        while self.buf.count(b'\r\n', self.pos) < n:
            self.fill()
        parts = self.buf[self.pos:].split(b'\r\n', n)
        self.buf, self.pos = parts.pop(), 0
        return parts


def payload_bytes(size):
    return (b'job-payload-' * (size // 12 + 1))[:size]


# ---- producers: connect, wait for the start signal, push jobs then stop jobs.

def resp_producer(conn, queue, jobs, batch, payload, workers):
    one = encode('LPUSH', queue, payload)
    full = one * batch
    for sent in range(0, jobs, batch):
        n = min(batch, jobs - sent)
        conn.send(full if n == batch else one * n)
        for line in conn.lines(n):
            if line[:1] != b':':
                raise ReplyError('LPUSH: %r' % line)
    conn.send(encode('LPUSH', queue, STOP) * workers)
    for line in conn.lines(workers):
        if line[:1] != b':':
            raise ReplyError('LPUSH: %r' % line)


def beanstalkd_setup_producer(conn, queue):
    conn.send(b'use %s\r\n' % queue.encode())
    line = conn.line()
    if not line.startswith(b'USING'):
        raise ReplyError('use: %r' % line)


def beanstalkd_producer(conn, queue, jobs, batch, payload, workers):
    one = b'put 100 0 60 %d\r\n%s\r\n' % (len(payload), payload)
    full = one * batch
    for sent in range(0, jobs, batch):
        n = min(batch, jobs - sent)
        conn.send(full if n == batch else one * n)
        for line in conn.lines(n):
            if line[:8] != b'INSERTED':
                raise ReplyError('put: %r' % line)
    # Stop jobs at a lower priority (larger number): reserved only after every real job.
    conn.send(b'put 200 0 60 %d\r\n%s\r\n' % (len(STOP), STOP) * workers)
    for line in conn.lines(workers):
        if line[:8] != b'INSERTED':
            raise ReplyError('put: %r' % line)


# ---- workers: one connection each. brpop, jobget and beanstalkd take one job per
# round trip (then ack it); jobget-batch and blmpop take up to --prefetch (jobget-batch
# pipelines its acks with the next take). Each system's loop is written out on its
# own so that no system pays for another's generality.
# Each returns (jobs done, monotonic time of its last real ack).

def brpop_worker(conn, queue):
    take = encode('BRPOP', queue, '1')
    send, reply = conn.send, conn.reply
    done, last = 0, 0.0
    while True:
        send(take)
        r = reply()
        if r is None:
            continue  # timed out: the producer has not caught up
        if isinstance(r, Error):
            raise ReplyError('BRPOP: %s' % r)
        if r[1] == STOP:
            return done, last
        done += 1
        last = time.monotonic()


def jobget_worker(conn, queue):
    take = encode('JOB.GET', 'BLOCK', '1000', 'FROM', queue)
    send, reply = conn.send, conn.reply
    done, last = 0, 0.0
    while True:
        send(take)
        r = reply()
        if isinstance(r, Error):
            raise ReplyError('JOB.GET: %s' % r)
        if not r:
            continue  # BLOCK timed out (empty or null array)
        stop = False
        for job in r:
            jid = job[1]
            if isinstance(jid, int):
                jid = b'%d' % jid
            send(b'*2\r\n$7\r\nJOB.ACK\r\n$%d\r\n%s\r\n' % (len(jid), jid))
            a = reply()
            if isinstance(a, Error):
                raise ReplyError('JOB.ACK: %s' % a)
            if job[2] == STOP:
                stop = True
            else:
                done += 1
                last = time.monotonic()
        if stop:
            return done, last


def blmpop_worker(conn, queue, prefetch):
    take = encode('BLMPOP', '1', '1', queue, 'RIGHT', 'COUNT', prefetch)
    send, reply = conn.send, conn.reply
    done, last = 0, 0.0
    while True:
        send(take)
        r = reply()
        if r is None:
            continue  # timed out
        if isinstance(r, Error):
            raise ReplyError('BLMPOP: %s' % r)
        stops = sum(1 for payload in r[1] if payload == STOP)
        done += len(r[1]) - stops
        if len(r[1]) > stops:
            last = time.monotonic()
        if stops:
            return_extra_stops(conn, queue, stops)
            return done, last


def jobget_batch_worker(conn, queue, prefetch):
    take = encode('JOB.GET', 'BLOCK', '1000', 'COUNT', prefetch, 'FROM', queue)
    send, reply = conn.send, conn.reply
    done, last = 0, 0.0
    acks, unanswered, stops = b'', 0, 0
    while True:
        if stops:
            send(acks)
        else:
            send(acks + take)
        for _ in range(unanswered):
            a = reply()
            if isinstance(a, Error):
                raise ReplyError('JOB.ACK: %s' % a)
        if unanswered:
            last = time.monotonic()  # the acks of the previous batch are answered
        if stops:
            return_extra_stops(conn, queue, stops)
            return done, last
        r = reply()
        if isinstance(r, Error):
            raise ReplyError('JOB.GET: %s' % r)
        parts = []
        for job in r or ():
            jid = job[1]
            parts.append(b'*2\r\n$7\r\nJOB.ACK\r\n$%d\r\n%s\r\n' % (len(jid), jid))
            if job[2] == STOP:
                stops += 1
            else:
                done += 1
        acks, unanswered = b''.join(parts), len(parts)


def return_extra_stops(conn, queue, stops):
    """A batch took `stops` stop jobs: one was this worker's; the rest go back to the tail."""
    if stops > 1:
        conn.send(encode('RPUSH', queue, *([STOP] * (stops - 1))))
        r = conn.reply()
        if isinstance(r, Error):
            raise ReplyError('RPUSH: %s' % r)


def beanstalkd_setup_worker(conn, queue):
    conn.send(b'watch %s\r\nignore default\r\n' % queue.encode())
    for _ in range(2):
        line = conn.line()
        if not line.startswith(b'WATCHING'):
            raise ReplyError('watch/ignore: %r' % line)


def beanstalkd_worker(conn, queue):
    send, line, exact = conn.send, conn.line, conn.exact
    done, last = 0, 0.0
    while True:
        send(b'reserve\r\n')
        head = line()
        if head[:9] != b'RESERVED ':
            raise ReplyError('reserve: %r' % head)
        _, jid, size = head.split(b' ')
        data = exact(int(size))
        send(b'delete %s\r\n' % jid)
        if line() != b'DELETED':
            raise ReplyError('delete %s: not DELETED' % jid.decode())
        if data == STOP:
            return done, last
        done += 1
        last = time.monotonic()


WORKERS = {'brpop': brpop_worker, 'jobget': jobget_worker, 'beanstalkd': beanstalkd_worker,
           'jobget-batch': jobget_batch_worker, 'blmpop': blmpop_worker}
BATCH_WORKERS = ('jobget-batch', 'blmpop')


def worker_main(index, system, port, queue, prefetch, results):
    try:
        conn = Conn(port)
        if system == 'beanstalkd':
            beanstalkd_setup_worker(conn, queue)
        results.put(('ready', index))
        if system in BATCH_WORKERS:
            done, last = WORKERS[system](conn, queue, prefetch)
        else:
            done, last = WORKERS[system](conn, queue)
        results.put(('done', index, done, last))
    except BaseException as e:  # report everything, the parent decides
        results.put(('error', index, '%s: %s' % (type(e).__name__, e)))


def producer_main(system, port, queue, jobs, batch, payload, workers, start, results):
    try:
        conn = Conn(port)
        if system == 'beanstalkd':
            beanstalkd_setup_producer(conn, queue)
        results.put(('ready', 'producer'))
        start.wait()
        t = time.monotonic()
        (beanstalkd_producer if system == 'beanstalkd' else resp_producer)(conn, queue, jobs, batch, payload, workers)
        results.put(('pushed', time.monotonic() - t))
    except BaseException as e:
        results.put(('error', 'producer', '%s: %s' % (type(e).__name__, e)))


def probe_jobget(port, queue):
    """None when JOB.GET works, else the error it answered."""
    conn = Conn(port)
    try:
        conn.send(encode('JOB.GET', 'BLOCK', '1', 'FROM', queue + ':probe'))
        r = conn.reply()
        return str(r) if isinstance(r, Error) else None
    finally:
        conn.sock.close()


def run(system, port, jobs, workers=4, batch=100, size=100, queue=None, timeout=300, prefetch=16):
    queue = queue or 'bench-q-%d-%d' % (os.getpid(), time.time_ns())
    if system.startswith('jobget'):
        err = probe_jobget(port, queue)
        if err is not None:
            return {'system': system, 'unavailable': 'JOB.GET not available', 'reply': err}
    ctx = multiprocessing.get_context('fork')
    results, start = ctx.Queue(), ctx.Event()
    procs = [ctx.Process(target=worker_main, args=(i, system, port, queue, prefetch, results), daemon=True)
             for i in range(workers)]
    procs.append(ctx.Process(target=producer_main, daemon=True,
                             args=(system, port, queue, jobs, batch, payload_bytes(size), workers, start, results)))
    for p in procs:
        p.start()
    deadline = time.monotonic() + timeout

    def next_message():
        left = deadline - time.monotonic()
        try:
            msg = results.get(timeout=max(left, 0.001))
        except queue_mod.Empty:
            raise TimeoutError('no result within %d s' % timeout)
        if msg[0] == 'error':
            raise ReplyError('%s %s' % ('producer' if msg[1] == 'producer' else 'worker %d' % msg[1], msg[2]))
        return msg

    try:
        for _ in range(workers + 1):
            next_message()  # every process connected and set up
        t0 = time.monotonic()
        start.set()
        counts, lasts, push_seconds = [0] * workers, [], None
        while len(lasts) < workers or push_seconds is None:
            msg = next_message()
            if msg[0] == 'pushed':
                push_seconds = msg[1]
            elif msg[0] == 'done':
                counts[msg[1]] = msg[2]
                lasts.append(msg[3])
        seconds = max(lasts) - t0
        if sum(counts) < jobs:
            raise ReplyError('workers consumed %d of %d jobs' % (sum(counts), jobs))
        return {'system': system, 'jobs': jobs, 'workers': workers, 'batch': batch, 'payload': size,
                'prefetch': prefetch if system in BATCH_WORKERS else 1, 'seconds': seconds, 'jobs_per_s': jobs / seconds, 'push_seconds': push_seconds,
                'per_worker': counts, 'redelivered': sum(counts) - jobs}
    except (ReplyError, TimeoutError) as e:
        return {'system': system, 'error': str(e)}
    finally:
        for p in procs:
            p.join(2)
            if p.is_alive():
                p.kill()
                p.join()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('system', choices=sorted(WORKERS))
    parser.add_argument('port', type=int)
    parser.add_argument('--jobs', type=int, default=int(os.environ.get('BENCH_QUEUE_JOBS', '100000')))
    parser.add_argument('--workers', type=int, default=4)
    parser.add_argument('--batch', type=int, default=100)
    parser.add_argument('--payload', type=int, default=100)
    parser.add_argument('--prefetch', type=int, default=16, help='jobs per take for jobget-batch and blmpop')
    parser.add_argument('--queue', help='queue (beanstalkd: tube) name; default unique per run')
    parser.add_argument('--timeout', type=float, default=300)
    a = parser.parse_args()
    result = run(a.system, a.port, a.jobs, a.workers, a.batch, a.payload, a.queue, a.timeout, a.prefetch)
    print(json.dumps(result), flush=True)
    sys.exit(1 if 'error' in result else 0)


if __name__ == '__main__':
    main()
