"""RQ on the server under test: jobs enqueued here, run by `rq worker --burst` subprocesses."""
import os
import subprocess
import sys
import time
import warnings
from datetime import timedelta

import pytest
import redis
from rq import Queue, Retry, SimpleWorker
from rq.job import Job, JobStatus

from conftest import HERE

import rq_tasks
from rq_tasks import ORDER_KEY, TIMES_KEY

RQ_BIN = os.path.join(os.path.dirname(sys.executable), 'rq')


@pytest.fixture
def conn(fresh_db):
    c = redis.Redis.from_url(fresh_db)
    yield c
    c.close()


@pytest.fixture
def queue(conn):
    return Queue('compat', connection=conn)


def run_worker(url, *extra, queues=('compat',), timeout=60):
    """One `rq worker --burst` run; returns its output (raises with it on failure)."""
    env = dict(os.environ, PYTHONPATH=HERE + os.pathsep + os.environ.get('PYTHONPATH', ''))
    args = [RQ_BIN, 'worker', '--burst', '--url', url, '--logging_level', 'INFO'] + list(extra) + list(queues)
    proc = subprocess.Popen(args, cwd=HERE, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True, text=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        raise AssertionError('rq worker did not finish in %ds:\n%s' % (timeout, out))
    print(out)   # shown by pytest when the test fails
    assert proc.returncode == 0, 'rq worker exited %s:\n%s' % (proc.returncode, out)
    return out


def order(conn):
    return [x.decode() for x in conn.lrange(ORDER_KEY, 0, -1)]


def test_enqueue_run_result(queue, conn, fresh_db):
    job = queue.enqueue(rq_tasks.add, 2, 3)
    assert job.get_status() == JobStatus.QUEUED
    assert queue.count == 1 and queue.job_ids == [job.id]
    assert conn.sismember('rq:queues', 'rq:queue:compat')
    run_worker(fresh_db)
    assert job.get_status() == JobStatus.FINISHED
    assert job.return_value() == 5
    assert job.latest_result().type.name == 'SUCCESSFUL'
    fetched = Job.fetch(job.id, connection=conn)
    assert fetched.return_value() == 5 and fetched.func_name == 'rq_tasks.add'
    assert queue.count == 0
    assert job.id in queue.finished_job_registry.get_job_ids()


def test_failed_job_registry(queue, conn, fresh_db):
    job = queue.enqueue(rq_tasks.fail, 'boom')
    ok = queue.enqueue(rq_tasks.add, 1, 1)
    run_worker(fresh_db)
    assert job.get_status() == JobStatus.FAILED
    assert ok.get_status() == JobStatus.FINISHED and ok.return_value() == 2
    registry = queue.failed_job_registry
    assert registry.get_job_ids() == [job.id] and registry.count == 1
    result = job.latest_result()
    assert result.type.name == 'FAILED'
    assert 'ValueError: boom' in result.exc_string
    job.refresh()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', DeprecationWarning)   # exc_info: deprecated in RQ 2
        assert 'ValueError: boom' in (job.exc_info or '')
    # requeue puts it back in the queue and out of the registry
    registry.requeue(job.id)
    assert job.get_status() == JobStatus.QUEUED
    assert queue.job_ids == [job.id] and registry.count == 0


@pytest.mark.lua
def test_enqueue_in_with_scheduler(queue, conn, fresh_db):
    """RQ's scheduler takes its per-queue lock with a Lua script (EVALSHA)."""
    t0 = time.time()
    job = queue.enqueue_in(timedelta(seconds=3), rq_tasks.record, 'scheduled')
    assert job.get_status() == JobStatus.SCHEDULED
    assert queue.scheduled_job_registry.get_job_ids() == [job.id]
    assert queue.count == 0
    # A burst run with the scheduler now: not due yet, nothing runs.
    SimpleWorker([queue], connection=conn).work(burst=True, with_scheduler=True)
    assert job.get_status() == JobStatus.SCHEDULED and order(conn) == []
    # After the delay a burst worker with the scheduler moves it to the queue and runs it.
    time.sleep(max(0.0, t0 + 3.3 - time.time()))
    run_worker(fresh_db, '--with-scheduler')
    assert job.get_status() == JobStatus.FINISHED
    assert order(conn) == ['scheduled']
    ran_at = float(conn.lrange(TIMES_KEY, 0, -1)[0])
    assert ran_at - t0 >= 1.5          # not earlier than scheduled (RQ rounds to whole seconds)
    assert queue.scheduled_job_registry.count == 0


def test_dependencies_run_in_order(queue, conn, fresh_db):
    first = queue.enqueue(rq_tasks.record, 'first')
    second = queue.enqueue(rq_tasks.record, 'second', depends_on=first)
    third = queue.enqueue(rq_tasks.record, 'third', depends_on=[first, second])
    failing = queue.enqueue(rq_tasks.fail, 'parent fails')
    never = queue.enqueue(rq_tasks.record, 'never', depends_on=failing)
    assert second.get_status() == JobStatus.DEFERRED
    assert set(queue.deferred_job_registry.get_job_ids()) == {second.id, third.id, never.id}
    assert queue.job_ids == [first.id, failing.id]
    run_worker(fresh_db)
    assert order(conn) == ['first', 'second', 'third']
    assert [j.get_status() for j in (first, second, third)] == [JobStatus.FINISHED] * 3
    assert failing.get_status() == JobStatus.FAILED
    assert never.get_status() == JobStatus.DEFERRED


def test_retry(queue, conn, fresh_db):
    recovers = queue.enqueue(rq_tasks.flaky, 'compat:calls:a', 2, retry=Retry(max=2))
    gives_up = queue.enqueue(rq_tasks.flaky, 'compat:calls:b', 5, retry=Retry(max=2))
    run_worker(fresh_db)
    assert recovers.get_status() == JobStatus.FINISHED
    assert recovers.return_value() == 3
    recovers.refresh()
    assert recovers.retries_left == 0
    assert gives_up.get_status() == JobStatus.FAILED
    assert conn.get('compat:calls:b') == b'3'          # one run + two retries
    assert gives_up.id in queue.failed_job_registry.get_job_ids()


def test_meta_and_cancel(queue, conn, fresh_db):
    job = queue.enqueue(rq_tasks.with_meta, 3, meta={'owner': 'compat'})
    assert Job.fetch(job.id, connection=conn).meta == {'owner': 'compat'}
    doomed = queue.enqueue(rq_tasks.record, 'cancelled')
    doomed.cancel()
    assert doomed.get_status() == JobStatus.CANCELED
    assert doomed.id not in queue.job_ids
    assert doomed.id in queue.canceled_job_registry.get_job_ids()
    run_worker(fresh_db)
    assert job.return_value() == 'compat'
    job.refresh()
    assert job.meta == {'owner': 'compat', 'progress': 3}
    assert 'cancelled' not in order(conn)
    assert doomed.get_status() == JobStatus.CANCELED


def test_worker_registration_and_queue_listing(queue, conn, fresh_db):
    queue.enqueue(rq_tasks.add, 1, 2)
    other = Queue('compat-other', connection=conn)
    other.enqueue(rq_tasks.add, 3, 4)
    assert sorted(q.name for q in Queue.all(connection=conn)) == ['compat', 'compat-other']
    out = run_worker(fresh_db, queues=('compat', 'compat-other'))
    assert queue.count == 0 and other.count == 0
    assert 'Job OK' in out or 'Successfully completed' in out
