"""The jobd client subcommands (enqueue, stats, dead, job, ping) run as a
user runs them: the real binary against a real server, checked through
redis-py, with their exit statuses (0 ok, 1 server or connection error,
2 usage error)."""
import os
import pty
import re
import select
import signal
import subprocess
import tempfile
import time

import pytest
import redis

from conftest import JOBD_BIN, free_port


def run(*args, port=None, env=None, input=None, timeout=30):
    """Runs `jobd args...` (against `port` unless None) without JOBD_URL from the caller's environment."""
    environment = {k: v for k, v in os.environ.items() if k != 'JOBD_URL'}
    environment.update(env or {})
    # The port goes right after the subcommand, so that it stays before a `--`.
    argv = [JOBD_BIN, *args[:1]] + (['--port', str(port)] if port else []) + list(args[1:])
    return subprocess.run(argv, capture_output=True, input=input, env=environment, timeout=timeout)


def assert_server_error(out, text):
    """Exit status 1, `text` in the message on stderr, nothing on stdout."""
    assert out.returncode == 1, out
    assert text in out.stderr, out.stderr
    assert out.stdout == b''


def client(server, **kw):
    return redis.Redis(port=server.port, **kw)


def info(r, job_id):
    """JOB.INFO as a dict (redis-py gives the RESP2 flat array)."""
    reply = r.execute_command('JOB.INFO', job_id)
    fields = dict(zip(reply[0::2], reply[1::2]))
    return {k.decode(): v for k, v in fields.items()}


def table(stdout):
    """A `jobd stats` table: {queue: {column: cell}} (cells are separated by two spaces or more)."""
    lines = [line for line in stdout.decode().splitlines() if line.strip()]
    header = re.split(r'\s{2,}', lines[0].strip())
    rows = {}
    for line in lines[1:]:
        cells = re.split(r'\s{2,}', line.strip())
        assert len(cells) == len(header), line
        rows[cells[0]] = dict(zip(header, cells))
    return rows


# --- enqueue ----------------------------------------------------------------

def test_enqueue_sends_every_option_to_job_add(jobd):
    out = run('enqueue', 'emails', 'hello', '--priority', '2', '--delay', '30s', '--retries', '4',
              '--backoff', '1s', '--backoff-max', '1m', '--jitter', '--timeout', '5s', '--ttl', '1h',
              '--unique', 'welcome:1', '--unique-for', '10m', '--result-ttl', '2h', '--id', 'job-a', port=jobd.port)
    assert out.returncode == 0, out.stderr
    assert out.stdout == b'job-a\n'
    fields = info(client(jobd), 'job-a')
    assert fields['state'] == b'delayed'
    assert fields['queue'] == b'emails'
    assert fields['priority'] == 2
    assert fields['max_retries'] == 4
    assert fields['scheduled'] - fields['created'] == 30_000
    assert fields['backoff'] == 1000
    assert fields['timeout'] == 5000
    assert fields['ttl'] == 3_600_000
    assert fields['unique'] == b'welcome:1'


def test_enqueue_prints_the_generated_id_and_the_existing_one_for_a_unique_key(jobd):
    first = run('enqueue', 'q', 'a', '--unique', 'k', port=jobd.port)
    second = run('enqueue', 'q', 'b', '--unique', 'k', port=jobd.port)
    assert first.returncode == 0 and second.returncode == 0
    job_id = first.stdout.strip()
    assert job_id and second.stdout.strip() == job_id
    assert client(jobd).llen('q') == 1


@pytest.mark.parametrize('text,millis', [
    ('250ms', 250), ('1500', 1500), ('30s', 30_000), ('5m', 300_000), ('2h', 7_200_000), ('1d', 86_400_000), ('0', 0)])
def test_enqueue_durations_take_every_unit(jobd, text, millis):
    out = run('enqueue', 'q', 'x', '--delay', text, port=jobd.port)
    assert out.returncode == 0, out.stderr
    fields = info(client(jobd), out.stdout.strip())
    assert fields['scheduled'] - fields['created'] == millis


@pytest.mark.parametrize('at,millis', [
    ('4102444800000', 4_102_444_800_000),
    ('2100-01-01T00:00:00Z', 4_102_444_800_000),
    ('2100-01-01', 4_102_444_800_000),
    ('2100-01-01T02:30:00+02:30', 4_102_444_800_000),
    ('2099-12-31 19:00-05:00', 4_102_444_800_000),
    ('2100-01-01T00:00:01.5Z', 4_102_444_801_500),
    ('2096-02-29T12:00:00Z', 3_981_355_200_000),
])
def test_enqueue_at_takes_unix_milliseconds_or_iso_8601(jobd, at, millis):
    out = run('enqueue', 'q', 'x', '--at', at, port=jobd.port)
    assert out.returncode == 0, out.stderr
    assert info(client(jobd), out.stdout.strip())['scheduled'] == millis


def test_enqueue_reads_a_binary_payload_from_stdin(jobd):
    payload = bytes(range(256)) * 64 + b'\r\n\0end'
    out = run('enqueue', 'bin', '-', port=jobd.port, input=payload)
    assert out.returncode == 0, out.stderr
    job = client(jobd).execute_command('JOB.GET', 'FROM', 'bin')
    assert job[0][1] == out.stdout.strip()
    assert job[0][2] == payload


def test_enqueue_payload_after_double_dash_may_start_with_a_dash(jobd):
    out = run('enqueue', 'q', '--', '-5', port=jobd.port)
    assert out.returncode == 0, out.stderr
    assert client(jobd).lrange('q', 0, -1) == [b'-5']


def test_enqueue_to_a_key_holding_a_string_is_a_server_error(jobd):
    client(jobd).set('text', 'x')
    assert_server_error(run('enqueue', 'text', 'p', port=jobd.port), b'WRONGTYPE')


# --- stats ------------------------------------------------------------------

def test_stats_with_no_queues_says_so(jobd):
    out = run('stats', port=jobd.port)
    assert out.returncode == 0, out.stderr
    assert out.stdout == b'no queues\n'


def test_stats_table_counts_a_known_workload(jobd):
    r = client(jobd)
    for i in range(3):
        r.execute_command('JOB.ADD', 'alpha', 'a%d' % i)
    r.execute_command('JOB.ADD', 'beta', 'later', 'DELAY', 60_000)
    r.execute_command('JOB.ADD', 'gamma', 'doomed', 'ID', 'g1')
    worker = client(jobd)
    worker.execute_command('JOB.GET', 'FROM', 'alpha')           # one active
    worker.execute_command('JOB.GET', 'FROM', 'gamma')
    worker.execute_command('JOB.FAIL', 'g1', 'boom', 'DEAD')     # one dead
    r.execute_command('QUEUE.PAUSE', 'beta')
    out = run('stats', port=jobd.port)
    assert out.returncode == 0, out.stderr
    rows = table(out.stdout)
    assert set(rows) == {'alpha', 'beta', 'gamma'}
    assert list(rows['alpha'])[:7] == ['queue', 'pending', 'delayed', 'active', 'completed', 'failed', 'dead']
    assert (rows['alpha']['pending'], rows['alpha']['active'], rows['alpha']['dead']) == ('2', '1', '0')
    assert rows['alpha']['oldest pending'] != '-'
    assert (rows['beta']['pending'], rows['beta']['delayed'], rows['beta']['paused']) == ('0', '1', 'yes')
    assert (rows['gamma']['dead'], rows['gamma']['failed'], rows['gamma']['paused']) == ('1', '1', 'no')
    assert rows['gamma']['workers'] == '-'


def test_stats_shows_in_process_workers(fresh_jobd):
    server = fresh_jobd('--worker', 'served noop concurrency 3')
    # Delayed, so that the queue still holds a job (an empty queue is not listed).
    client(server).execute_command('JOB.ADD', 'served', 'x', 'DELAY', 60_000)
    out = run('stats', port=server.port)
    assert out.returncode == 0, out.stderr
    assert table(out.stdout)['served']['workers'].endswith('/3')


def test_stats_watch_into_a_pipe_prints_a_table_per_interval_until_sigint(jobd):
    client(jobd).execute_command('JOB.ADD', 'watched', 'x')
    env = {k: v for k, v in os.environ.items() if k != 'JOBD_URL'}
    proc = subprocess.Popen([JOBD_BIN, 'stats', '--watch', '--interval', '200ms', '--port', str(jobd.port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=10)
    assert proc.returncode == 0, stderr
    frames = [frame for frame in stdout.decode().split('\n\n') if 'watched' in frame]
    assert len(frames) >= 2, stdout
    assert b'\x1b[' not in stdout   # no terminal codes into a pipe


def test_stats_watch_stops_on_sigterm_with_status_0(jobd):
    proc = subprocess.Popen([JOBD_BIN, 'stats', '--watch', '--port', str(jobd.port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=10)
    assert proc.returncode == 0


def test_stats_watch_stops_when_its_reader_goes_away(jobd):
    proc = subprocess.Popen([JOBD_BIN, 'stats', '--watch', '--interval', '100ms', '--port', str(jobd.port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.readline().startswith(b'jobd stats')
    proc.stdout.close()                      # like `jobd stats --watch | head -1`
    assert proc.wait(timeout=10) == 0


def test_stats_watch_on_a_terminal_redraws_in_place(jobd):
    client(jobd).execute_command('JOB.ADD', 'watched', 'x')
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(JOBD_BIN, [JOBD_BIN, 'stats', '--watch', '--interval', '200ms', '--port', str(jobd.port)])
    output = b''
    deadline = time.time() + 1.0
    while time.time() < deadline:
        if select.select([fd], [], [], 0.1)[0]:
            output += os.read(fd, 65536)
    os.kill(pid, signal.SIGINT)
    _, status = os.waitpid(pid, 0)
    try:
        while select.select([fd], [], [], 0.3)[0]:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            output += chunk
    except OSError:
        pass   # the other side of the terminal is gone
    os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0
    assert output.count(b'\x1b[2J') == 1                  # the screen is cleared once
    assert output.count(b'\x1b[H') >= 3                   # then each frame starts at the top
    assert output.count(b'watched') >= 2
    assert output.endswith(b'\x1b[?25h')                  # the cursor is shown again


# --- dead -------------------------------------------------------------------

def kill_job(r, queue, job_id, error):
    r.execute_command('JOB.ADD', queue, 'payload of ' + job_id, 'ID', job_id)
    r.execute_command('JOB.GET', 'FROM', queue)
    r.execute_command('JOB.FAIL', job_id, error, 'DEAD')


def test_dead_lists_dead_letters_and_requeue_sends_them_back(jobd):
    r = client(jobd)
    kill_job(r, 'mail', 'm1', 'boom')
    kill_job(r, 'mail', 'm2', 'x' * 300)
    out = run('dead', 'mail', port=jobd.port)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.decode().splitlines()
    assert lines[0].split()[:3] == ['id', 'attempts', 'finished']
    assert re.match(r'm1\s+1\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\s+boom\s+payload of m1$', lines[1]), lines[1]
    assert lines[2].startswith('m2') and '…' in lines[2] and len(lines[2]) < 200   # the long error is cut

    limited = run('dead', 'mail', '--count', '1', port=jobd.port)
    assert len(limited.stdout.decode().splitlines()) == 2

    requeued = run('dead', 'mail', '--requeue', port=jobd.port)
    assert requeued.returncode == 0, requeued.stderr
    assert requeued.stdout == b'requeued 2 dead letters of mail\n'
    assert info(r, 'm1')['state'] == b'pending'
    assert run('dead', 'mail', port=jobd.port).stdout == b'no dead letters in mail\n'


def test_dead_escapes_control_bytes_of_payloads_and_errors(jobd):
    r = client(jobd)
    r.execute_command('JOB.ADD', 'esc', b'line\n\x1b[2Jgone', 'ID', 'e1')
    r.execute_command('JOB.GET', 'FROM', 'esc')
    r.execute_command('JOB.FAIL', 'e1', b'bad\r\xff', 'DEAD')
    out = run('dead', 'esc', port=jobd.port)
    assert out.returncode == 0
    assert b'\x1b' not in out.stdout
    assert b'line\\n\\x1b[2Jgone' in out.stdout and b'bad\\r\\xff' in out.stdout


# --- job, ping --------------------------------------------------------------

def test_job_prints_its_fields(jobd):
    client(jobd).execute_command('JOB.ADD', 'q', 'x', 'ID', 'j1', 'PRIORITY', 3, 'RETRIES', 2)
    out = run('job', 'j1', port=jobd.port)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.decode().splitlines()
    for expected in ['id: j1', 'state: pending', 'queue: q', 'priority: 3', 'max_retries: 2', 'started: -']:
        assert expected in lines, lines
    assert any(re.match(r'created: \d{4}-\d\d-\d\dT.*Z \(\d+\)$', line) for line in lines), lines


def test_job_with_an_unknown_id_fails_with_status_1(jobd):
    assert_server_error(run('job', 'no-such-id', port=jobd.port), b"no such job 'no-such-id'")


def test_ping_prints_pong_and_the_round_trip(jobd):
    out = run('ping', port=jobd.port)
    assert out.returncode == 0, out.stderr
    assert re.fullmatch(rb'PONG \(\d+\.\d\d ms\)\n', out.stdout), out.stdout


# --- connection ---------------------------------------------------------------

def test_connection_refused_names_the_address():
    port = free_port()
    out = run('ping', port=port)
    assert_server_error(out, ('127.0.0.1:%d' % port).encode())
    assert b'refused' in out.stderr.lower()


def test_jobd_url_with_a_password(fresh_jobd):
    server = fresh_jobd('--requirepass', 'p@ss:word')
    address = '127.0.0.1:%d' % server.port
    assert run('ping', env={'JOBD_URL': 'redis://:p%40ss%3Aword@' + address}).returncode == 0
    assert run('ping', env={'JOBD_URL': 'redis://default:p%40ss%3Aword@' + address}).returncode == 0

    assert_server_error(run('ping', env={'JOBD_URL': 'redis://:nope@' + address}), b'WRONGPASS')
    assert_server_error(run('ping', port=server.port), b'NOAUTH the server requires a password: give --password')
    # A flag overrides the URL's password.
    assert run('ping', '--password', 'p@ss:word', env={'JOBD_URL': 'redis://:nope@' + address}).returncode == 0


def test_flags_override_jobd_url_and_the_url_selects_a_database(jobd):
    closed = free_port()
    out = run('enqueue', 'q', 'x', port=jobd.port, env={'JOBD_URL': 'redis://127.0.0.1:%d' % closed})
    assert out.returncode == 0, out.stderr
    out = run('enqueue', 'in3', 'x', env={'JOBD_URL': 'redis://localhost:%d/3' % jobd.port})
    assert out.returncode == 0, out.stderr
    assert client(jobd, db=3).llen('in3') == 1 and client(jobd).llen('in3') == 0
    assert run('stats', '--db', '3', port=jobd.port).stdout.startswith(b'queue')


def test_unix_socket_by_flag_and_by_url(fresh_jobd):
    path = os.path.join(tempfile.mkdtemp(prefix='jobd-cli-'), 'jobd.sock')
    fresh_jobd('--unixsocket', path)
    assert run('ping', '--socket', path).returncode == 0
    out = run('enqueue', 'q', 'x', env={'JOBD_URL': 'unix://%s?db=2' % path})
    assert out.returncode == 0, out.stderr
    assert b'q' in run('stats', '--socket', path, '--db', '2').stdout


# --- usage --------------------------------------------------------------------

@pytest.mark.parametrize('args', [
    ['frob'],
    ['enqueue'],
    ['enqueue', 'q'],
    ['enqueue', 'q', 'p', 'extra'],
    ['enqueue', 'q', 'p', '--delay', '5x'],
    ['enqueue', 'q', 'p', '--delay', '-1s'],
    ['enqueue', 'q', 'p', '--delay', '1.5s'],
    ['enqueue', 'q', 'p', '--delay', '99999999999999999d'],
    ['enqueue', 'q', 'p', '--timeout', '0'],
    ['enqueue', 'q', 'p', '--priority', '11'],
    ['enqueue', 'q', 'p', '--priority', 'high'],
    ['enqueue', 'q', 'p', '--priority'],
    ['enqueue', 'q', 'p', '--bogus'],
    ['enqueue', 'q', 'p', '--jitter'],
    ['enqueue', 'q', 'p', '--jitter=yes', '--backoff', '1s'],
    ['enqueue', 'q', 'p', '--unique-for', '1m'],
    ['enqueue', 'q', 'p', '--delay', '1s', '--at', '5'],
    ['enqueue', 'q', 'p', '--at', 'tomorrow'],
    ['enqueue', 'q', 'p', '--at', '2100-02-30'],
    ['enqueue', '', 'p'],
    ['stats', 'extra'],
    ['stats', '--watch', '--interval', '0'],
    ['stats', '--interval', '2s'],
    ['dead'],
    ['dead', 'q', '--count', '0'],
    ['dead', 'q', '--count', '5', '--requeue'],
    ['job'],
    ['job', 'a', 'b'],
    ['ping', 'extra'],
    ['ping', '--port', '99999'],
    ['ping', '--port'],
    ['ping', '--socket', '/tmp/x', '--host', 'h'],
    ['ping', '--db', '-1'],
    ['help', 'frob'],
])
def test_usage_errors_exit_2_with_a_message_and_the_usage(jobd, args):
    out = run(*args, env={'JOBD_URL': 'redis://127.0.0.1:%d' % jobd.port})
    assert out.returncode == 2, (args, out.stdout, out.stderr)
    first_line = out.stderr.decode().splitlines()[0]
    assert first_line.startswith('jobd'), first_line
    assert b'usage' in out.stderr.lower()
    assert out.stdout == b''


@pytest.mark.parametrize('url', ['http://127.0.0.1:6379', 'redis://127.0.0.1:port', 'redis://127.0.0.1:1/x',
                                 'unix://relative/path', 'redis://%zz@127.0.0.1'])
def test_a_bad_jobd_url_is_a_usage_error(url):
    out = run('ping', env={'JOBD_URL': url})
    assert out.returncode == 2, out.stderr
    assert b'JOBD_URL' in out.stderr


def test_help_lists_every_subcommand_and_each_has_its_own():
    for args in (['help'], ['--help']):
        out = run(*args)
        assert out.returncode == 0
        for name in ['serve', 'check-aof', 'bench', 'enqueue', 'stats', 'dead', 'job', 'ping', 'version']:
            assert ('jobd ' + name).encode() in out.stdout, name
    for name, option in [('enqueue', b'--priority'), ('stats', b'--watch'), ('dead', b'--requeue'),
                         ('job', b'JOB.INFO'), ('ping', b'PING')]:
        for args in ([name, '--help'], ['help', name]):
            out = run(*args)
            assert out.returncode == 0, args
            assert out.stdout.startswith(b'usage: jobd ' + name.encode())
            assert option in out.stdout and b'JOBD_URL' in out.stdout


def test_bench_still_drives_its_servers_through_the_shared_client():
    out = run('bench', '--only', 'tcp', '--runs', '1', '--tcp-jobs', '2000', '--clients', '1', timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert b'jobd completed/s, log no-log' in out.stdout
