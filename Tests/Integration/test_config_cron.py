"""cron lines in the config file: applied through CRON.ADD once the log is
loaded; an unchanged entry keeps its last run across restarts; a changed
line replaces the entry; bad lines stop the start naming the line."""
import os
import signal
import subprocess

import redis

from conftest import JOBD_BIN, free_port, wait_for_port


def serve(conf, workdir):
    port = free_port()
    proc = subprocess.Popen([JOBD_BIN, 'serve', str(conf), '--http-port', '0', '--port', str(port), '--bind', '127.0.0.1',
                             '--dir', str(workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port, proc, 'jobd')
    return proc, redis.Redis(port=port)


def entries(r):
    return {e[0]: e for e in r.execute_command('CRON.LIST')}


def test_config_cron_lines_are_applied_and_kept(tmp_path):
    conf = tmp_path / 'jobd.conf'
    conf.write_text('cron nightly "0 3 * * *" reports \'{"kind":"daily"}\' RETRIES 3\ncron beat @hourly pings ping\n')
    proc, r = serve(conf, tmp_path / 'data')
    try:
        first = entries(r)
        assert set(first) == {b'nightly', b'beat'}
        assert first[b'nightly'][1:4] == [b'0 3 * * *', b'reports', b'{"kind":"daily"}']
        assert first[b'nightly'][6] == [b'RETRIES', b'3']
        assert first[b'beat'][1] == b'@hourly'
        r.execute_command('CRON.ADD', 'runtime', '*/5 * * * *', 'q', 'x')
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait()
    # same file: the entries (and their last runs) are those of the log; the runtime entry stays
    conf.write_text('cron nightly "0 3 * * *" reports \'{"kind":"daily"}\' RETRIES 3\ncron beat "30 * * * *" pings ping\n')
    proc, r = serve(conf, tmp_path / 'data')
    try:
        second = entries(r)
        assert second[b'nightly'][5] == first[b'nightly'][5]  # last run kept
        assert second[b'beat'][1] == b'30 * * * *'            # changed line replaces the entry
        assert b'runtime' in second
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait()


def test_bad_cron_lines_stop_the_start(tmp_path):
    for line, message in [('cron x "61 * * * *" q p', 'invalid cron spec'),
                          ('cron x "* * * * *" q p PRIORITY 99', 'PRIORITY'),
                          ('cron x "* * * * *" q p DELAY 5', 'DELAY'),
                          ('cron x "* * * * *"', 'wrong number of arguments')]:
        conf = tmp_path / 'bad.conf'
        conf.write_text('port 0\n' + line + '\n')
        out = subprocess.run([JOBD_BIN, 'serve', str(conf), '--dir', str(tmp_path)], capture_output=True, text=True, timeout=20)
        assert out.returncode == 1, line
        assert 'line 2' in out.stderr and message in out.stderr, (line, out.stderr)


def test_sighup_applies_new_cron_and_queue_lines(tmp_path):
    import time
    conf = tmp_path / 'jobd.conf'
    conf.write_text('cron a "0 3 * * *" q x\n')
    proc, r = serve(conf, tmp_path / 'data')
    try:
        assert set(entries(r)) == {b'a'}
        conf.write_text('cron a "0 3 * * *" q x\ncron b @daily q y\nqueue q rate 10/s concurrency 3\n')
        proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while b'b' not in entries(r):
            assert time.time() < deadline, 'reload did not add the cron entry'
            time.sleep(0.05)
        settings = r.execute_command('QUEUE.CONFIG', 'q')
        settings = dict(zip(settings[::2], settings[1::2]))
        assert settings[b'concurrency'] == 3 and settings[b'rate'] in (b'10/s', '10/s')
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait()
