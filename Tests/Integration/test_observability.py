"""MONITOR, SLOWLOG and INFO commandstats through the real protocol
(timings vary, so these are checked by shape rather than against Redis)."""
import re
import time


def test_monitor_shows_every_command_with_database_address_and_quoted_arguments(jobd):
    monitor = jobd.conn()
    assert monitor.cmd('MONITOR') == ('+', 'OK')
    c = jobd.conn()
    c.cmd('SELECT', '2')
    c.cmd('SET', 'k', 'a b\n\x01"')
    lines = [monitor.read() for _ in range(2)]
    assert all(kind == '+' for kind, _ in lines)
    pattern = r'^\d{10}\.\d{6} \[(\d+) 127\.0\.0\.1:\d+\] (.*)$'
    first, second = (re.match(pattern, text) for _, text in lines)
    assert first and first.group(1) == '2' and first.group(2) == '"SELECT" "2"'  # fed after it ran, as Redis 7.0
    assert second and second.group(1) == '2' and second.group(2) == '"SET" "k" "a b\\n\\x01\\""'
    # Admin commands are not shown; the monitor stops on disconnect.
    c.cmd('CONFIG', 'GET', 'port')
    c.cmd('PING')
    assert monitor.read()[1].endswith('"PING"')
    monitor.close()
    assert c.cmd('PING') == ('+', 'PONG')


def test_slowlog_records_commands_over_the_threshold(jobd):
    c = jobd.conn()
    assert c.cmd('SLOWLOG', 'RESET') == ('+', 'OK')
    c.cmd('CLIENT', 'SETNAME', 'slowpoke')
    c.cmd('DEBUG', 'SLEEP', '0.02')  # over the default 10 ms
    c.cmd('GET', 'fast')
    assert c.cmd('SLOWLOG', 'LEN') == (':', 1)
    entries = c.cmd('SLOWLOG', 'GET')[1]
    entry_id, when, micros, args, peer, name = [x[1] for x in entries[0][1]]
    assert [a[1] for a in args] == [b'DEBUG', b'SLEEP', b'0.02']
    assert micros >= 15_000 and abs(when - time.time()) < 60
    assert peer.startswith(b'127.0.0.1:') and name == b'slowpoke'
    try:
        assert c.cmd('CONFIG', 'SET', 'slowlog-log-slower-than', '0') == ('+', 'OK')
        c.cmd('SET', 'k', 'x' * 200, *['arg%d' % i for i in range(40)])
        newest = c.cmd('SLOWLOG', 'GET', '1')[1][0][1]
        kept = [a[1] for a in newest[3][1]]
        assert len(kept) == 32 and kept[-1] == b'... (12 more arguments)'
        assert kept[2] == b'x' * 128 + b'... (72 more bytes)'
        assert c.cmd('SLOWLOG', 'GET', '-2')[0] == '-'
    finally:
        c.cmd('CONFIG', 'SET', 'slowlog-log-slower-than', '10000')
        c.cmd('SLOWLOG', 'RESET')
    assert c.cmd('SLOWLOG', 'LEN') == (':', 0)


def test_info_commandstats_counts_calls_failures_and_rejections(jobd):
    c = jobd.conn()
    for _ in range(3):
        c.cmd('SET', 'k', 'v')
    c.cmd('LPUSH', 'k', 'x')  # WRONGTYPE: a failed call
    c.cmd('GET')  # arity: a rejected call
    text = c.cmd('INFO', 'commandstats')[1].decode()
    fields = dict(line.split(':', 1) for line in text.split('\r\n') if line.startswith('cmdstat_'))
    stats = {name: dict(kv.split('=') for kv in value.split(',')) for name, value in fields.items()}
    assert int(stats['cmdstat_set']['calls']) >= 3
    assert int(stats['cmdstat_lpush']['failed_calls']) >= 1
    assert int(stats['cmdstat_get']['rejected_calls']) >= 1
    assert float(stats['cmdstat_set']['usec_per_call']) >= 0
    assert 'cmdstat_set' in c.cmd('INFO', 'everything')[1].decode()
    assert 'cmdstat_set' not in c.cmd('INFO')[1].decode()
