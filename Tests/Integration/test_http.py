"""The HTTP port against the real binary: health checks, Prometheus metrics
(parsed by prometheus_client's own parser), the JSON API, bearer auth, the
strict parser's refusals, keep-alive, slow clients, and durability of actions."""
import http.client
import json
import os
import signal
import socket
import subprocess
import time

import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from conftest import JOBD_BIN, free_port, start_jobd_with_http as start


@pytest.fixture
def web():
    server = start()
    yield server
    assert server.proc.poll() is None, 'jobd died:\n' + server.log_text()
    server.stop()


def request(server, method, path, headers=None, body=None):
    c = http.client.HTTPConnection('127.0.0.1', server.http_port, timeout=10)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, dict((k.lower(), v) for k, v in r.getheaders()), data


def get_json(server, path, **kw):
    status, _, body = request(server, 'GET', path, **kw)
    return status, json.loads(body)


def post_json(server, path, **kw):
    status, _, body = request(server, 'POST', path, **kw)
    return status, json.loads(body)


def raw(server, data, timeout=5):
    """Sends bytes, returns everything the server sent until it closed."""
    s = socket.create_connection(('127.0.0.1', server.http_port), timeout=timeout)
    s.sendall(data)
    out = b''
    while True:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        out += chunk
    s.close()
    return out


def workload(r):
    """emails: 3 plain pushes; reports: 2 added, 1 completed, 1 dead with an HTML-looking error."""
    r.lpush('emails', 'a', 'b', 'c')
    r.execute_command('JOB.ADD', 'reports', 'r1', 'PRIORITY', '1')
    r.execute_command('JOB.ADD', 'reports', 'r2')
    r.execute_command('JOB.ADD', 'reports', 'r3')
    done = r.execute_command('JOB.GET', 'FROM', 'reports')[0]
    r.execute_command('JOB.ACK', done[1], 'result')
    dead = r.execute_command('JOB.GET', 'FROM', 'reports')[0]
    r.execute_command('JOB.FAIL', dead[1], '<script>alert(1)</script>', 'DEAD')
    return done[1].decode(), dead[1].decode()


def test_health_checks_and_methods(web):
    assert request(web, 'GET', '/healthz')[0::2] == (200, b'ok\n')
    assert request(web, 'GET', '/readyz')[0] == 200
    status, headers, body = request(web, 'HEAD', '/healthz')
    assert status == 200 and body == b'' and headers['content-length'] == '3'
    status, headers, _ = request(web, 'POST', '/healthz')
    assert status == 405 and headers['allow'] == 'GET, HEAD'
    assert request(web, 'GET', '/nope')[0] == 404
    assert request(web, 'GET', '/api/nope')[0] == 404
    status, headers, body = request(web, 'GET', '/')
    assert status == 200 and headers['content-type'].startswith('text/html') and b'jobd' in body
    assert 'content-security-policy' in headers


def test_metrics_parse_and_agree_with_queue_stats(web):
    r = redis.Redis(port=web.port)
    workload(r)
    status, headers, body = request(web, 'GET', '/metrics')
    assert status == 200 and headers['content-type'].startswith('text/plain; version=0.0.4')
    families = {f.name: f for f in text_string_to_metric_families(body.decode())}

    def value(family, **labels):
        samples = [s for s in families[family].samples
                   if all(s.labels.get(k) == v for k, v in labels.items())]
        return sum(s.value for s in samples)

    for queue in ('emails', 'reports'):
        stats = r.execute_command('QUEUE.STATS', queue)
        stats = dict(zip(stats[::2], stats[1::2]))
        assert value('jobd_queue_pending_jobs', queue=queue) == stats[b'pending']
        assert value('jobd_queue_dead_jobs', queue=queue) == stats[b'dead']
        assert value('jobd_queue_active_jobs', queue=queue) == stats[b'active']
        # prometheus_client strips _total from counter family names
        assert value('jobd_queue_jobs_completed', queue=queue) == stats[b'completed']
        assert value('jobd_queue_jobs_enqueued', queue=queue) == stats[b'enqueued']
    assert value('jobd_queue_pending_jobs', queue='reports', priority='1') == 0
    assert value('jobd_queue_pending_jobs', queue='reports', priority='5') == 1
    # two leases, two finished attempts (one ack, one fail)
    wait = [s for s in families['jobd_job_wait_seconds'].samples if s.labels['queue'] == 'reports']
    assert [s.value for s in wait if s.name.endswith('_count')] == [2]
    assert [s.value for s in wait if s.labels.get('le') == '+Inf'] == [2]
    run = [s for s in families['jobd_job_run_seconds'].samples if s.labels['queue'] == 'reports']
    assert [s.value for s in run if s.name.endswith('_count')] == [2]
    assert families['jobd_job_wait_seconds'].type == 'histogram'
    assert value('jobd_connected_clients') >= 1
    assert value('jobd_memory_used_bytes') > 0
    assert value('jobd_aof_enabled') == 1 and value('jobd_aof_size_bytes') > 0
    assert value('jobd_commands_processed') > 5


def test_metrics_show_worker_pools():
    server = start('--worker', 'jobs noop concurrency 2')
    try:
        r = redis.Redis(port=server.port)
        r.lpush('jobs', *range(50))
        deadline = time.time() + 10
        while time.time() < deadline and r.llen('jobs') > 0:
            time.sleep(0.05)
        time.sleep(0.2)
        body = request(server, 'GET', '/metrics')[2].decode()
        families = {f.name: f for f in text_string_to_metric_families(body)}
        workers = {s.labels['state']: s.value for s in families['jobd_worker_pool_workers'].samples}
        assert workers['busy'] + workers['idle'] == 2
        done = [s.value for s in families['jobd_worker_pool_jobs'].samples if s.labels['outcome'] == 'completed']
        assert done == [50]
        run = [s.value for s in families['jobd_job_run_seconds'].samples if s.name.endswith('_count')]
        assert run == [50]
        assert get_json(server, '/api/workers')[1]['pools'][0]['queues'] == ['jobs']
    finally:
        server.stop()


def test_the_json_api_reads(web):
    r = redis.Redis(port=web.port)
    done, dead = workload(r)
    status, summary = get_json(web, '/api/server')
    assert status == 200 and summary['jobs']['queues'] == 2 and summary['aof']['enabled'] is True
    assert summary['jobs']['dead'] == 1 and summary['loading'] is False
    status, body = get_json(web, '/api/queues')
    assert [q['name'] for q in body['queues']] == ['emails', 'reports']
    reports = body['queues'][1]
    assert reports['pending'] == 1 and reports['dead'] == 1 and reports['completed'] == 1
    assert reports['paused'] is False and reports['pending_by_priority'] == {'5': 1}
    assert get_json(web, '/api/queues/emails')[1]['pending'] == 3
    assert get_json(web, '/api/queues/missing')[0] == 404
    status, letters = get_json(web, '/api/queues/reports/dead?count=10')
    assert status == 200 and [j['id'] for j in letters['jobs']] == [dead]
    assert letters['jobs'][0]['last_error'] == '<script>alert(1)</script>'
    assert letters['jobs'][0]['payload'] == 'r2' and letters['jobs'][0]['attempts'] == 1
    assert get_json(web, '/api/queues/reports/dead?count=0')[0] == 400
    status, job = get_json(web, '/api/jobs/' + done)
    assert status == 200 and job['state'] == 'completed' and job['queue'] == 'reports'
    assert job['finished_at_ms'] > 0 and job['result_size'] == 6
    assert get_json(web, '/api/jobs/999999')[0] == 404
    # the raw bytes of the error never appear unescaped in JSON
    assert b'<script>' not in request(web, 'GET', '/api/queues/reports/dead')[2]


def test_queue_names_are_percent_decoded(web):
    r = redis.Redis(port=web.port)
    r.lpush('mail/out box', 'x')
    status, body = get_json(web, '/api/queues/mail%2Fout%20box')
    assert status == 200 and body['name'] == 'mail/out box' and body['pending'] == 1
    assert request(web, 'GET', '/api/queues/bad%zz')[0] == 400


def test_the_json_api_acts(web):
    r = redis.Redis(port=web.port)
    done, dead = workload(r)
    assert post_json(web, '/api/queues/reports/pause') == (200, {'ok': True})
    assert r.execute_command('QUEUE.STATS', 'reports')[r.execute_command('QUEUE.STATS', 'reports').index(b'paused') + 1] == 1
    assert r.execute_command('JOB.GET', 'FROM', 'reports') == []
    assert post_json(web, '/api/queues/reports/resume') == (200, {'ok': True})
    assert post_json(web, '/api/queues/reports/dead/requeue') == (200, {'ok': True, 'requeued': 1})
    assert r.execute_command('JOB.INFO', dead)[3] == b'pending'
    assert post_json(web, '/api/jobs/%s/cancel' % dead) == (200, {'ok': True})
    status, body = post_json(web, '/api/jobs/%s/cancel' % done)
    assert status == 409 and 'error' in body
    assert post_json(web, '/api/jobs/%s/retry' % done) == (200, {'ok': True})
    assert post_json(web, '/api/jobs/424242/retry')[0] == 404
    status, body = post_json(web, '/api/queues/emails/purge')
    assert status == 200 and body['purged'] == 3 and r.llen('emails') == 0
    assert request(web, 'GET', '/api/queues/reports/pause')[0] == 405
    assert request(web, 'POST', '/api/queues/reports/explode')[0] == 404


def test_bearer_auth_guards_the_api_only():
    server = start('--requirepass', 's3cret')
    try:
        status, headers, _ = request(server, 'GET', '/api/queues')
        assert status == 401 and headers['www-authenticate'].startswith('Bearer')
        assert request(server, 'GET', '/api/queues', headers={'Authorization': 'Bearer wrong'})[0] == 401
        assert request(server, 'POST', '/api/queues/x/pause')[0] == 401
        assert request(server, 'GET', '/api/queues', headers={'Authorization': 'Bearer s3cret'})[0] == 200
        assert request(server, 'GET', '/healthz')[0] == 200
        assert request(server, 'GET', '/metrics')[0] == 200
        info = redis.Redis(port=server.port, password='s3cret').info('stats')
        assert info.get('total_auth_failures', info.get('acl_access_denied_auth', 1)) >= 1
    finally:
        server.stop()


@pytest.mark.parametrize('data, status', [
    (b'GET / HTTP/1.1\nHost: x\n\n', b'400'),
    (b'GET / HTTP/1.1\r\n\r\n', b'400'),
    (b'GET / HTTP/3.0\r\nHost: x\r\n\r\n', b'505'),
    (b'POST /api/queues/x/pause HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', b'501'),
    (b'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n', b'413'),
    (b'GET / HTTP/1.1\r\nHost: x\r\nX-Big: ' + b'a' * 20000 + b'\r\n\r\n', b'431'),
    (b'GET /' + b'a' * 9000 + b' HTTP/1.1\r\n', b'414'),
    (b'\x00\xff garbage\r\n\r\n', b'400'),
])
def test_bad_requests_are_refused_and_closed(web, data, status):
    answer = raw(web, data)
    assert answer.startswith(b'HTTP/1.1 ' + status), answer[:200]
    assert b'Connection: close' in answer
    # the server is fine afterwards
    assert request(web, 'GET', '/healthz')[0] == 200
    assert redis.Redis(port=web.port).ping()


def test_keep_alive_and_pipelined_requests(web):
    answer = raw(web, b'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    assert answer.count(b'HTTP/1.1 200 OK') == 2
    assert answer.index(b'keep-alive') < answer.index(b'Connection: close')
    # HTTP/1.0 closes after one answer
    assert raw(web, b'GET /healthz HTTP/1.0\r\n\r\n').count(b'HTTP/1.1 200') == 1
    c = http.client.HTTPConnection('127.0.0.1', web.http_port, timeout=5)
    for _ in range(20):
        c.request('GET', '/api/server')
        assert c.getresponse().read()
    c.close()


def test_a_slow_client_is_cut_off_but_never_blocks_others(web):
    s = socket.create_connection(('127.0.0.1', web.http_port), timeout=20)
    s.sendall(b'GET /healthz HTTP/1.1\r\nHo')
    started = time.time()
    # meanwhile everything else is served
    assert request(web, 'GET', '/healthz')[0] == 200
    assert redis.Redis(port=web.port).ping()
    answer = b''
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        answer += chunk
    assert answer.startswith(b'HTTP/1.1 408')
    assert 9 <= time.time() - started <= 15


def test_actions_are_durable_before_they_are_answered():
    server = start('--appendfsync', 'always')
    r = redis.Redis(port=server.port)
    r.lpush('q', 'x')
    assert post_json(server, '/api/queues/q/pause') == (200, {'ok': True})
    server.proc.send_signal(signal.SIGKILL)
    server.proc.wait()
    workdir = server.workdir
    port = free_port()
    proc = subprocess.Popen([JOBD_BIN, 'serve', '--http-port', '0', '--port', str(port), '--bind', '127.0.0.1',
                             '--dir', os.path.join(workdir, 'data')], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        r = redis.Redis(port=port)
        deadline = time.time() + 10
        while True:
            try:
                stats = r.execute_command('QUEUE.STATS', 'q')
                break
            except (redis.ConnectionError, redis.BusyLoadingError):
                assert time.time() < deadline
                time.sleep(0.05)
        assert stats[stats.index(b'paused') + 1] == 1
    finally:
        proc.kill()
        proc.wait()
        server.stop()


def test_a_busy_http_port_stops_the_start_with_a_clear_message(tmp_path):
    blocker = socket.socket()
    blocker.bind(('127.0.0.1', 0))
    blocker.listen(1)
    busy = blocker.getsockname()[1]
    out = subprocess.run([JOBD_BIN, 'serve', '--port', str(free_port()), '--bind', '127.0.0.1',
                          '--http-port', str(busy), '--dir', str(tmp_path)],
                         capture_output=True, text=True, timeout=20)
    blocker.close()
    assert out.returncode == 1
    assert 'HTTP port' in out.stderr + out.stdout and str(busy) in out.stderr + out.stdout
