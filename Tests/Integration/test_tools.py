"""Real Redis tools against jobd: redis-cli (interactive, --stat),
redis-benchmark, and a client that stops reading its replies."""
import os
import pty
import re
import select
import subprocess
import threading
import time

from resp import Conn


def read_pty(fd, until, timeout=10):
    """Reads a pseudo-terminal until `until` appears, answering linenoise's
    cursor-position queries (ESC [6n) the way a terminal would."""
    out = b''
    deadline = time.time() + timeout
    while time.time() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            if b'\x1b[6n' in chunk:
                os.write(fd, b'\x1b[1;80R')  # an 80-column terminal
                chunk = chunk.replace(b'\x1b[6n', b'')
            out += chunk
            if until in out:
                return out
    return out


def run_in_pty(argv, seconds):
    """Runs a program on a pseudo-terminal for `seconds` and returns what it printed."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(argv[0], argv)
    try:
        return read_pty(fd, b'\0never', timeout=seconds).decode(errors='replace')
    finally:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        os.close(fd)


def test_redis_cli_starts_interactively_without_errors(jobd):
    # A pseudo-terminal makes redis-cli interactive: it then asks COMMAND DOCS for hints.
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp('redis-cli', ['redis-cli', '-p', str(jobd.port)])
    try:
        prompt = b'127.0.0.1:%d>' % jobd.port
        banner = read_pty(fd, prompt)
        assert prompt in banner, banner
        transcript = banner

        def type_line(line, expected):
            # Wait for the reply and the next prompt, so keystrokes never race
            # linenoise's own terminal queries.
            nonlocal transcript
            os.write(fd, line + b'\r')
            out = read_pty(fd, expected)
            out += read_pty(fd, prompt)
            transcript += out
            assert expected in out, out
            return out

        type_line(b'SET tool hello', b'OK')
        type_line(b'GET tool', b'"hello"')
        helped = type_line(b'help LPUSH', b'group')
        assert b'key element' in helped, helped
        # jobd's own summary (redis-cli's built-in help says "Prepend one or multiple..."):
        # proof that the hints came from COMMAND DOCS.
        assert b'Prepends one or more elements to a list' in helped, helped
        os.write(fd, b'quit\r')
        rest = read_pty(fd, b'\0', timeout=3)
        everything = transcript + rest
        assert b'rror' not in everything and b'nknown' not in everything, everything
    finally:
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
        os.close(fd)


def test_redis_cli_stat_shows_live_numbers(jobd):
    stop = threading.Event()

    def load():
        c = jobd.conn()
        while not stop.is_set():
            c.cmd('INCR', 'n')
    loader = threading.Thread(target=load)
    loader.start()
    try:
        # On a pipe redis-cli would buffer its output; a terminal gets each row at once.
        output = run_in_pty(['redis-cli', '-p', str(jobd.port), '--stat', '-i', '0.5'], 3)
    finally:
        stop.set()
        loader.join()
    lines = output.replace('\r', '').splitlines()
    assert any(re.search(r'keys\s+mem\s+clients\s+blocked\s+requests\s+connections', l) for l in lines), output
    rows = [l.split() for l in lines if re.match(r'^\d+\s', l)]
    assert len(rows) >= 3, output
    assert rows[-1][0] == '1'  # one key: n
    assert int(rows[-1][2]) >= 2  # the loader and redis-cli itself
    # The requests column (total, then "(+n)") grows while the loader runs.
    totals = [int(r[4]) for r in rows]
    assert totals[-1] > totals[0], output
    assert 'rror' not in output


def test_redis_benchmark_runs_without_errors(jobd):
    out = subprocess.run(['redis-benchmark', '-p', str(jobd.port), '-t', 'ping,set,get,lpush,rpush,lpop,rpop,lrange',
                          '-q', '-n', '2000', '-c', '10'], capture_output=True, text=True, timeout=120)
    text = out.stdout.replace('\r', '\n')
    assert out.returncode == 0
    assert 'rror' not in text + out.stderr, text + out.stderr
    results = [l for l in text.splitlines() if 'requests per second' in l]
    names = {l.split(':')[0] for l in results}
    for name in ('PING_INLINE', 'PING_MBULK', 'SET', 'GET', 'LPUSH', 'RPUSH', 'LPOP', 'RPOP',
                 'LRANGE_100 (first 100 elements)', 'LRANGE_600 (first 600 elements)'):
        assert name in names, text


def test_a_client_that_stops_reading_is_disconnected_at_the_output_limit(fresh_jobd):
    server = fresh_jobd('--client-output-buffer-limit', 'normal 1mb 0 0')
    good = server.conn()
    good.cmd('SET', 'big', b'x' * 100_000)
    slow = server.conn()
    slow.sock.setsockopt(__import__('socket').SOL_SOCKET, __import__('socket').SO_RCVBUF, 4096)
    slow.send_raw(b'*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n' * 400)  # 40 MB of replies, never read
    deadline = time.time() + 10
    stats = ''
    while time.time() < deadline:
        stats = good.cmd('INFO', 'stats')[1].decode()
        if 'client_output_buffer_limit_disconnections:1' in stats:
            break
        time.sleep(0.1)
    assert 'client_output_buffer_limit_disconnections:1' in stats
    assert good.cmd('GET', 'big')[1] == b'x' * 100_000
    clients = good.cmd('INFO', 'clients')[1].decode()
    assert 'connected_clients:1' in clients
