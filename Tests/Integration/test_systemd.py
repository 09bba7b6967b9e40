"""jobd under systemd, tested without systemd running: the unit file is
checked by `systemd-analyze verify`; the notify protocol against a datagram
socket the test binds (a path and an abstract name) standing in for
systemd's; SIGHUP reloads of a config file; journald's priority prefixes;
and scripts/install staging into a directory."""
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest
import redis

from conftest import JOBD_BIN, free_port, pairs, wait_for_port, wait_until

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
UNIT = os.path.join(ROOT, 'systemd', 'jobd.service')


class NotifySocket:
    """An AF_UNIX datagram socket standing in for systemd's notify socket.
    `address` is what $NOTIFY_SOCKET holds; `messages` every datagram so far,
    each as a dict of its KEY=VALUE lines plus the raw text."""

    def __init__(self, directory, abstract=False):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if abstract:
            name = 'jobd-test-%d-%d' % (os.getpid(), time.monotonic_ns())
            self.sock.bind('\0' + name)
            self.address = '@' + name
        else:
            self.address = os.path.join(directory, 'notify.sock')
            self.sock.bind(self.address)
        self.messages = []

    def close(self):
        self.sock.close()

    def _receive(self, timeout):
        self.sock.settimeout(max(timeout, 0.001))
        try:
            data = self.sock.recv(65536).decode()
        except socket.timeout:
            return None
        fields = dict(line.split('=', 1) for line in data.split('\n') if '=' in line)
        fields['_raw'] = data
        fields['_at'] = time.monotonic()
        self.messages.append(fields)
        return fields

    def wait_for(self, predicate, timeout=20, what='a notify message'):
        """Receives until a message satisfies `predicate`; returns it."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            message = self._receive(end - time.monotonic())
            if message is not None and predicate(message):
                return message
        raise AssertionError('no %s within %d s; got %r' % (what, timeout, [m['_raw'] for m in self.messages]))

    def collect(self, seconds):
        """Every message received during `seconds`."""
        start = len(self.messages)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self._receive(end - time.monotonic())
        return self.messages[start:]


class Jobd:
    """A private jobd in its own directory, with a config file and notify socket."""

    def __init__(self, abstract=False):
        self.dir = tempfile.mkdtemp(prefix='jobd-systemd-')
        self.notify = NotifySocket(self.dir, abstract)
        self.config = os.path.join(self.dir, 'jobd.conf')
        self.log = os.path.join(self.dir, 'jobd.log')
        self.proc = None
        self.port = free_port()
        self.write_config('')

    def write_config(self, text):
        with open(self.config, 'w') as f:
            f.write(text)

    def start(self, *flags, env=None, wait=True, notify=True):
        environment = dict(os.environ)
        for name in ('NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID', 'JOURNAL_STREAM'):
            environment.pop(name, None)
        if notify:
            environment['NOTIFY_SOCKET'] = self.notify.address
        environment.update(env or {})
        args = [JOBD_BIN, 'serve', '--config', self.config, '--http-port', '0', '--port', str(self.port), '--bind', '127.0.0.1',
                '--dir', os.path.join(self.dir, 'data')] + [str(f) for f in flags]
        self.proc = subprocess.Popen(args, stdout=open(self.log, 'a'), stderr=subprocess.STDOUT, env=environment)
        if wait:
            wait_for_port(self.port, self.proc, 'jobd')
        self.r = redis.Redis(port=self.port, socket_timeout=20)
        return self.r

    def start_ready(self, config='', *flags, env=None):
        """Writes the config file, starts, and waits for READY=1."""
        self.write_config(config)
        r = self.start(*flags, env=env)
        self.notify.wait_for(lambda m: m.get('READY') == '1', what='READY=1')
        return r

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=30):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def log_text(self):
        with open(self.log, errors='replace') as f:
            return f.read()

    def cleanup(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.notify.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def jobd():
    servers = []

    def make(abstract=False):
        server = Jobd(abstract)
        servers.append(server)
        return server
    yield make
    for server in servers:
        server.cleanup()


def config_get(r, name):
    return r.config_get(name)[name]


def pool_names(r):
    return sorted(pairs(p)[b'queues'].decode() for p in r.execute_command('WORKER.LIST'))


# --- (1) the unit file ---------------------------------------------------------

REQUIRED = {
    'Type': 'notify', 'NotifyAccess': 'main',
    'ExecStart': '/usr/local/bin/jobd serve --config /etc/jobd/jobd.conf',
    'ExecReload': '/bin/kill -HUP $MAINPID', 'User': 'jobd', 'Group': 'jobd',
    'StateDirectory': 'jobd', 'RuntimeDirectory': 'jobd', 'LimitNOFILE': '65536', 'WatchdogSec': '30',
    'Restart': 'on-failure', 'NoNewPrivileges': 'yes', 'ProtectSystem': 'strict', 'ProtectHome': 'yes',
    'PrivateTmp': 'yes', 'PrivateDevices': 'yes', 'ProtectKernelTunables': 'yes', 'ProtectKernelModules': 'yes',
    'ProtectKernelLogs': 'yes', 'ProtectControlGroups': 'yes',
    'RestrictAddressFamilies': 'AF_INET AF_INET6 AF_UNIX', 'RestrictNamespaces': 'yes',
    'LockPersonality': 'yes', 'MemoryDenyWriteExecute': 'yes', 'RestrictRealtime': 'yes',
    'SystemCallArchitectures': 'native', 'CapabilityBoundingSet': '', 'UMask': '0077',
}


def unit_settings(path):
    settings = {}
    for line in open(path):
        line = line.strip()
        if line and not line.startswith(('#', ';', '[')):
            key, value = line.split('=', 1)
            settings[key.strip()] = value.strip()
    return settings


def test_the_unit_file_has_the_settings_and_passes_systemd_analyze_verify():
    settings = unit_settings(UNIT)
    for key, value in REQUIRED.items():
        assert settings.get(key) == value, '%s=%r, expected %r' % (key, settings.get(key), value)
    # Stopping waits for shutdown-timeout (10 s) plus the 3 s kill grace of exec'd handlers.
    assert int(settings['TimeoutStopSec']) > 13
    if shutil.which('systemd-analyze') is None:
        pytest.skip('systemd-analyze is not installed (scripts/test installs the systemd package)')
    # verify checks that ExecStart's program exists: point it at the binary under test.
    directory = tempfile.mkdtemp(prefix='jobd-unit-')
    try:
        unit = os.path.join(directory, 'jobd.service')
        with open(UNIT) as f:
            text = f.read().replace('ExecStart=/usr/local/bin/jobd ', 'ExecStart=%s ' % os.path.abspath(JOBD_BIN))
        with open(unit, 'w') as f:
            f.write(text)
        done = subprocess.run(['systemd-analyze', 'verify', unit], capture_output=True, text=True, timeout=60)
        output = (done.stdout + done.stderr).strip()
        if done.returncode != 0 and re.search(r'(Failed to|Cannot) (connect|initialize|set up)', output):
            pytest.skip('systemd-analyze cannot run here: ' + output)
        # verify exits 0 even for unknown keys; anything it prints about the unit is a problem.
        assert done.returncode == 0 and output == '', output
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def test_sysusers_and_tmpfiles_create_the_user_and_config_directory():
    if shutil.which('systemd-sysusers') is None or shutil.which('systemd-tmpfiles') is None:
        pytest.skip('systemd-sysusers/systemd-tmpfiles are not installed')
    if os.geteuid() != 0:
        pytest.skip('systemd-tmpfiles --root needs root to give /etc/jobd its owner')
    root = tempfile.mkdtemp(prefix='jobd-root-')
    try:
        os.makedirs(os.path.join(root, 'etc'))
        subprocess.run(['systemd-sysusers', '--root', root, os.path.join(ROOT, 'systemd', 'jobd.sysusers')],
                       check=True, capture_output=True, timeout=60)
        passwd = open(os.path.join(root, 'etc', 'passwd')).read()
        entry = [line for line in passwd.splitlines() if line.startswith('jobd:')]
        assert entry and entry[0].split(':')[5] == '/var/lib/jobd', passwd
        subprocess.run(['systemd-tmpfiles', '--root', root, '--create', os.path.join(ROOT, 'systemd', 'jobd.tmpfiles')],
                       check=True, capture_output=True, timeout=60)
        info = os.stat(os.path.join(root, 'etc', 'jobd'))
        assert oct(info.st_mode & 0o7777) == oct(0o750) and info.st_uid == 0
        assert info.st_gid == int(entry[0].split(':')[3])
    finally:
        shutil.rmtree(root, ignore_errors=True)


# --- (2) READY, STATUS, STOPPING ------------------------------------------------

@pytest.mark.parametrize('abstract', [False, True], ids=['path', 'abstract'])
def test_ready_comes_after_the_log_is_loaded_and_the_port_accepts_then_status_then_stopping(jobd, abstract):
    j = jobd(abstract)
    # A log worth loading: 30000 keys and a queue, written by a first run without notify.
    r = j.start(notify=False)
    pipe = r.pipeline(transaction=False)
    for i in range(30000):
        pipe.set('key:%d' % i, 'v' * 100)
    pipe.execute()
    r.lpush('emails', *['job%d' % i for i in range(100)])
    assert j.stop() == 0
    assert j.notify.messages == [] and j.notify.collect(0.1) == []

    j.start(wait=False)
    ready = j.notify.wait_for(lambda m: m.get('READY') == '1', what='READY=1')
    # READY means serving: the port answers, and every key of the log is there.
    c = redis.Redis(port=j.port, socket_timeout=10)
    assert c.ping() is True
    assert c.dbsize() == 30001 and c.llen('emails') == 100
    before = j.notify.messages[:j.notify.messages.index(ready)]
    assert before and before[0].get('STATUS', '').startswith('loading'), before
    assert all('READY' not in m for m in before)
    assert re.match(r'\d+ clients, \d+ queues: \d+ pending, \d+ active', ready['STATUS']), ready
    if not abstract:
        # The summary again every 5 s, on its own.
        status = j.notify.wait_for(lambda m: 'STATUS' in m and 'READY' not in m, timeout=15, what='a periodic STATUS=')
        assert 'clients' in status['STATUS'] and 'ops/s' in status['STATUS']
    j.signal(signal.SIGTERM)
    stopping = j.notify.wait_for(lambda m: m.get('STOPPING') == '1', what='STOPPING=1')
    assert j.proc.wait(30) == 0
    order = j.notify.messages
    assert order.index(ready) < order.index(stopping)
    assert all('READY' not in m for m in order[order.index(stopping):])


def test_the_shutdown_command_sends_stopping_too(jobd):
    j = jobd()
    r = j.start_ready()
    try:
        r.execute_command('SHUTDOWN')
    except redis.ConnectionError:
        pass
    j.notify.wait_for(lambda m: m.get('STOPPING') == '1', what='STOPPING=1')
    assert j.proc.wait(30) == 0


def test_exec_handlers_do_not_inherit_the_notify_socket_or_watchdog(jobd):
    j = jobd()
    r = j.start('--worker', 'env exec /usr/bin/env', env={'WATCHDOG_USEC': '30000000', 'JOBD_TEST_MARK': 'kept'})
    job = r.execute_command('JOB.ADD', 'env', '')
    environment = r.execute_command('JOB.RESULT', job, 'WAIT', 10000).decode()
    assert 'JOBD_TEST_MARK=kept' in environment
    assert 'NOTIFY_SOCKET' not in environment and 'WATCHDOG_USEC' not in environment, environment
    assert j.stop() == 0


# --- (3) the watchdog ------------------------------------------------------------

def test_watchdog_pings_at_half_the_timeout(jobd):
    j = jobd()
    j.start_ready(env={'WATCHDOG_USEC': '200000'})
    pings = [m for m in j.notify.collect(1.5) if m.get('WATCHDOG') == '1']
    # Every 100 ms: about 15; a loaded 2-core machine may delay some.
    assert len(pings) >= 4, pings
    assert j.stop() == 0


def test_watchdog_for_another_process_is_ignored_and_our_pid_is_honoured(jobd):
    j = jobd()
    j.start_ready(env={'WATCHDOG_USEC': '200000', 'WATCHDOG_PID': '1'})
    assert [m for m in j.notify.collect(1.0) if 'WATCHDOG' in m] == []
    assert j.stop() == 0
    # WATCHDOG_PID set to jobd's own pid: exec keeps the shell's pid.
    k = jobd()
    args = [JOBD_BIN, 'serve', '--http-port', '0', '--port', str(k.port), '--bind', '127.0.0.1', '--dir', os.path.join(k.dir, 'data')]
    environment = dict(os.environ, NOTIFY_SOCKET=k.notify.address, WATCHDOG_USEC='200000')
    k.proc = subprocess.Popen(['/bin/sh', '-c', 'WATCHDOG_PID=$$ exec "$@"', 'sh'] + args, env=environment,
                              stdout=open(k.log, 'a'), stderr=subprocess.STDOUT)
    k.notify.wait_for(lambda m: m.get('WATCHDOG') == '1', what='WATCHDOG=1')
    assert k.stop() == 0


# --- (4) SIGHUP reload -----------------------------------------------------------

def reload(j):
    """SIGHUP; returns (RELOADING message, the READY that ends it)."""
    sent = time.monotonic()
    j.signal(signal.SIGHUP)
    reloading = j.notify.wait_for(lambda m: m.get('RELOADING') == '1', what='RELOADING=1')
    # CLOCK_MONOTONIC in µs, as Python's monotonic clock on Linux.
    assert abs(int(reloading['MONOTONIC_USEC']) / 1e6 - sent) < 30, reloading
    ready = j.notify.wait_for(lambda m: m.get('READY') == '1', what='READY=1 after the reload')
    return reloading, ready


def test_sighup_applies_runtime_directives_and_worker_pools_and_keeps_command_line_overrides(jobd):
    j = jobd()
    r = j.start_ready('maxmemory 0\nloglevel notice\nslowlog-max-len 99\nworker a noop\nworker c echo concurrency 1\n',
                      '--slowlog-max-len', '7')
    assert pool_names(r) == ['a', 'c']
    assert config_get(r, 'slowlog-max-len') == '7'

    j.write_config('maxmemory 100mb\nloglevel verbose\nslowlog-max-len 50\ndatabases 8\n'
                   'worker b echo concurrency 2\nworker c echo concurrency 3\n')
    _, ready = reload(j)
    assert 'reloaded' in ready['STATUS'], ready
    assert config_get(r, 'maxmemory') == str(100 * 1024 * 1024)
    assert config_get(r, 'loglevel') == 'verbose'
    # The command line still wins over the file.
    assert config_get(r, 'slowlog-max-len') == '7'
    # databases is read at start only: logged, not applied.
    assert config_get(r, 'databases') == '16'
    wait_until(lambda: pool_names(r) == ['b', 'c'], what='pools b and c')
    pools = {pairs(p)[b'queues']: pairs(p) for p in r.execute_command('WORKER.LIST')}
    assert pools[b'b'][b'concurrency'] == 2 and pools[b'c'][b'concurrency'] == 3
    job = r.execute_command('JOB.ADD', 'b', 'hello')
    assert r.execute_command('JOB.RESULT', job, 'WAIT', 10000) == b'hello'
    log = j.log_text()
    assert "'databases' changed" in log and 'restart' in log
    assert 'Configuration reloaded' in log
    # loglevel verbose took effect: connections are logged now.
    redis.Redis(port=j.port).ping()
    wait_until(lambda: 'Accepted 127.0.0.1' in j.log_text(), what='a verbose log line')
    assert j.stop() == 0


def test_a_pool_dropped_by_a_reload_finishes_its_running_job_and_leaves_the_rest_queued(jobd):
    j = jobd()
    r = j.start_ready('worker slow sleep\n')
    r.lpush('slow', '1500', '1500', '1500')
    wait_until(lambda: pairs(r.execute_command('WORKER.LIST')[0])[b'running'] == 1, what='a running job')
    j.write_config('')
    reload(j)
    wait_until(lambda: pool_names(r) == [], what='the pool to go')
    stats = pairs(r.execute_command('QUEUE.STATS', 'slow'))
    assert stats[b'completed'] == 1 and stats[b'active'] == 0
    assert r.llen('slow') == 2
    assert j.stop() == 0


def test_a_broken_config_on_sighup_keeps_the_running_settings(jobd):
    j = jobd()
    r = j.start_ready('maxmemory 10mb\nworker a noop\n')
    j.write_config('maxmemory 20mb\nworker b noop\nmaxmemory lots\n')
    _, ready = reload(j)
    assert ready['STATUS'].startswith('reload failed'), ready
    assert 'line 3' in ready['STATUS']
    assert config_get(r, 'maxmemory') == str(10 * 1024 * 1024)
    assert pool_names(r) == ['a']
    assert 'Configuration reload failed' in j.log_text()
    # A file that is gone: the same.
    os.unlink(j.config)
    _, ready = reload(j)
    assert ready['STATUS'].startswith('reload failed'), ready
    assert r.ping() and config_get(r, 'maxmemory') == str(10 * 1024 * 1024)
    assert j.proc.poll() is None
    assert j.stop() == 0


# --- (5) journald priority prefixes --------------------------------------------------

def run_with_stderr(jobd, env_for, *flags):
    """Runs jobd with stderr on a file; env_for(stat of that file) gives extra
    environment. Returns the server and the lines it wrote up to its exit."""
    j = jobd()
    path = os.path.join(j.dir, 'stderr.log')
    with open(path, 'w') as stderr:
        info = os.fstat(stderr.fileno())
        environment = {k: v for k, v in os.environ.items() if k not in ('JOURNAL_STREAM', 'NOTIFY_SOCKET')}
        environment.update(env_for(info))
        args = [JOBD_BIN, 'serve', '--http-port', '0', '--port', str(j.port), '--bind', '127.0.0.1', '--dir', os.path.join(j.dir, 'data'),
                '--loglevel', 'verbose'] + list(flags)
        j.proc = subprocess.Popen(args, stdout=stderr, stderr=stderr, env=environment)
        wait_for_port(j.port, j.proc, 'jobd')
    redis.Redis(port=j.port).ping()
    assert j.stop() == 0
    return j, open(path).read().splitlines()


def test_journald_gets_priority_prefixes_when_stderr_is_the_journal_stream(jobd):
    _, lines = run_with_stderr(jobd, lambda st: {'JOURNAL_STREAM': '%d:%d' % (st.st_dev, st.st_ino)})
    assert lines and all(re.match(r'<[4-7]>[.\-*#] ', line) for line in lines), lines
    assert any(line == '<5>* Ready to accept connections' for line in lines), lines
    assert any(line.startswith('<6>- Accepted 127.0.0.1') for line in lines), lines
    assert any(line.startswith('<4># Received SIGTERM') for line in lines), lines


@pytest.mark.parametrize('stream', [None, 'other'], ids=['unset', 'another-file'])
def test_no_prefixes_when_stderr_is_not_the_journal(jobd, stream):
    def env_for(st):
        if stream is None:
            return {}
        return {'JOURNAL_STREAM': '%d:%d' % (st.st_dev, st.st_ino + 1)}
    _, lines = run_with_stderr(jobd, env_for)
    assert lines and not any(line.startswith('<') for line in lines), lines
    # Redis-style lines: pid:role, timestamp, level marker.
    assert all(re.match(r'\d+:M \d\d \w{3} \d{4} [\d:.]+ [.\-*#] ', line) for line in lines), lines


def test_a_logfile_never_gets_prefixes(jobd, tmp_path):
    logfile = str(tmp_path / 'file.log')
    run_with_stderr(jobd, lambda st: {'JOURNAL_STREAM': '%d:%d' % (st.st_dev, st.st_ino)}, '--logfile', logfile)
    lines = open(logfile).read().splitlines()
    assert any('Ready to accept connections' in line for line in lines)
    assert all(re.match(r'\d+:M \d\d \w{3} ', line) for line in lines), lines


# --- (6) scripts/install -------------------------------------------------------------

def staged_files(root):
    found = {}
    for directory, _, files in os.walk(root):
        for name in files:
            path = os.path.join(directory, name)
            found['/' + os.path.relpath(path, root)] = oct(os.stat(path).st_mode & 0o777)
    return found


def test_install_stages_the_binary_unit_users_and_config(tmp_path):
    dest = str(tmp_path / 'stage')
    install = [os.path.join(ROOT, 'scripts', 'install'), '--dest', dest, '--no-build', '--binary', JOBD_BIN]
    subprocess.run(install, check=True, capture_output=True, timeout=120)
    assert staged_files(dest) == {
        '/usr/local/bin/jobd': oct(0o755),
        '/etc/systemd/system/jobd.service': oct(0o644),
        '/etc/sysusers.d/jobd.conf': oct(0o644),
        '/etc/tmpfiles.d/jobd.conf': oct(0o644),
        '/etc/jobd/jobd.conf': oct(0o640),
    }
    assert oct(os.stat(os.path.join(dest, 'etc', 'jobd')).st_mode & 0o777) == oct(0o750)
    unit = unit_settings(os.path.join(dest, 'etc', 'systemd', 'system', 'jobd.service'))
    assert unit['ExecStart'] == '/usr/local/bin/jobd serve --config /etc/jobd/jobd.conf'
    config = os.path.join(dest, 'etc', 'jobd', 'jobd.conf')
    directives = [line for line in open(config) if line.strip() and not line.startswith('#')]
    assert directives == ['dir /var/lib/jobd\n']

    # The staged binary reads the staged config (its dir overridden: /var/lib/jobd is not ours).
    port = free_port()
    proc = subprocess.Popen([os.path.join(dest, 'usr', 'local', 'bin', 'jobd'), 'serve', '--config', config,
                             '--http-port', '0', '--port', str(port), '--bind', '127.0.0.1', '--dir', str(tmp_path / 'data')],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, proc, 'staged jobd')
        assert redis.Redis(port=port).config_get('dir')['dir'] == str(tmp_path / 'data')
    finally:
        proc.terminate()
        proc.wait(30)

    # A second install keeps an edited config, and --prefix moves the binary and ExecStart.
    with open(config, 'a') as f:
        f.write('maxmemory 1gb\n')
    subprocess.run(install + ['--prefix', '/opt/jobd'], check=True, capture_output=True, timeout=120)
    assert open(config).read().endswith('maxmemory 1gb\n')
    assert os.path.exists(os.path.join(dest, 'opt', 'jobd', 'bin', 'jobd'))
    unit = unit_settings(os.path.join(dest, 'etc', 'systemd', 'system', 'jobd.service'))
    assert unit['ExecStart'] == '/opt/jobd/bin/jobd serve --config /etc/jobd/jobd.conf'


def test_install_refuses_bad_options(tmp_path):
    script = os.path.join(ROOT, 'scripts', 'install')
    for args in (['--bogus'], ['--prefix'], ['--prefix', 'relative', '--dest', str(tmp_path)]):
        done = subprocess.run([script] + args, capture_output=True, text=True, timeout=60)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
    done = subprocess.run([script, '--dest', str(tmp_path), '--no-build', '--binary', '/no/such/jobd'],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and 'no jobd binary' in done.stderr
