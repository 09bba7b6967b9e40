"""The Celery app the compatibility suite runs as a real worker.

Broker and result backend are both the server under test, taken from
COMPAT_URL (redis://127.0.0.1:P/0). The test process imports the same module
and points it at the same URL.
"""
import os

import redis
from celery import Celery

URL = os.environ.get('COMPAT_URL', 'redis://127.0.0.1:6379/0')
ORDER_KEY = 'compat:order'        # a Redis list tasks append to, to record what ran
ATTEMPTS_KEY = 'compat:attempts'  # one entry per attempt of the flaky task

app = Celery('celery_app', broker=URL, backend=URL)
app.conf.update(
    broker_connection_retry_on_startup=True,
    broker_transport_options={
        'queue_order_strategy': 'priority',
        'priority_steps': list(range(10)),
        'sep': ':',
    },
    task_default_queue='celery',
    worker_prefetch_multiplier=1,
    result_expires=600,
    task_serializer='json',
    result_serializer='json',
    accept_content=['json'],
    timezone='UTC',
    enable_utc=True,
)

_client = None


def client():
    global _client
    if _client is None:
        _client = redis.Redis.from_url(app.conf.broker_url)
    return _client


@app.task
def add(x, y):
    return x + y


@app.task
def xsum(values):
    return sum(values)


@app.task
def fail(message):
    raise ValueError(message)


@app.task
def record(tag):
    """Append tag to the order list; returns the list length after it."""
    return client().rpush(ORDER_KEY, tag)


@app.task(bind=True, autoretry_for=(RuntimeError,), max_retries=5,
          retry_backoff=1, retry_backoff_max=4, retry_jitter=False)
def flaky(self, failures):
    """Fails `failures` times (RuntimeError), then returns its retry count."""
    client().rpush(ATTEMPTS_KEY, self.request.retries)
    if self.request.retries < failures:
        raise RuntimeError('attempt %d fails' % self.request.retries)
    return self.request.retries


@app.task(bind=True, max_retries=3)
def manual_retry(self, failures):
    """Same idea with an explicit self.retry(countdown=...)."""
    client().rpush(ATTEMPTS_KEY + ':manual', self.request.retries)
    if self.request.retries < failures:
        raise self.retry(exc=RuntimeError('again'), countdown=0.5)
    return self.request.retries
