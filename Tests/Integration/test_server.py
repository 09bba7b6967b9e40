"""Connection and server commands, configuration, limits, lifecycle."""
import os
import signal
import subprocess
import tempfile
import threading
import time

import pytest

from conftest import JOBD_BIN, free_port
from resp import Conn, value


def info_fields(conn, section=''):
    text = conn.cmd('INFO', section)[1] if section else conn.cmd('INFO')[1]
    fields = {}
    for line in text.decode().split('\r\n'):
        if ':' in line and not line.startswith('#'):
            k, v = line.split(':', 1)
            fields[k] = v
    return fields


# --- connection ------------------------------------------------------------------

def test_ping_echo_select_errors_match_redis(both):
    commands = [['PING'], ['PING', 'hi'], ['PING', 'a', 'b'], ['ECHO', 'x'], ['ECHO'], ['SELECT', '15'],
                ['SELECT', '16'], ['SELECT', '-1'], ['SELECT', 'abc'], ['SELECT', '99999999999'],
                ['CLIENT'], ['CLIENT', 'NOPE'], ['CONFIG'], ['CONFIG', 'GET'], ['COMMAND', 'NOPE']]
    jobd, redis = both
    a, b = jobd.conn(), redis.conn()
    for command in commands:
        assert a.cmd(*command) == b.cmd(*command), command


def test_requirepass_refuses_commands_until_auth(fresh_jobd):
    server = fresh_jobd('--requirepass', 's3cret')
    c = server.conn()
    assert c.cmd('GET', 'k') == ('-', 'NOAUTH Authentication required.')
    assert c.cmd('SET', 'k', 'v') == ('-', 'NOAUTH Authentication required.')
    assert c.cmd('AUTH', 'wrong') == ('-', 'WRONGPASS invalid username-password pair or user is disabled.')
    assert c.cmd('AUTH', 'other', 's3cret') == ('-', 'WRONGPASS invalid username-password pair or user is disabled.')
    assert c.cmd('AUTH', 's3cret') == ('+', 'OK')
    assert c.cmd('SET', 'k', 'v') == ('+', 'OK')
    d = server.conn()
    assert d.cmd('HELLO', '3')[0] == '-'
    assert d.cmd('HELLO', '3', 'AUTH', 'default', 's3cret')[0] == '%'
    assert d.cmd('GET', 'k') == ('$', b'v')
    e = server.conn()
    assert e.cmd('AUTH', 'default', 's3cret') == ('+', 'OK')
    assert info_fields(e, 'stats')['acl_access_denied_auth'] == '2'


def test_auth_without_a_password_configured_matches_redis(both):
    for server in both:
        c = server.conn()
        assert c.cmd('AUTH', 'x')[1].startswith('ERR AUTH <password> called without any password configured')
        assert c.cmd('AUTH', 'default', 'anything') == ('+', 'OK')


def test_client_commands(jobd):
    a, b = jobd.conn(), jobd.conn()
    my_id = a.cmd('CLIENT', 'ID')[1]
    assert a.cmd('CLIENT', 'GETNAME') == ('$', None)
    assert a.cmd('CLIENT', 'SETNAME', 'worker-1') == ('+', 'OK')
    assert a.cmd('CLIENT', 'SETNAME', 'bad name')[0] == '-'
    assert a.cmd('CLIENT', 'GETNAME') == ('$', b'worker-1')
    assert a.cmd('CLIENT', 'SETINFO', 'LIB-NAME', 'tests') == ('+', 'OK')
    info = a.cmd('CLIENT', 'INFO')[1].decode()
    assert 'id=%d ' % my_id in info and 'name=worker-1' in info and 'lib-name=tests' in info
    listing = a.cmd('CLIENT', 'LIST')[1].decode()
    assert listing.count('\n') >= 2 and 'name=worker-1' in listing
    b_id = b.cmd('CLIENT', 'ID')[1]
    assert a.cmd('CLIENT', 'KILL', 'ID', str(b_id)) == (':', 1)
    assert b.is_closed()
    assert a.cmd('CLIENT', 'KILL', 'ID', str(b_id)) == (':', 0)
    assert a.cmd('PING') == ('+', 'PONG')


def test_error_replies_are_counted(jobd):
    c = jobd.conn()
    before = int(info_fields(c, 'stats')['total_error_replies'])
    c.cmd('SET', 's', 'x')
    c.cmd('LPUSH', 's', 'y')      # WRONGTYPE from a handler
    c.cmd('NOSUCH')               # unknown command
    c.cmd('GET')                  # arity
    c.cmd('GET', 's')             # not an error
    assert int(info_fields(c, 'stats')['total_error_replies']) == before + 3


def test_client_unblock_wakes_a_blocked_client(jobd):
    a, b = jobd.conn(), jobd.conn()
    a_id = a.cmd('CLIENT', 'ID')[1]
    a.send('BLPOP', 'nothing', '0')
    time.sleep(0.1)
    assert info_fields(b, 'clients')['blocked_clients'] == '1'
    assert b.cmd('CLIENT', 'UNBLOCK', str(a_id)) == (':', 1)
    assert a.read() == ('*', None)
    assert info_fields(b, 'clients')['blocked_clients'] == '0'


# --- server ---------------------------------------------------------------------

def test_info_has_what_redis_cli_and_clients_read(jobd):
    c = jobd.conn()
    c.cmd('SET', 'a', '1')
    c.cmd('SET', 'b', '2', 'EX', '100')
    fields = info_fields(c)
    for name in ('redis_version', 'used_memory', 'connected_clients', 'blocked_clients',
                 'total_commands_processed', 'total_connections_received', 'loading', 'uptime_in_seconds',
                 'instantaneous_ops_per_sec', 'role', 'aof_rewrite_in_progress', 'process_id'):
        assert name in fields, name
    major, minor, patch = map(int, fields['redis_version'].split('.'))
    assert (major, minor, patch) >= (7, 0, 0)
    assert fields['loading'] == '0'
    assert fields['db0'].startswith('keys=2,expires=1,')
    assert int(fields['used_memory']) > 0
    assert set(info_fields(c, 'clients')) >= {'connected_clients', 'blocked_clients'}
    assert 'redis_version' not in info_fields(c, 'clients')


def test_config_get_and_set(jobd):
    c = jobd.conn()
    assert value(c.cmd('CONFIG', 'GET', 'port')) == [b'port', str(jobd.port).encode()]
    assert value(c.cmd('CONFIG', 'GET', 'save')) == [b'save', b'']
    assert value(c.cmd('CONFIG', 'GET', 'appendonly')) == [b'appendonly', b'yes']
    assert value(c.cmd('CONFIG', 'GET', 'appendfsync')) == [b'appendfsync', b'everysec']
    pairs = value(c.cmd('CONFIG', 'GET', 'client-*'))
    assert b'client-output-buffer-limit' in pairs and b'client-query-buffer-limit' in pairs
    assert c.cmd('CONFIG', 'SET', 'timeout', '300') == ('+', 'OK')
    assert value(c.cmd('CONFIG', 'GET', 'timeout')) == [b'timeout', b'300']
    assert c.cmd('CONFIG', 'SET', 'timeout', '0', 'proto-max-bulk-len', '2mb') == ('+', 'OK')
    assert value(c.cmd('CONFIG', 'GET', 'proto-max-bulk-len')) == [b'proto-max-bulk-len', b'2097152']
    assert c.cmd('CONFIG', 'SET', 'port', '1') == (
        '-', "ERR CONFIG SET failed (possibly related to argument 'port') - can't set immutable config")
    assert c.cmd('CONFIG', 'SET', 'nosuch', '1') == (
        '-', "ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'")
    assert c.cmd('CONFIG', 'SET', 'maxclients', 'lots')[1].startswith(
        "ERR CONFIG SET failed (possibly related to argument 'maxclients')")
    # All or nothing: a bad second value leaves the first unchanged.
    assert c.cmd('CONFIG', 'SET', 'timeout', '7', 'maxclients', 'x')[0] == '-'
    assert value(c.cmd('CONFIG', 'GET', 'timeout')) == [b'timeout', b'0']
    assert c.cmd('CONFIG', 'SET', 'proto-max-bulk-len', '512mb') == ('+', 'OK')


def test_a_lowered_proto_max_bulk_len_applies_to_new_requests(fresh_jobd):
    server = fresh_jobd('--proto-max-bulk-len', '1mb')
    c = server.conn()
    c.send_raw(b'*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2000000\r\n')
    assert c.read() == ('-', 'ERR Protocol error: invalid bulk length')
    assert c.is_closed()


def test_command_introspection(jobd):
    c = jobd.conn()
    count = c.cmd('COMMAND', 'COUNT')[1]
    assert count >= 70
    assert len(c.cmd('COMMAND')[1]) == count
    get = value(c.cmd('COMMAND', 'INFO', 'get'))[0]
    assert get[0] == b'get' and get[1] == 2 and 'readonly' in get[2] and get[3:6] == [1, 1, 1]
    assert value(c.cmd('COMMAND', 'INFO', 'nosuch')) == [None]
    # Subcommands by their full name, as Redis 7 (redis-cli's hints ask this way).
    config_get, nothing, bad = value(c.cmd('COMMAND', 'INFO', 'config|get', 'config|nosuch', 'nosuch|get'))
    assert config_get[0] == b'config|get' and config_get[1] == -3 and (nothing, bad) == (None, None)
    assert value(c.cmd('COMMAND', 'INFO', 'CONFIG|GET'))[0][0] == b'config|get'
    assert value(c.cmd('COMMAND', 'DOCS', 'client|kill'))[0] == b'client|kill'
    docs = value(c.cmd('COMMAND', 'DOCS', 'set'))
    assert docs[0] == b'set'
    set_docs = dict(zip(docs[1][::2], docs[1][1::2]))
    assert set_docs[b'group'] == b'string' and set_docs[b'summary'] and set_docs[b'since']
    assert value(c.cmd('COMMAND', 'GETKEYS', 'MSET', 'a', '1', 'b', '2')) == [b'a', b'b']
    everything = value(c.cmd('COMMAND', 'DOCS'))
    assert len(everything) // 2 == count


def test_dbsize_flush_time_and_swapdb(jobd):
    c = jobd.conn()
    c.cmd('SET', 'a', '1')
    c.cmd('SELECT', '1')
    c.cmd('SET', 'b', '1')
    c.cmd('SET', 'c', '1')
    assert c.cmd('DBSIZE') == (':', 2)
    assert c.cmd('SWAPDB', '0', '1') == ('+', 'OK')
    assert c.cmd('DBSIZE') == (':', 1)
    assert c.cmd('FLUSHDB') == ('+', 'OK')
    assert c.cmd('DBSIZE') == (':', 0)
    c.cmd('SELECT', '0')
    assert c.cmd('DBSIZE') == (':', 2)
    assert c.cmd('FLUSHALL', 'ASYNC') == ('+', 'OK')
    assert c.cmd('DBSIZE') == (':', 0)
    seconds, micros = value(c.cmd('TIME'))
    assert abs(int(seconds) - time.time()) < 5 and 0 <= int(micros) < 1000000


def test_swapdb_wakes_a_client_blocked_in_the_other_database(jobd):
    a, b = jobd.conn(), jobd.conn()
    a.send('BLPOP', 'q', '0')
    time.sleep(0.1)
    b.cmd('SELECT', '1')
    b.cmd('RPUSH', 'q', 'from-db1')
    assert b.cmd('SWAPDB', '0', '1') == ('+', 'OK')
    assert a.read() == ('*', [('$', b'q'), ('$', b'from-db1')])


def test_scan_returns_every_key_present_for_the_whole_iteration(jobd):
    c = jobd.conn()
    stable = {'stable:%d' % i for i in range(2000)}
    for k in stable:
        c.cmd('SET', k, '1')
    seen = set()
    cursor = '0'
    step = 0
    while True:
        cursor, keys = value(c.cmd('SCAN', cursor, 'COUNT', '50'))
        seen.update(k.decode() for k in keys)
        step += 1
        # Grow the table, then shrink it, while the scan is running.
        if step < 10:
            for i in range(500):
                c.cmd('SET', 'churn:%d:%d' % (step, i), '1')
        elif step < 20:
            c.cmd('DEL', *['churn:%d:%d' % (step - 10, i) for i in range(500)])
        cursor = cursor.decode()
        if cursor == '0':
            break
    assert stable <= seen


def test_scan_match_count_and_type_options(both):
    jobd, redis = both
    results = []
    for server in both:
        c = server.conn()
        for i in range(100):
            c.cmd('SET', 'str:%d' % i, 'x')
            c.cmd('RPUSH', 'list:%d' % i, 'x')
        found = {}
        for options in (['MATCH', 'str:1*'], ['TYPE', 'list'], ['TYPE', 'string', 'MATCH', '*5'], ['TYPE', 'nope']):
            keys, cursor = set(), '0'
            while True:
                cursor, batch = value(c.cmd('SCAN', cursor, 'COUNT', '7', *options))
                keys.update(batch)
                if cursor == b'0':
                    break
            found[' '.join(options)] = sorted(keys)
        errors = [c.cmd('SCAN', 'x'), c.cmd('SCAN', '0', 'COUNT', '0'), c.cmd('SCAN', '0', 'FOO', 'bar'),
                  c.cmd('SCAN', '0', 'COUNT')]
        results.append((found, errors))
    assert results[0] == results[1]


def test_keys_with_glob_patterns_match_redis(both):
    patterns = ['*', 'h?llo', 'h*llo', 'h[ae]llo', 'h[^e]llo', 'h[a-b]llo', 'h\\*llo', '*[', 'x[', '[']
    jobd, redis = both
    outcome = []
    for server in both:
        c = server.conn()
        for key in ['hello', 'hallo', 'hxllo', 'hllo', 'heeeello', 'h*llo', 'x[', '[', 'HELLO']:
            c.cmd('SET', key, '1')
        outcome.append([sorted(value(c.cmd('KEYS', p))) for p in patterns])
    assert outcome[0] == outcome[1]


def test_active_expiry_removes_keys_nobody_reads(jobd):
    c = jobd.conn()
    for i in range(1000):
        c.send('SET', 'short:%d' % i, 'v', 'PX', '100')
    for i in range(1000):
        c.read()
    c.cmd('SET', 'keeper', 'v')
    deadline = time.time() + 5
    while time.time() < deadline and c.cmd('DBSIZE')[1] > 1:
        time.sleep(0.1)
    assert c.cmd('DBSIZE') == (':', 1)
    assert int(info_fields(c, 'stats')['expired_keys']) >= 1000


def test_an_idle_client_is_closed_after_timeout(fresh_jobd):
    server = fresh_jobd('--timeout', '1')
    idle, blocked = server.conn(), server.conn()
    blocked.send('BLPOP', 'never', '0')
    assert idle.is_closed(wait=4)
    # A blocked client is not idle.
    assert not blocked.is_closed(wait=0.5)


def test_maxclients_refuses_extra_connections(fresh_jobd):
    server = fresh_jobd('--maxclients', '2')
    a, b = server.conn(), server.conn()
    assert a.cmd('PING') == ('+', 'PONG')
    c = Conn(server.port)
    assert c.read() == ('-', 'ERR max number of clients reached')
    assert c.is_closed()
    assert b.cmd('PING') == ('+', 'PONG')
    assert info_fields(a, 'stats')['rejected_connections'] == '1'


def test_a_unix_socket_serves_clients(fresh_jobd, tmp_path):
    path = str(tmp_path / 'jobd.sock')
    server = fresh_jobd('--unixsocket', path, '--unixsocketperm', '700')
    assert oct(os.stat(path).st_mode & 0o777) == '0o700'
    c = Conn(None, unix=path)
    assert c.cmd('SET', 'via', 'unix') == ('+', 'OK')
    assert server.conn().cmd('GET', 'via') == ('$', b'unix')
    assert ('addr=%s:0' % path) in c.cmd('CLIENT', 'INFO')[1].decode()


# --- lifecycle --------------------------------------------------------------------

def test_shutdown_exits_with_status_zero(fresh_jobd):
    server = fresh_jobd()
    c = server.conn()
    c.send('SHUTDOWN', 'NOSAVE')
    assert c.is_closed(wait=5)
    assert server.proc.wait(10) == 0


@pytest.mark.parametrize('sig', [signal.SIGTERM, signal.SIGINT])
def test_a_termination_signal_finishes_replies_and_exits_zero(fresh_jobd, sig):
    server = fresh_jobd()
    c = server.conn()
    c.send_raw(b''.join(b'*3\r\n$5\r\nRPUSH\r\n$1\r\nq\r\n$1\r\nx\r\n' for _ in range(1000)))
    server.proc.send_signal(sig)
    assert server.proc.wait(10) == 0
    assert 'scheduling shutdown' in server.log_text()


def run_jobd(*args, timeout=10):
    return subprocess.run([JOBD_BIN, *args], capture_output=True, text=True, timeout=timeout)


def test_a_bad_flag_value_stops_before_listening(tmp_path):
    port = free_port()
    out = run_jobd('serve', '--port', 'notanumber', '--dir', str(tmp_path))
    assert out.returncode == 1
    assert "'port notanumber'" in out.stderr and 'integer' in out.stderr


def test_an_unknown_directive_in_a_config_file_names_the_line(tmp_path):
    conf = tmp_path / 'bad.conf'
    conf.write_text('# comment\nport 6390\n\nno-such-thing yes\n')
    out = run_jobd('serve', str(conf))
    assert out.returncode == 1
    assert 'line 4' in out.stderr and 'no-such-thing' in out.stderr


def test_a_config_file_and_flags_combine_with_flags_winning(tmp_path):
    port = free_port()
    conf = tmp_path / 'jobd.conf'
    conf.write_text('port 1\ndatabases 4\nhz 20\n')
    proc = subprocess.Popen([JOBD_BIN, 'serve', '--config', str(conf), '--port', str(port), '--bind', '127.0.0.1',
                             '--dir', str(tmp_path / 'data')], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 10
        while True:
            try:
                c = Conn(port, timeout=1)
                break
            except OSError:
                assert time.time() < deadline
                time.sleep(0.05)
        assert c.cmd('SELECT', '4') == ('-', 'ERR DB index is out of range')
        assert value(c.cmd('CONFIG', 'GET', 'hz')) == [b'hz', b'20']
        assert c.cmd('CONFIG', 'SET', 'hz', '15') == ('+', 'OK')
        assert c.cmd('CONFIG', 'REWRITE') == ('+', 'OK')
        text = conf.read_text()
        assert 'hz 15' in text and 'databases 4' in text
        assert (tmp_path / 'data').is_dir()
    finally:
        proc.terminate()
        assert proc.wait(10) == 0


def test_the_shipped_config_file_starts_a_server(tmp_path):
    root = os.path.join(os.path.dirname(__file__), '..', '..')
    port = free_port()
    proc = subprocess.Popen([JOBD_BIN, 'serve', os.path.join(root, 'config', 'jobd.conf'), '--port', str(port),
                             '--dir', str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 10
        while True:
            try:
                assert Conn(port, timeout=1).cmd('PING') == ('+', 'PONG')
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read()
                assert time.time() < deadline
                time.sleep(0.05)
    finally:
        proc.terminate()
        proc.wait(10)


def test_version_and_help():
    out = run_jobd('version')
    assert out.returncode == 0 and out.stdout.startswith('jobd ')
    out = run_jobd('--help')
    assert out.returncode == 0 and 'jobd serve' in out.stdout
    assert run_jobd('frobnicate').returncode == 2
