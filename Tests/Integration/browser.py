"""Headless Chromium for the dashboard tests: finding the browser, one-shot
runs (--dump-dom, --screenshot), a DevTools session over
--remote-debugging-pipe to click through a page, and a small tree of a
dumped DOM to look things up in. Standard library only."""
import json
import os
import re
import select
import shutil
import subprocess
import tempfile
import time
from html.parser import HTMLParser

import pytest

# chromium is the Debian package scripts/test installs; the others are the
# names the same browser has elsewhere.
NAMES = ('chromium', 'chromium-headless-shell', 'chromium-browser', 'google-chrome')
COMMON_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
                '--no-first-run', '--no-default-browser-check', '--hide-scrollbars']


def find_chromium():
    for name in NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def run(browser, url, *flags, timeout=120):
    """One headless run in a profile of its own (other runs may be going on)."""
    profile = tempfile.mkdtemp(prefix='jobd-chromium-')
    args = [browser, *COMMON_FLAGS, '--user-data-dir=' + profile, *flags, url]
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def usable_chromium():
    """The browser's path, or a pytest skip (with the reason printed) when there
    is none or it cannot start in this container."""
    path = find_chromium()
    if not path:
        reason = 'no chromium on PATH (scripts/test installs the Debian package chromium)'
        print('skipping:', reason)
        pytest.skip(reason)
    try:
        probe = run(path, 'data:text/html,<p id=probe>ok</p>', '--dump-dom', timeout=60)
        error = probe.stderr.strip()[-300:]
        works = 'id="probe"' in probe.stdout
    except (OSError, subprocess.TimeoutExpired) as e:
        works, error = False, str(e)
    if not works:
        reason = 'chromium cannot run here: ' + error
        print('skipping:', reason)
        pytest.skip(reason)
    return path


def dump_dom(browser, url):
    """The DOM after the page's scripts ran for 8 s of virtual time."""
    result = run(browser, url, '--virtual-time-budget=8000', '--dump-dom')
    assert '</html>' in result.stdout, 'no DOM from chromium:\n' + result.stderr[-2000:]
    return result.stdout


def screenshot(browser, url, path, width, height):
    result = run(browser, url, '--virtual-time-budget=8000', '--screenshot=' + path,
                 '--window-size=%d,%d' % (width, height))
    assert os.path.exists(path), 'no screenshot from chromium:\n' + result.stderr[-2000:]
    with open(path, 'rb') as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n'
    print('dashboard screenshot (%dx%d): %s' % (width, height, path))


class Session:
    """A live page driven over the DevTools protocol. Chromium reads commands
    from fd 3 and writes answers to fd 4, each a JSON text ended by NUL."""

    def __init__(self, browser, timeout=30):
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix='jobd-chromium-')
        commands_read, self._commands = os.pipe()
        self._answers, answers_write = os.pipe()

        def as_fds_3_and_4():
            os.dup2(commands_read, 3)
            os.dup2(answers_write, 4)
        self.proc = subprocess.Popen(
            [browser, *COMMON_FLAGS, '--remote-debugging-pipe', '--user-data-dir=' + self.profile,
             '--window-size=1280,900', 'about:blank'],
            preexec_fn=as_fds_3_and_4, pass_fds=(3, 4),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(commands_read)
        os.close(answers_write)
        self._buffer = b''
        self._next_id = 0
        self.session = None
        target = self.call('Target.createTarget', {'url': 'about:blank'})['targetId']
        self.session = self.call('Target.attachToTarget', {'targetId': target, 'flatten': True})['sessionId']

    def call(self, method, params=None):
        self._next_id += 1
        message = {'id': self._next_id, 'method': method, 'params': params or {}}
        if self.session:
            message['sessionId'] = self.session
        os.write(self._commands, json.dumps(message).encode() + b'\0')
        deadline = time.time() + self.timeout
        while True:
            while b'\0' not in self._buffer:
                left = deadline - time.time()
                if left <= 0 or not select.select([self._answers], [], [], left)[0]:
                    raise TimeoutError('no answer from chromium to ' + method)
                chunk = os.read(self._answers, 1 << 16)
                if not chunk:
                    raise ConnectionError('chromium closed its DevTools pipe')
                self._buffer += chunk
            line, self._buffer = self._buffer.split(b'\0', 1)
            answer = json.loads(line)
            if answer.get('id') == self._next_id:  # events have no id
                if 'error' in answer:
                    raise RuntimeError('%s: %s' % (method, answer['error']))
                return answer['result']

    def open(self, url):
        """Navigates and waits until the page has loaded (its scripts ran)."""
        self.call('Page.navigate', {'url': url})
        self.wait("location.href === %s && document.readyState === 'complete'" % json.dumps(url))

    def js(self, expression):
        """The value of a JS expression in the page (promises awaited)."""
        answer = self.call('Runtime.evaluate', {'expression': expression, 'returnByValue': True,
                                                'awaitPromise': True})
        if 'exceptionDetails' in answer:
            raise AssertionError('JS error in %r: %s' % (expression, answer['exceptionDetails']))
        return answer['result'].get('value')

    def wait(self, expression, timeout=20):
        """Polls a JS expression until it is truthy (an element counts)."""
        deadline = time.time() + timeout
        while True:
            if self.js('!!(%s)' % expression):
                return
            if time.time() > deadline:
                raise AssertionError('timed out waiting for %s\npage text:\n%s' % (
                    expression, self.js('document.body && document.body.innerText')))
            time.sleep(0.1)

    def close(self):
        try:
            os.write(self._commands, json.dumps({'id': 0, 'method': 'Browser.close'}).encode() + b'\0')
            self.proc.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        os.close(self._commands)
        os.close(self._answers)
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ---- a dumped DOM as a tree ---------------------------------------------------------

VOID = {'area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr'}


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent, self.children = tag, dict(attrs), parent, []

    def text(self):
        return ''.join(c if isinstance(c, str) else c.text() for c in self.children)

    def find_all(self, test):
        found = []
        for c in self.children:
            if isinstance(c, Node):
                if test(c):
                    found.append(c)
                found += c.find_all(test)
        return found

    def by_id(self, name):
        found = self.find_all(lambda n: n.attrs.get('id') == name)
        assert found, 'no element with id %r' % name
        return found[0]

    def field(self, name):
        cells = self.find_all(lambda n: n.attrs.get('data-field') == name)
        assert cells, 'no data-field=%r in <%s %s>' % (name, self.tag, self.attrs)
        return cells[0]

    @property
    def hidden(self):
        return 'hidden' in self.attrs


class _TreeBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node('#document', {}, None)
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Node(tag, attrs, self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node is not self.root and node.tag != tag:
            node = node.parent
        if node is not self.root:
            self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


def parse(html):
    builder = _TreeBuilder()
    builder.feed(html)
    return builder.root


def leading_number(node):
    """The number a cell shows first ("1,234" → 1234)."""
    match = re.match(r'\s*([\d,]+)', node.text())
    assert match, 'no number in %r' % node.text()
    return int(match.group(1).replace(',', ''))
