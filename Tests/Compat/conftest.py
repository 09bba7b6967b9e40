"""Client-compatibility suite: one server under test for the whole session.

Environment:
  COMPAT_SERVER=redis   test a real redis-server (the reference)
  COMPAT_SERVER=redis-nolua
                        redis-server with EVAL/EVALSHA/SCRIPT/FUNCTION/FCALL
                        renamed away: what a server without Lua (jobd) sees;
                        tests marked `lua` are expected to fail there
  COMPAT_SERVER=jobd    (default) test $JOBD_BIN, or .build/release/jobd
  COMPAT_PORT=P         use a server already listening on 127.0.0.1:P
                        (nothing is started or stopped; handy with MONITOR)
"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..'))
KIND = os.environ.get('COMPAT_SERVER', 'jobd')
JOBD_BIN = os.environ.get('JOBD_BIN') or os.path.join(ROOT, '.build', 'release', 'jobd')


NO_LUA_COMMANDS = ['EVAL', 'EVALSHA', 'EVAL_RO', 'EVALSHA_RO', 'SCRIPT', 'FUNCTION', 'FCALL', 'FCALL_RO']


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def ping(port, timeout=1.0):
    """One PING over a raw socket; the reply line, or None."""
    try:
        with socket.create_connection(('127.0.0.1', port), timeout=timeout) as s:
            s.sendall(b'*1\r\n$4\r\nPING\r\n')
            data = b''
            while not data.endswith(b'\r\n'):
                chunk = s.recv(256)
                if not chunk:
                    break
                data += chunk
            return data.strip().decode(errors='replace')
    except OSError:
        return None


def wait_for_port(port, proc, what, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError('%s exited with %s before listening' % (what, proc.returncode))
        if ping(port) == '+PONG':
            return
        time.sleep(0.05)
    raise RuntimeError('%s did not answer PING with PONG on port %d' % (what, port))


class Server:
    def __init__(self, kind, port, proc=None, workdir=None, log=None):
        self.kind, self.port, self.proc, self.workdir, self.log = kind, port, proc, workdir, log
        self.url = 'redis://127.0.0.1:%d/0' % port

    def alive(self):
        return self.proc is None or self.proc.poll() is None

    def log_text(self):
        if not self.log or not os.path.exists(self.log):
            return ''
        with open(self.log, errors='replace') as f:
            return f.read()[-20000:]

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)


def start_server():
    if os.environ.get('COMPAT_PORT'):
        port = int(os.environ['COMPAT_PORT'])
        wait_for_port(port, None, 'server on COMPAT_PORT', timeout=5)
        return Server('external', port)
    port = free_port()
    workdir = tempfile.mkdtemp(prefix='jobd-compat-')
    log = os.path.join(workdir, 'server.log')
    if KIND in ('redis', 'redis-nolua'):
        args = ['redis-server', '--port', str(port), '--bind', '127.0.0.1', '--save', '',
                '--appendonly', 'no', '--daemonize', 'no', '--dir', workdir]
        if KIND == 'redis-nolua':
            for cmd in NO_LUA_COMMANDS:
                args += ['--rename-command', cmd, '']
    elif KIND == 'jobd':
        if not os.access(JOBD_BIN, os.X_OK):
            raise RuntimeError('jobd binary not found at %s (set JOBD_BIN or build it)' % JOBD_BIN)
        data = os.path.join(workdir, 'data')
        os.makedirs(data)
        args = [JOBD_BIN, 'serve', '--http-port', '0', '--port', str(port), '--bind', '127.0.0.1',
                '--dir', data, '--appendonly', 'no']
    else:
        raise RuntimeError('COMPAT_SERVER must be redis, redis-nolua or jobd, not %r' % KIND)
    with open(log, 'w') as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
    server = Server(KIND, port, proc, workdir, log)
    try:
        wait_for_port(port, proc, KIND)
    except Exception:
        print(server.log_text())
        server.stop()
        raise
    return server


def flushall(port):
    import redis
    c = redis.Redis(host='127.0.0.1', port=port, socket_timeout=10)
    try:
        assert c.flushall() is True
    finally:
        c.close()


@pytest.fixture(scope='session')
def server():
    srv = start_server()
    yield srv
    crashed = not srv.alive()
    log = srv.log_text()
    srv.stop()
    assert not crashed, '%s died during the tests:\n%s' % (srv.kind, log)


@pytest.fixture(scope='session')
def port(server):
    return server.port


@pytest.fixture(scope='session')
def server_url(server):
    return server.url


@pytest.fixture
def fresh_db(server):
    """An empty server (FLUSHALL) before the test; yields the URL."""
    flushall(server.port)
    yield server.url
    assert server.alive(), '%s crashed:\n%s' % (server.kind, server.log_text())


def pytest_report_header(config):
    return 'compat: server under test = %s' % (
        ('external port ' + os.environ['COMPAT_PORT']) if os.environ.get('COMPAT_PORT') else KIND)


def pytest_configure(config):
    config.addinivalue_line(
        'markers', 'lua: needs server-side Lua (EVAL/EVALSHA); jobd does not run Lua, '
                   'deselect with -m "not lua"')


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Expose each phase's report as item.rep_<phase> (for logs on failure)."""
    outcome = yield
    rep = outcome.get_result()
    setattr(item, 'rep_' + rep.when, rep)
