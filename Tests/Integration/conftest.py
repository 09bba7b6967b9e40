"""Fixtures: the real jobd binary and a real redis-server, each on a free port."""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

from resp import Conn

JOBD_BIN = os.environ.get('JOBD_BIN') or os.path.join(
    os.path.dirname(__file__), '..', '..', '.build', 'release', 'jobd')


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def wait_for_port(port, proc, what, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError('%s exited with %s before listening' % (what, proc.returncode))
        try:
            c = Conn(port, timeout=1)
            answer = c.cmd('PING')
            c.close()
            # PING answers -LOADING until the log is loaded, as in Redis
            if answer in (('+', 'PONG'), ('-', 'NOAUTH Authentication required.')):
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError('%s did not start on port %d' % (what, port))


def wait_until(predicate, timeout=15, what='condition'):
    """Polls `predicate` until it returns something true; returns that."""
    end = time.time() + timeout
    while time.time() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError('timed out waiting for ' + what)


def pairs(reply):
    """A flat [k1, v1, k2, v2] reply as a dict."""
    return dict(zip(reply[::2], reply[1::2]))


class Server:
    """A running server process with its port."""

    def __init__(self, proc, port, workdir=None, log=None):
        self.proc, self.port, self.workdir, self.log = proc, port, workdir, log

    def conn(self, **kw):
        return Conn(self.port, **kw)

    def log_text(self):
        if not self.log:
            return ''
        with open(self.log, errors='replace') as f:
            return f.read()

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
        return self.proc.returncode


def start_jobd(*flags, port=None, workdir=None):
    """A jobd on a free port with its data under a new temporary directory,
    or under `workdir` (a restart: same data, a new log file)."""
    port = port or free_port()
    workdir = workdir or tempfile.mkdtemp(prefix='jobd-test-')
    log = os.path.join(workdir, 'jobd-%d.log' % time.time_ns())
    args = [JOBD_BIN, 'serve', '--http-port', '0', '--port', str(port), '--bind', '127.0.0.1',
            '--dir', os.path.join(workdir, 'data')] + [str(f) for f in flags]
    proc = subprocess.Popen(args, stdout=open(log, 'w'), stderr=subprocess.STDOUT)
    server = Server(proc, port, workdir, log)
    try:
        wait_for_port(port, proc, 'jobd')
    except Exception:
        print(server.log_text())
        server.stop(signal.SIGKILL)
        raise
    return server


def start_jobd_with_http(*flags):
    """start_jobd with the HTTP port on a free port too (server.http_port)."""
    http_port = free_port()
    server = start_jobd('--http-port', str(http_port), *flags)
    server.http_port = http_port
    return server


def start_redis():
    port = free_port()
    proc = subprocess.Popen(['redis-server', '--port', str(port), '--bind', '127.0.0.1', '--save', '',
                             '--appendonly', 'no', '--daemonize', 'no', '--enable-debug-command', 'yes'],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = Server(proc, port)
    wait_for_port(port, proc, 'redis-server')
    return server


@pytest.fixture(scope='session')
def jobd_server():
    server = start_jobd()
    yield server
    crashed = server.proc.poll() is not None
    code = server.stop()
    assert not crashed, 'jobd died during the tests:\n' + server.log_text()
    assert code == 0, 'jobd exited with %s on SIGTERM' % code


@pytest.fixture(scope='session')
def redis_server():
    server = start_redis()
    yield server
    server.stop()


@pytest.fixture
def jobd(jobd_server):
    """The shared jobd, emptied before the test."""
    c = jobd_server.conn()
    assert c.cmd('FLUSHALL') == ('+', 'OK')
    c.close()
    yield jobd_server
    assert jobd_server.proc.poll() is None, 'jobd crashed:\n' + jobd_server.log_text()


@pytest.fixture
def redis_ref(redis_server):
    c = redis_server.conn()
    c.cmd('FLUSHALL')
    c.close()
    return redis_server


@pytest.fixture
def both(jobd, redis_ref):
    """(jobd, redis) pair for differential checks."""
    return jobd, redis_ref


@pytest.fixture
def fresh_jobd():
    """Start a private jobd with extra flags: fresh_jobd('--requirepass', 'pw')."""
    servers = []

    def start(*flags):
        server = start_jobd(*flags)
        servers.append(server)
        return server
    yield start
    for server in servers:
        alive = server.proc.poll() is None
        server.stop()
        assert alive or server.proc.returncode == 0, 'jobd crashed:\n' + server.log_text()
