"""Functions the RQ tests enqueue; importable by `rq worker` (cwd/PYTHONPATH)."""
import time

from rq import get_current_job

ORDER_KEY = 'compat:rq:order'
TIMES_KEY = 'compat:rq:times'


def _conn():
    return get_current_job().connection


def add(x, y):
    return x + y


def fail(message):
    raise ValueError(message)


def record(tag):
    """Append tag to ORDER_KEY and the run time to TIMES_KEY; returns tag."""
    conn = _conn()
    conn.rpush(ORDER_KEY, tag)
    conn.rpush(TIMES_KEY, repr(time.time()))
    return tag


def flaky(counter_key, failures):
    """Fails until it has been called more than `failures` times; returns the call count."""
    calls = _conn().incr(counter_key)
    if calls <= failures:
        raise RuntimeError('call %d fails' % calls)
    return calls


def with_meta(steps):
    job = get_current_job()
    for i in range(steps):
        job.meta['progress'] = i + 1
        job.save_meta()
    return job.meta.get('owner')
