"""Celery with broker and result backend on the server under test.

A real `celery worker` subprocess consumes the default queue for the whole
module; the priority test starts a second worker after enqueueing. The DB is
flushed once before the worker starts (not per test: flushing would drop the
queue bindings kombu keeps in the server).

The whole module is marked `lua`: with Celery 5.7/kombu 5.7 the worker does not
start on a server without EVALSHA (kombu's restore_visible releases its
`unacked_mutex` redis-py Lock with a Lua script at startup; pidbox/event queue
bindings are refreshed with another). See README.md.
"""
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest
import redis
from celery import chain, chord, group

from conftest import HERE, flushall

import celery_app
from celery_app import ATTEMPTS_KEY, ORDER_KEY, add, fail, flaky, manual_retry, record, xsum

pytestmark = pytest.mark.lua


class Worker:
    def __init__(self, url, name, queues, tmp_path, extra=()):
        self.name = '%s@compat' % name
        self.log = str(tmp_path / ('worker-%s.log' % name))
        env = dict(os.environ, COMPAT_URL=url,
                   PYTHONPATH=HERE + os.pathsep + os.environ.get('PYTHONPATH', ''))
        args = [sys.executable, '-m', 'celery', '-A', 'celery_app', 'worker',
                '--pool=solo', '-Q', queues, '-n', self.name, '--loglevel=INFO'] + list(extra)
        with open(self.log, 'w') as out:
            self.proc = subprocess.Popen(args, cwd=HERE, env=env, stdout=out,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True)

    def text(self):
        with open(self.log, errors='replace') as f:
            return f.read()

    def wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError('celery worker exited with %s:\n%s' % (self.proc.returncode, self.text()))
            if ' ready.' in self.text():
                return
            time.sleep(0.1)
        raise RuntimeError('celery worker not ready after %ds:\n%s' % (timeout, self.text()))

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)   # warm shutdown
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


@pytest.fixture(scope='module')
def app(server):
    flushall(server.port)
    celery_app.app.conf.update(broker_url=server.url, result_backend=server.url)
    yield celery_app.app
    celery_app.app.close()


@pytest.fixture(scope='module')
def worker(app, server, tmp_path_factory):
    w = Worker(server.url, 'main', 'celery', tmp_path_factory.mktemp('celery'))
    try:
        w.wait_ready()
        yield w
    finally:
        w.stop()


@pytest.fixture
def rc(server):
    c = redis.Redis.from_url(server.url)
    yield c
    c.close()


@pytest.fixture(autouse=True)
def show_worker_log_on_failure(request):
    yield
    rep = getattr(request.node, 'rep_call', None)
    if rep is not None and rep.failed:
        for name in ('worker', 'prio_worker'):
            w = request.node.funcargs.get(name)
            if w is not None:
                print('---- %s log ----\n%s' % (w.name, w.text()[-8000:]))


def wait_state(result, states, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result.state in states:
            return result.state
        time.sleep(0.1)
    raise AssertionError('%s stayed %s, expected one of %s' % (result.id, result.state, states))


def test_delay_get(worker):
    res = add.delay(2, 3)
    assert res.get(timeout=20) == 5
    assert res.state == 'SUCCESS' and res.successful()
    assert add.apply_async((10, 20)).get(timeout=20) == 30


def test_control_ping_and_inspect(worker):
    replies = celery_app.app.control.ping(destination=[worker.name], timeout=3)
    assert replies == [{worker.name: {'ok': 'pong'}}]
    queues = celery_app.app.control.inspect(destination=[worker.name], timeout=3).active_queues()
    assert [q['name'] for q in queues[worker.name]] == ['celery']


def test_countdown_not_earlier(worker, rc):
    t0 = time.monotonic()
    res = record.apply_async(['countdown'], countdown=2)
    res.get(timeout=30)
    assert time.monotonic() - t0 >= 1.5
    assert b'countdown' in rc.lrange(ORDER_KEY, 0, -1)


def test_eta_not_earlier(worker):
    t0 = time.monotonic()
    res = add.apply_async((1, 1), eta=datetime.now(timezone.utc) + timedelta(seconds=2))
    assert res.get(timeout=30) == 2
    assert time.monotonic() - t0 >= 1.5


def test_failure_propagates(worker):
    res = fail.delay('boom')
    with pytest.raises(ValueError, match='boom'):
        res.get(timeout=20)
    assert res.state == 'FAILURE' and res.failed()
    assert 'boom' in res.traceback
    assert isinstance(res.result, ValueError)
    # propagate=False hands back the exception instead
    assert isinstance(res.get(timeout=5, propagate=False), ValueError)


def test_autoretry_with_backoff_succeeds(worker, rc):
    rc.delete(ATTEMPTS_KEY)
    t0 = time.monotonic()
    res = flaky.delay(2)
    assert res.get(timeout=40) == 2            # the retry count of the final attempt
    assert res.state == 'SUCCESS'
    assert rc.lrange(ATTEMPTS_KEY, 0, -1) == [b'0', b'1', b'2']
    # backoff 1 s then 2 s: not earlier than ~3 s after the first attempt
    assert time.monotonic() - t0 >= 2.5


def test_manual_retry_countdown(worker, rc):
    key = ATTEMPTS_KEY + ':manual'
    rc.delete(key)
    res = manual_retry.delay(2)
    assert res.get(timeout=30) == 2
    assert res.state == 'SUCCESS'
    assert rc.lrange(key, 0, -1) == [b'0', b'1', b'2']


def test_revoke_countdown_task(worker, rc):
    res = record.apply_async(['revoked'], countdown=2)
    res.revoke()
    assert wait_state(res, {'REVOKED', 'SUCCESS'}, timeout=20) == 'REVOKED'
    with pytest.raises(Exception):
        res.get(timeout=5)
    # it really never ran: a later task has run, the revoked one is absent
    assert add.delay(0, 0).get(timeout=20) == 0
    assert b'revoked' not in rc.lrange(ORDER_KEY, 0, -1)


def test_chain(worker):
    res = chain(add.s(1, 2), add.s(3))()
    assert res.get(timeout=20) == 6
    assert res.parent.get(timeout=5) == 3


def test_group(worker):
    res = group(add.s(i, i) for i in range(10))()
    assert res.get(timeout=30) == [2 * i for i in range(10)]
    assert res.successful() and res.completed_count() == 10


def test_chord(worker):
    """Celery's Redis result backend counts chord parts with EVALSHA (Lua)."""
    res = chord((add.s(i, i) for i in range(5)), xsum.s())()
    assert res.get(timeout=30) == 20


def test_priority_order(app, worker, server, rc, tmp_path, request):
    """Enqueued while no worker consumes 'prio': priority 0 (highest on Redis) runs first."""
    rc.delete(ORDER_KEY)
    sent = []
    for i in range(3):
        sent.append(record.apply_async(['low%d' % i], queue='prio', priority=9))
    for i in range(3):
        sent.append(record.apply_async(['mid%d' % i], queue='prio', priority=5))
    for i in range(3):
        sent.append(record.apply_async(['high%d' % i], queue='prio', priority=0))
    # the transport split them over prio, prio:5, prio:9
    assert rc.llen('prio') == 3 and rc.llen('prio:5') == 3 and rc.llen('prio:9') == 3
    prio_worker = Worker(server.url, 'prio', 'prio', tmp_path,
                         extra=['--without-mingle', '--without-gossip'])
    request.node.funcargs['prio_worker'] = prio_worker
    try:
        prio_worker.wait_ready()
        for res in sent:
            res.get(timeout=30)
    finally:
        prio_worker.stop()
    order = [x.decode() for x in rc.lrange(ORDER_KEY, 0, -1)]
    assert order == ['high0', 'high1', 'high2', 'mid0', 'mid1', 'mid2', 'low0', 'low1', 'low2']
