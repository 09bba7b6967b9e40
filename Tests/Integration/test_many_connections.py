"""Connection floods: 5,000 idle connections cost little memory, and 50 busy
clients are still served with them open (their rates with and without are
printed, not asserted: a test never asserts a timing); maxclients holds on
both ports, with the refusals counted; idle and slow clients are closed by
`timeout`."""
import os
import resource
import socket
import subprocess
import time

import pytest
import redis

from conftest import start_jobd, start_jobd_with_http

IDLE = 5000


def raise_fd_limit(wanted):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        if hard != resource.RLIM_INFINITY and hard < wanted:
            pytest.skip('open files limit %d < %d' % (hard, wanted))
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def rss_kib(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    raise AssertionError('no VmRSS')


def busy_rate(port):
    """Requests/s of 50 clients doing SET (redis-benchmark), best of three short runs."""
    best = 0.0
    for _ in range(3):
        out = subprocess.run(['redis-benchmark', '-p', str(port), '-c', '50', '-n', '20000', '-t', 'set', '-q'],
                             capture_output=True, text=True, timeout=120).stdout
        for part in out.replace('\r', '\n').split('\n'):
            if 'requests per second' in part:
                best = max(best, float(part.split(':')[1].split()[0]))
    assert best > 0, out
    return best


def open_idle(port, count):
    conns = []
    for _ in range(count):
        s = socket.create_connection(('127.0.0.1', port))
        conns.append(s)
    # make sure the server accepted and registered every one: one PING each on a sample
    for s in conns[::500]:
        s.sendall(b'PING\r\n')
        assert s.recv(16) == b'+PONG\r\n'
    return conns


def test_five_thousand_idle_connections_are_cheap_and_busy_ones_are_still_served():
    raise_fd_limit(IDLE + 500)
    server = start_jobd('--appendonly', 'no')
    try:
        before = busy_rate(server.port)
        rss_before = rss_kib(server.proc.pid)
        conns = open_idle(server.port, IDLE)
        time.sleep(0.5)
        rss_after = rss_kib(server.proc.pid)
        assert redis.Redis(port=server.port).info('clients')['connected_clients'] >= IDLE
        during = busy_rate(server.port)
        per_connection = (rss_after - rss_before) * 1024 / IDLE
        print('\nidle connections: %d; RSS %d KiB -> %d KiB: %.0f bytes per idle connection'
              % (IDLE, rss_before, rss_after, per_connection))
        print('busy SET rate, 50 clients: %.0f/s alone, %.0f/s with %d idle (ratio %.2f)'
              % (before, during, IDLE, during / before))
        assert per_connection <= 4096
        assert during > 0
        for s in conns:
            s.close()
    finally:
        server.stop()


def test_maxclients_holds_on_both_ports_and_refusals_are_counted():
    server = start_jobd_with_http('--maxclients', '20')
    http_port = server.http_port
    try:
        held = [socket.create_connection(('127.0.0.1', server.port)) for _ in range(20)]
        for s in held[::5]:
            s.sendall(b'PING\r\n')
            assert s.recv(16) == b'+PONG\r\n'
        extra = socket.create_connection(('127.0.0.1', server.port), timeout=5)
        assert extra.recv(100).startswith(b'-ERR max number of clients reached')
        assert extra.recv(100) == b''
        web = [socket.create_connection(('127.0.0.1', http_port)) for _ in range(20)]
        web[0].sendall(b'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')
        assert web[0].recv(100).startswith(b'HTTP/1.1 200')
        over = socket.create_connection(('127.0.0.1', http_port), timeout=5)
        assert over.recv(100).startswith(b'HTTP/1.1 503')
        for s in held[:2]:
            s.close()
        time.sleep(0.2)
        r = redis.Redis(port=server.port)
        assert r.info('stats')['rejected_connections'] == 2
        for s in held[2:] + web:
            s.close()
    finally:
        server.stop()


def test_idle_and_slow_clients_are_closed_by_timeout():
    server = start_jobd_with_http('--timeout', '1')
    http_port = server.http_port
    try:
        idle = socket.create_connection(('127.0.0.1', server.port), timeout=10)
        slow = socket.create_connection(('127.0.0.1', server.port), timeout=10)
        slow.sendall(b'*2\r\n$4\r\nECHO\r\n$5\r\nhe')  # half a command, then nothing
        web = socket.create_connection(('127.0.0.1', http_port), timeout=10)
        web.sendall(b'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')
        assert web.recv(200).startswith(b'HTTP/1.1 200')
        started = time.time()
        assert idle.recv(10) == b''
        assert slow.recv(10) == b''
        assert web.recv(10) == b''  # an idle keep-alive connection too
        assert time.time() - started < 8
        assert redis.Redis(port=server.port).ping()
    finally:
        server.stop()
