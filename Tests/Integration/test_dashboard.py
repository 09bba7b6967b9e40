"""The dashboard (GET / on the HTTP port) in a real browser.

Headless Chromium loads the page from a real jobd after a known workload; the
DOM it renders (--dump-dom) must show the server's queues with their counts,
and server text (queue names, payloads, error texts) only ever as text: a dead
letter whose error is `<script>alert(1)</script>` must not become an element.
A DevTools session then clicks through the actions (pause, retry, requeue,
purge, job lookup, the password form) and checks their effect through the API.
Screenshots at desktop and phone width are kept as test artifacts (in
$JOBD_ARTIFACTS when set, else pytest's tmp dir).

Chromium comes from the Debian package `chromium` (scripts/test installs it);
when no browser is found, or it cannot start in this container, the browser
tests skip with the reason."""
import json
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

import browser as chromium
from browser import leading_number, parse
from conftest import free_port, start_jobd
from resp import value

XSS_ERROR = '<script>alert(1)</script>'
XSS_PAYLOAD = '<img src=x onerror=alert(2)>'
XSS_QUEUE = '<i>odd</i>'
PASSWORD = 'sekret'


# ---- the server ---------------------------------------------------------------------

def http_get(url, headers=None):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def start_with_http(*flags):
    http_port = free_port()
    server = start_jobd('--http-port', http_port, '--http-bind', '127.0.0.1', *flags)
    server.url = 'http://127.0.0.1:%d/' % http_port
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            if http_get(server.url + 'healthz')[0] == 200:
                return server
        except OSError:
            pass
        time.sleep(0.1)
    print(server.log_text())
    server.stop()
    raise RuntimeError('the HTTP port %d did not answer /healthz' % http_port)


def queue_counts(server, name, password=None):
    """The API's view of a queue; zeros once an emptied queue is gone."""
    headers = {'Authorization': 'Bearer ' + password} if password else {}
    status, _, body = http_get(server.url + 'api/queues/' + urllib.parse.quote(name, safe=''), headers)
    if status == 404:
        return {'pending': 0, 'dead': 0, 'paused': False}
    assert status == 200, body
    return json.loads(body)


def known_workload(server):
    """emails: 3 pending (plain LPUSH); reports: 1 pending and 1 dead (two
    JOB.ADDs, the urgent one leased and failed DEAD with markup as error and
    payload); a queue whose name is markup. Returns the dead job's id."""
    c = server.conn()
    if server.password:
        assert c.cmd('AUTH', server.password) == ('+', 'OK')
    assert c.cmd('LPUSH', 'emails', 'one', 'two', 'three') == (':', 3)
    c.cmd('JOB.ADD', 'reports', XSS_PAYLOAD, 'PRIORITY', 1)
    c.cmd('JOB.ADD', 'reports', 'monthly', 'PRIORITY', 5)
    c.cmd('LPUSH', XSS_QUEUE, 'x')
    c.close()
    return fail_one_dead(server, 'reports', XSS_ERROR, XSS_PAYLOAD)


def fail_one_dead(server, queue, error, payload=None):
    c = server.conn()
    if server.password:
        c.cmd('AUTH', server.password)
    leased = value(c.cmd('JOB.GET', 'FROM', queue))
    assert leased, 'nothing to lease in ' + queue
    if payload is not None:
        assert leased[0][2] == payload.encode(), leased
    job = leased[0][1].decode()
    assert c.cmd('JOB.FAIL', job, error, 'DEAD') == ('+', 'OK')
    c.close()
    return job


def serve(*flags, password=None):
    server = start_with_http(*flags, *(('--requirepass', password) if password else ()))
    server.password = password
    return server


@pytest.fixture(scope='module')
def browser():
    return chromium.usable_chromium()


@pytest.fixture(scope='module')
def dashboard():
    """One jobd with the known workload, for the tests that only look."""
    server = serve()
    server.dead_id = known_workload(server)
    yield server
    alive = server.proc.poll() is None
    server.stop()
    assert alive, 'jobd died:\n' + server.log_text()


@pytest.fixture
def own_server():
    """A private jobd (for tests that change its state); stopped afterwards."""
    servers = []

    def start(password=None):
        servers.append(serve(password=password))
        return servers[-1]
    yield start
    for server in servers:
        alive = server.proc.poll() is None
        server.stop()
        assert alive, 'jobd died:\n' + server.log_text()


@pytest.fixture(scope='module')
def artifacts(tmp_path_factory):
    path = os.environ.get('JOBD_ARTIFACTS') or str(tmp_path_factory.mktemp('dashboard'))
    os.makedirs(path, exist_ok=True)
    return path


# ---- what the page shows --------------------------------------------------------------

def test_page_is_served_self_contained_without_a_token(own_server):
    server = own_server(password=PASSWORD)
    status, headers, body = http_get(server.url)
    assert status == 200
    assert headers['Content-Type'].startswith('text/html')
    page = body.decode()
    assert '<meta name="viewport"' in page
    # nothing loaded from elsewhere: no CDN, no web fonts
    assert not re.search(r'''(src|href)\s*=\s*["']?(https?:)?//''', page, re.I)
    assert not re.search(r'''@import|url\(\s*["']?(https?:)?//''', page, re.I)
    # the API behind it does want the password
    assert http_get(server.url + 'api/queues')[0] == 401
    assert http_get(server.url + 'api/queues', {'Authorization': 'Bearer ' + PASSWORD})[0] == 200


def test_dashboard_renders_queues_and_counts(browser, dashboard):
    tree = parse(chromium.dump_dom(browser, dashboard.url))
    rows = {n.attrs['data-queue']: n for n in tree.find_all(lambda n: 'data-queue' in n.attrs)}
    assert {'emails', 'reports', XSS_QUEUE} <= set(rows), sorted(rows)
    emails, reports = rows['emails'], rows['reports']
    assert emails.field('name').text().strip() == 'emails'
    assert leading_number(emails.field('pending')) == 3
    assert leading_number(emails.field('dead')) == 0
    assert leading_number(reports.field('pending')) == 1
    assert leading_number(reports.field('dead')) == 1
    # the reports job left pending is the priority 5 one
    levels = reports.field('pending').find_all(lambda n: 'data-priority' in n.attrs)
    assert [(n.attrs['data-priority'], n.text()) for n in levels] == [('5', 'p5: 1')]
    # the queue named with markup is a row like any other, its name text
    assert rows[XSS_QUEUE].field('name').text().strip() == XSS_QUEUE

    status = tree.by_id('server-status')
    for field in ('version', 'uptime', 'clients', 'memory', 'ops', 'aof'):
        assert status.field(field).text().strip(), field
    # polling worked: the connection badge says so and no password was asked
    assert tree.by_id('conn').text() == 'live'
    assert tree.by_id('auth-form').hidden


def test_dead_letters_show_server_text_as_text(browser, dashboard):
    html = chromium.dump_dom(browser, dashboard.url + '#queue=reports')
    tree = parse(html)
    detail = tree.by_id('queue-detail')
    assert not detail.hidden
    rows = detail.find_all(lambda n: 'data-job-id' in n.attrs)
    assert [r.attrs['data-job-id'] for r in rows] == [dashboard.dead_id]
    assert rows[0].field('last_error').text().strip() == XSS_ERROR
    assert XSS_PAYLOAD in rows[0].field('payload').text()
    assert leading_number(rows[0].field('attempts')) == 1
    # the markup stayed text: one script element (the page's own), no injected ones
    assert '<script>alert(1)' not in html
    assert '&lt;script&gt;alert(1)&lt;/script&gt;' in html
    assert len(tree.find_all(lambda n: n.tag == 'script')) == 1
    assert not tree.find_all(lambda n: n.tag in ('img', 'i'))


def test_job_lookup_from_the_address(browser, dashboard):
    tree = parse(chromium.dump_dom(browser, dashboard.url + '#job=' + dashboard.dead_id))
    fields = tree.by_id('job-fields')
    assert not fields.hidden
    assert fields.field('id').text() == dashboard.dead_id
    assert fields.field('state').text() == 'dead'
    assert fields.field('queue').text() == 'reports'
    assert fields.field('last_error').text() == XSS_ERROR
    assert len(tree.find_all(lambda n: n.tag == 'script')) == 1


def test_screenshots(browser, dashboard, artifacts):
    desktop = os.path.join(artifacts, 'dashboard.png')
    phone = os.path.join(artifacts, 'dashboard-phone.png')
    chromium.screenshot(browser, dashboard.url + '#queue=reports', desktop, 1280, 900)
    chromium.screenshot(browser, dashboard.url, phone, 390, 844)
    assert os.path.getsize(desktop) > 10000


# ---- what its buttons do -----------------------------------------------------------------

def row(name):
    return 'document.querySelector(%s)' % json.dumps('tr[data-queue="%s"]' % name)


def text_of(element_id):
    return 'document.getElementById(%s).textContent' % json.dumps(element_id)


def click(selector):
    return 'document.querySelector(%s).click()' % json.dumps(selector)


@pytest.fixture
def live_page(browser, own_server):
    """A private jobd with the known workload and a browser on its dashboard,
    once the queues are shown: (server, dead job id, page)."""
    server = own_server()
    dead_id = known_workload(server)
    with chromium.Session(browser) as page:
        page.open(server.url)
        page.wait(row('emails'))
        yield server, dead_id, page


def test_queue_actions(live_page):
    server, dead_id, page = live_page
    page.js(row('emails') + ".querySelector('.row-actions button').click()")
    page.wait(row('emails') + "?.querySelector('.badge')?.textContent === 'paused'")
    assert queue_counts(server, 'emails')['paused'] is True
    assert 'Paused emails' in page.js(text_of('queues-msg'))
    page.js(row('emails') + ".querySelector('.row-actions button').click()")
    page.wait(row('emails') + " && !" + row('emails') + ".querySelector('.badge')")
    assert queue_counts(server, 'emails')['paused'] is False

    # a click on the row opens its dead letters
    page.js(row('reports') + '.click()')
    dead_row = 'document.querySelector(%s)' % json.dumps('#dead tr[data-job-id="%s"]' % dead_id)
    page.wait(dead_row)
    assert page.js('location.hash') == '#queue=reports'

    # declining the confirm() purges nothing
    page.js("window.confirm = () => false;" + click('[data-action="purge-pending"]'))
    time.sleep(0.5)
    assert queue_counts(server, 'reports')['pending'] == 1

    page.js(dead_row + ".querySelector('.row-actions button').click()")
    page.wait(text_of('detail-msg') + ".includes('queued again')")
    page.wait("!" + dead_row)
    assert queue_counts(server, 'reports')['dead'] == 0
    assert queue_counts(server, 'reports')['pending'] == 2

    fail_one_dead(server, 'reports', 'again')
    page.wait("document.querySelector('#dead tr[data-job-id]')")
    page.js(click('[data-action="requeue-dead"]'))
    page.wait(text_of('detail-msg') + ".includes('Requeued 1')")
    assert queue_counts(server, 'reports')['dead'] == 0

    fail_one_dead(server, 'reports', 'and again')
    page.wait("document.querySelector('#dead tr[data-job-id]')")
    page.js("window.confirm = () => true;" + click('[data-action="purge-dead"]'))
    page.wait(text_of('detail-msg') + ".includes('Purged 1 dead')")
    assert queue_counts(server, 'reports')['dead'] == 0

    page.js(click('[data-action="purge-pending"]'))
    page.wait(text_of('detail-msg') + ".includes('Purged 1 pending')")
    assert queue_counts(server, 'reports')['pending'] == 0
    assert queue_counts(server, 'emails')['pending'] == 3


def test_job_lookup_and_retry(live_page):
    server, dead_id, page = live_page
    state = "document.querySelector('#job-fields [data-field=state]')?.textContent"

    page.js("document.getElementById('job-id').value = 'no-such-job';"
            "document.getElementById('job-form').requestSubmit()")
    page.wait(text_of('job-msg') + ".includes('No job with id no-such-job')")
    assert page.js("document.getElementById('job-fields').hidden")

    page.js("document.getElementById('job-id').value = %s;" % json.dumps(dead_id) +
            "document.getElementById('job-form').requestSubmit()")
    page.wait(state + " === 'dead'")
    assert page.js("document.querySelector('#job-fields [data-field=last_error]').textContent") == XSS_ERROR
    page.js(click('[data-action="retry-job"]'))
    page.wait(state + " === 'pending'")
    assert 'queued again' in page.js(text_of('job-msg'))
    assert queue_counts(server, 'reports')['pending'] == 2


def test_password_form(browser, own_server):
    server = own_server(password=PASSWORD)
    known_workload(server)
    with chromium.Session(browser) as page:
        page.open(server.url)
        page.wait("!document.getElementById('auth-form').hidden")
        assert page.js("document.querySelectorAll('tr[data-queue]').length") == 0

        submit = ("document.getElementById('auth-password').value = %s;"
                  "document.getElementById('auth-form').requestSubmit()")
        page.js(submit % json.dumps('wrong'))
        page.wait(text_of('auth-msg') + " === 'Wrong password.'")
        assert page.js("document.querySelectorAll('tr[data-queue]').length") == 0

        page.js(submit % json.dumps(PASSWORD))
        page.wait(row('emails'))
        assert page.js("document.getElementById('auth-form').hidden")
        assert page.js("sessionStorage.getItem('jobd-password')") == PASSWORD
        # actions carry the token too
        page.js(row('emails') + ".querySelector('.row-actions button').click()")
        page.wait(text_of('queues-msg') + ".includes('Paused emails')")
        assert queue_counts(server, 'emails', PASSWORD)['paused'] is True
