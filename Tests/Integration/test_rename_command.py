"""rename-command: a disabled command is unknown to clients exactly as in
redis-server; a renamed one answers only to its new name; the log keeps the
original names, so it replays whatever the renames are."""
import os
import signal
import subprocess

import pytest
import redis

from conftest import JOBD_BIN, free_port, start_jobd, wait_for_port


def start_redis_renamed(*flags):
    port = free_port()
    proc = subprocess.Popen(['redis-server', '--port', str(port), '--bind', '127.0.0.1', '--save', '',
                             '--appendonly', 'no', *flags], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port, proc, 'redis-server')
    return proc, port


RENAMES = ['--rename-command', 'FLUSHALL', '', '--rename-command', 'CONFIG', 'cfg-9f2', '--rename-command', 'set', 'put']


def error_of(client, *args):
    with pytest.raises(redis.ResponseError) as info:
        client.execute_command(*args)
    return str(info.value)


def test_disabled_and_renamed_commands_answer_as_redis_does():
    server = start_jobd(*RENAMES)
    proc, port = start_redis_renamed(*RENAMES)
    try:
        j, r = redis.Redis(port=server.port), redis.Redis(port=port)
        for client in (j, r):
            client.execute_command('put', 'k', 'v')
            assert client.get('k') == b'v'
            assert client.execute_command('cfg-9f2', 'GET', 'maxmemory-policy')[0] == b'maxmemory-policy'
        for args in (('FLUSHALL',), ('flushall', 'ASYNC'), ('CONFIG', 'GET', 'port'), ('SET', 'a', 'b')):
            assert error_of(j, *args) == error_of(r, *args)
        # inside MULTI too
        for client in (j, r):
            pipe = client.pipeline(transaction=True)
            pipe.execute_command('SET', 'x', '1')
            with pytest.raises(redis.ResponseError):
                pipe.execute()
    finally:
        server.stop()
        proc.kill()
        proc.wait()


def test_the_log_replays_with_other_renames():
    server = start_jobd(*RENAMES)
    c = redis.Redis(port=server.port)
    c.execute_command('put', 'k', 'v')
    c.lpush('q', 'job')
    server.proc.send_signal(signal.SIGKILL)
    server.proc.wait()
    port = free_port()
    proc = subprocess.Popen([JOBD_BIN, 'serve', '--http-port', '0', '--port', str(port), '--bind', '127.0.0.1',
                             '--dir', os.path.join(server.workdir, 'data'), '--rename-command', 'SET', 'store'],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, proc, 'jobd')
        c = redis.Redis(port=port)
        assert c.get('k') == b'v' and c.llen('q') == 1
        assert c.execute_command('store', 'k2', 'v2') == b'OK'
        c.flushall()  # no longer disabled
    finally:
        proc.kill()
        proc.wait()
        server.stop()


@pytest.mark.parametrize('line, message', [
    (['--rename-command', 'NOSUCH', 'x'], "no such command"),
    (['--rename-command', 'CONFIG', 'get'], "already the name of a command"),
    (['--rename-command', 'CONFIG'], "wrong number of arguments"),
])
def test_bad_rename_lines_stop_the_start(tmp_path, line, message):
    out = subprocess.run([JOBD_BIN, 'serve', '--http-port', '0', '--port', str(free_port()), '--dir', str(tmp_path)] + line,
                         capture_output=True, text=True, timeout=20)
    assert out.returncode == 1 and message in out.stderr + out.stdout
