"""The wire protocol through real sockets: splits, pipelines, inline
commands, protocol errors (compared with redis-server), binary data, big
values, and that bad clients never disturb good ones."""
import socket
import subprocess
import threading
import time

import pytest

from resp import Conn, encode


def raw_exchange(server, data, expect_close=True, wait=2.0):
    """Sends raw bytes; returns (all bytes received, whether the server closed)."""
    s = socket.create_connection(('127.0.0.1', server.port), timeout=wait)
    s.sendall(data)
    received = b''
    closed = False
    deadline = time.time() + wait
    try:
        while time.time() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                closed = True
                break
            received += chunk
            if not expect_close:
                break
    except socket.timeout:
        pass
    except ConnectionResetError:
        closed = True
    s.close()
    return received, closed


def test_a_command_sent_one_byte_at_a_time_gets_its_reply(jobd):
    c = jobd.conn()
    for byte in encode('SET', 'split', 'across every byte'):
        c.send_raw(bytes([byte]))
    assert c.read() == ('+', 'OK')
    for byte in b'GET split\r\n':
        c.send_raw(bytes([byte]))
    assert c.read() == ('$', b'across every byte')


def test_ten_thousand_pipelined_commands_in_one_write(jobd):
    c = jobd.conn()
    c.send_raw(b''.join(encode('RPUSH', 'pipe', str(i)) for i in range(10000)) + encode('LLEN', 'pipe'))
    replies = [c.read() for _ in range(10001)]
    assert replies[:3] == [(':', 1), (':', 2), (':', 3)]
    assert replies[-1] == (':', 10000)


@pytest.mark.parametrize('line', [
    b'SET "a b" \'c d\'\r\n',
    b'SET key "\\x41\\x42\\n\\t"\r\n',
    b"SET key 'it\\'s'\r\n",
    b'  GET   key  \n',
    b'ECHO "unterminated\r\n',
    b'ECHO "closing"quote\r\n',
    b'\r\n',
    b'*0\r\n',
    b'*-1\r\n',
    b'PING\r\n',
])
def test_inline_and_odd_requests_match_redis(both, line):
    jobd, redis = both
    probe = encode('PING')
    mine = raw_exchange(jobd, line + probe, expect_close=True, wait=0.5)
    theirs = raw_exchange(redis, line + probe, expect_close=True, wait=0.5)
    assert mine == theirs


@pytest.mark.parametrize('bad', [
    b'*abc\r\n',
    b'*1\r\n$x\r\n',
    b'*1\r\n+3\r\nfoo\r\n',
    b'*1\r\n$-5\r\n',
    b'*1\r\n$629145600\r\n',
    b'*3000000000\r\n',
    b'*1\r\n$9223372036854775807\r\n',
    b'*1\r\n$99999999999999999999999\r\n',
    b'ECHO "abc\r\n',
    b'ECHO \'a\'b\r\n',
])
def test_protocol_errors_match_redis_and_close_the_connection(both, bad):
    jobd, redis = both
    mine = raw_exchange(jobd, bad)
    theirs = raw_exchange(redis, bad)
    assert mine == theirs
    assert mine[1], 'the connection should be closed after a protocol error'


def test_an_inline_request_over_64_kib_is_refused(both):
    jobd, redis = both
    request = b'SET k ' + b'x' * (70 * 1024)
    mine = raw_exchange(jobd, request)
    assert mine == raw_exchange(redis, request)
    assert mine[0] == b'-ERR Protocol error: too big inline request\r\n' and mine[1]


def test_a_bad_client_does_not_disturb_a_good_one(jobd):
    good = jobd.conn()
    good.cmd('SET', 'safe', 'value')
    for junk in (b'*1\r\n$x\r\n', b'\x00\xff' * 1000, b'*2\r\n$3\r\nSET\r\n$5\r\nhal', b'*9\r\n'):
        s = socket.create_connection(('127.0.0.1', jobd.port))
        s.sendall(junk)
        s.close()
    assert good.cmd('GET', 'safe') == ('$', b'value')
    assert good.cmd('DBSIZE') == (':', 1)


def test_binary_keys_and_values_round_trip(jobd):
    c = jobd.conn()
    every_byte = bytes(range(256))
    assert c.cmd('SET', every_byte, every_byte) == ('+', 'OK')
    assert c.cmd('GET', every_byte) == ('$', every_byte)
    assert c.cmd('SET', '', '') == ('+', 'OK')
    assert c.cmd('GET', '') == ('$', b'')
    assert c.cmd('RPUSH', b'\x00list', b'\r\n', b'', every_byte) == (':', 3)
    assert c.cmd('LRANGE', b'\x00list', '0', '-1') == ('*', [('$', b'\r\n'), ('$', b''), ('$', every_byte)])


def test_one_megabyte_values_round_trip(jobd):
    c = jobd.conn()
    big = bytes(range(256)) * 4096
    assert c.cmd('SET', 'big', big) == ('+', 'OK')
    assert c.cmd('GET', 'big') == ('$', big)
    assert c.cmd('LPUSH', 'bigl', big, b'small', big) == (':', 3)
    assert c.cmd('LRANGE', 'bigl', '0', '-1') == ('*', [('$', big), ('$', b'small'), ('$', big)])
    assert c.cmd('LINDEX', 'bigl', '1') == ('$', b'small')


def used_memory(conn):
    info = conn.cmd('INFO', 'memory')[1].decode()
    return int(info.split('used_memory:')[1].split('\r\n')[0])


def test_memory_returns_after_a_client_abandons_a_huge_value(jobd):
    watcher = jobd.conn()
    before = used_memory(watcher)
    s = socket.create_connection(('127.0.0.1', jobd.port))
    s.sendall(b'*3\r\n$3\r\nSET\r\n$4\r\nhuge\r\n$104857600\r\n')
    chunk = b'x' * (1 << 20)
    for _ in range(60):  # 60 of the announced 100 MB
        s.sendall(chunk)
    time.sleep(0.3)
    during = used_memory(watcher)
    s.close()
    time.sleep(0.3)
    after = used_memory(watcher)
    assert during > before + 50 * (1 << 20), (before, during)
    assert after < before + 4 * (1 << 20), (before, during, after)
    assert watcher.cmd('EXISTS', 'huge') == (':', 0)


def test_a_600_megabyte_bulk_header_is_refused_and_the_server_keeps_serving(jobd):
    other = jobd.conn()
    received, closed = raw_exchange(jobd, b'*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$629145600\r\n')
    assert received == b'-ERR Protocol error: invalid bulk length\r\n' and closed
    assert other.cmd('PING') == ('+', 'PONG')


def test_a_half_sent_command_then_disconnect_leaves_nothing_behind(jobd):
    s = socket.create_connection(('127.0.0.1', jobd.port))
    s.sendall(b'*3\r\n$3\r\nSET\r\n$4\r\nhalf\r\n$10\r\nabc')
    s.close()
    time.sleep(0.1)
    c = jobd.conn()
    assert c.cmd('EXISTS', 'half') == (':', 0)
    assert c.cmd('PING') == ('+', 'PONG')


def test_redis_cli_pipe_mode_loads_data(jobd):
    payload = b''.join(encode('SET', 'pipe:%d' % i, 'v%d' % i) for i in range(5000))
    payload += b''.join(encode('RPUSH', 'pipelist', str(i)) for i in range(5000))
    out = subprocess.run(['redis-cli', '-p', str(jobd.port), '--pipe'], input=payload,
                         capture_output=True, timeout=60)
    text = out.stdout.decode() + out.stderr.decode()
    assert 'errors: 0, replies: 10000' in text, text
    c = jobd.conn()
    assert c.cmd('DBSIZE') == (':', 5001)
    assert c.cmd('LLEN', 'pipelist') == (':', 5000)
    assert c.cmd('GET', 'pipe:4999') == ('$', b'v4999')


def test_resp3_replies_use_resp3_types(jobd):
    c = jobd.conn()
    hello = c.cmd('HELLO', '3')
    assert hello[0] == '%'
    fields = {k[1].decode(): v for k, v in hello[1]}
    assert set(fields) == {'server', 'version', 'proto', 'id', 'mode', 'role', 'modules'}
    assert fields['proto'] == (':', 3)
    major, minor, patch = map(int, fields['version'][1].decode().split('.'))
    assert (major, minor) >= (7, 0)
    assert c.cmd('GET', 'missing') == ('_', None)
    assert c.cmd('CONFIG', 'GET', 'port') == ('%', [(('$', b'port'), ('$', str(jobd.port).encode()))])
    assert c.cmd('INFO', 'server')[0] == '='
    assert c.cmd('HELLO', '2')[0] == '*'
    assert c.cmd('GET', 'missing') == ('$', None)


def test_hello_with_an_unsupported_version_is_refused(both):
    jobd, redis = both
    for server in both:
        c = server.conn()
        assert c.cmd('HELLO', '4') == ('-', 'NOPROTO unsupported protocol version')
        assert c.cmd('HELLO', 'x') == ('-', 'ERR Protocol version is not an integer or out of range')


def test_many_clients_at_once_are_all_served(jobd):
    errors = []

    def worker(n):
        try:
            c = jobd.conn()
            for i in range(200):
                assert c.cmd('INCR', 'counter')[0] == ':'
                assert c.cmd('RPUSH', 'list%d' % (n % 5), str(i))[0] == ':'
            c.close()
        except Exception as e:  # noqa: BLE001 - collected and reported below
            errors.append(e)
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    c = jobd.conn()
    assert c.cmd('GET', 'counter') == ('$', b'8000')
    assert sum(c.cmd('LLEN', 'list%d' % n)[1] for n in range(5)) == 8000
