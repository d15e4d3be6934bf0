"""Do the book's explorables load from file:// without errors, work from the keyboard, and
show the reference solutions' numbers for every setting we drive them to?

Each explorable (book/_static/explorables/<name>.mjs, embedded by book/explorables/<name>.md)
is opened in headless Chromium over the DevTools protocol: from a page holding just its
snippet (fast, no book build), and in its chapter of the built book (slow). The tests move its
sliders with the keyboard (Home, then ArrowRight), click its radio buttons and grid cells or
walk them with the arrow keys, then read what the page shows (the text of the grids' cells
and of the <output data-readout=...> elements) and compare it with solutions/.

    .venv/bin/python -m pytest tests/test_explorables.py              # all, building the book
    COURSE_BOOK_HTML=/tmp/book15/_build/html .venv/bin/python -m pytest tests/test_explorables.py
    .venv/bin/python tests/test_explorables.py --screenshots           # README's pictures

The browser tests are marked slow and browser, as tests/test_book.py's are; the checks of the
files (staleness, JavaScript budget, module contract, alt text) run in the fast tier.
"""
import fcntl
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
import websocket

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import make_explorables  # noqa: E402
import solutions  # noqa: E402

STATIC = ROOT / "book" / "_static" / "explorables"
SNIPPETS = ROOT / "book" / "explorables"
SCREENSHOTS = SNIPPETS / "screenshots"
NAMES = list(make_explorables.EXPLORABLES)
# where each explorable is embedded: the chapter that teaches it
CHAPTERS = {"conv_arithmetic": "03_padding_stride", "conv_volume": "02_convolution",
            "receptive_field": "03_padding_stride", "pooling": "04_pooling",
            "im2col": "07_im2col", "batchnorm": "05_normalization"}
JS_BUDGET = 300_000      # bytes of JavaScript the explorables may add to the book


def state(name):
    """The model's initial state, as the snippet gives it to the page."""
    text = (SNIPPETS / f"{name}.md").read_text()
    return json.loads(re.search(r'class="explorable-model">(.*?)</script>', text).group(1))


# ---------------------------------------------------------------------------- Chromium over CDP

def chromium_binary():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    message = "Chromium is not installed (Debian: `apt-get install -y chromium`; .ci/run does this)"
    if os.environ.get("COURSE_ALLOW_NO_BROWSER") == "1":
        pytest.skip(message)
    pytest.fail(message)


KEYS = {"ArrowLeft": 37, "ArrowUp": 38, "ArrowRight": 39, "ArrowDown": 40, "Home": 36, "End": 35,
        "Enter": 13, " ": 32}


class Browser:
    """One headless Chromium, driven over the DevTools protocol (websocket-client)."""

    def __init__(self, folder):
        self.log = open(Path(folder) / "chromium.log", "w+")
        self.process = subprocess.Popen(
            [chromium_binary(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             "--disable-background-networking", "--disable-component-update", "--no-first-run",
             "--disable-sync", "--remote-debugging-port=0", "--remote-allow-origins=*",
             f"--user-data-dir={Path(folder) / 'profile'}", "--window-size=1280,1600", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=self.log)
        url, deadline = None, time.time() + 60
        while url is None and time.time() < deadline:
            self.log.seek(0)
            found = re.search(r"DevTools listening on (ws://\S+)", self.log.read())
            url = found and found.group(1)
            time.sleep(0.05)
        assert url, "Chromium did not start its DevTools endpoint"
        self.ws = websocket.create_connection(url, timeout=60, suppress_origin=True)
        self.next_id, self.events = 0, []

    def send(self, method, session=None, **params):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        self.ws.send(json.dumps(message))
        while True:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def page(self):
        return Page(self)

    def close(self):
        try:
            self.send("Browser.close")
        except Exception:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


class Page:
    """A tab: navigate, evaluate, type keys, click; collects console errors and exceptions."""

    def __init__(self, browser):
        self.browser = browser
        target = browser.send("Target.createTarget", url="about:blank")["targetId"]
        self.session = browser.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Runtime", "Log", "Page"):
            self.send(f"{domain}.enable")

    def send(self, method, **params):
        return self.browser.send(method, session=self.session, **params)

    def errors(self):
        """Uncaught exceptions, console.error calls and failed loads, as text."""
        found = []
        for event in self.browser.events:
            if event.get("sessionId") != self.session:
                continue
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                found.append(details.get("exception", {}).get("description") or details.get("text"))
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                found.append(" ".join(str(a.get("value", a.get("description", ""))) for a in params["args"]))
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                found.append(params["entry"]["text"] + " " + params["entry"].get("url", ""))
        return found

    def goto(self, url, ready=True, scripts=True):
        self.send("Emulation.setScriptExecutionDisabled", value=not scripts)
        self.send("Page.navigate", url=url)
        self.wait("document.readyState === 'complete'")
        if ready:
            self.wait("document.querySelectorAll('div.explorable').length > 0 && "
                      "[...document.querySelectorAll('div.explorable')].every("
                      "d => ['ready', 'failed'].includes(d.getAttribute('data-explorable-state')))")

    def eval(self, expression):
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:200]}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait(self, condition, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if self.eval(f"Boolean({condition})"):
                    return
            except RuntimeError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {condition}; errors: {self.errors()}")

    def key(self, key, ctrl=False):
        code = {" ": "Space"}.get(key, key)
        common = {"key": key, "code": code, "windowsVirtualKeyCode": KEYS[key], "modifiers": 2 if ctrl else 0}
        text = {"Enter": "\r", " ": " "}.get(key)
        self.send("Input.dispatchKeyEvent", type="keyDown" if text else "rawKeyDown", text=text or "", **common)
        self.send("Input.dispatchKeyEvent", type="keyUp", **common)

    def click(self, selector):
        box = self.eval(f"""(() => {{
            const el = document.querySelector({json.dumps(selector)});
            if (!el) return null;
            el.scrollIntoView({{block: "center", inline: "center"}});
            const r = el.getBoundingClientRect();
            return [r.left + r.width / 2, r.top + r.height / 2];
        }})()""")
        assert box, f"nothing to click at {selector}"
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left", clickCount=1)

    def focus(self, selector):
        assert self.eval(f"(() => {{ const el = document.querySelector({json.dumps(selector)}); "
                         f"if (!el) return false; el.focus(); return document.activeElement === el; }})()"), selector


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    chromium_binary()
    b = Browser(tmp_path_factory.mktemp("chromium"))
    yield b
    b.close()


def standalone_page(name, folder):
    """A page holding only the explorable's snippet, its files read from book/_static/."""
    snippet = (SNIPPETS / f"{name}.md").read_text().replace(make_explorables.STATIC_URL, STATIC.as_uri())
    path = Path(folder) / f"{name}.html"
    path.write_text(f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{name}</title>'
                    f'</head><body><main style="max-width: 800px; margin: auto">{snippet}</main></body></html>')
    return path.as_uri()


class Explorable:
    """One explorable on a page: its controls, grids and readouts."""

    def __init__(self, page, name):
        self.page, self.name = page, name
        self.root = f'[data-explorable-root="{name}"]'

    def set(self, key, value):
        """Move slider `key` to value with the keyboard: Home, then ArrowRight."""
        selector = f'{self.root} input[type=range][data-key="{key}"]'
        self.page.focus(selector)
        self.page.key("Home")
        low = int(self.page.eval(f"document.querySelector({json.dumps(selector)}).min"))
        for _ in range(value - low):
            self.page.key("ArrowRight")
        assert int(self.page.eval(f"document.querySelector({json.dumps(selector)}).value")) == value, (key, value)

    def choose(self, key, value):
        """Click radio button `value` of setting `key`."""
        self.page.click(f'{self.root} input[type=radio][data-key="{key}"][value="{value}"]')
        assert self.page.eval(f'document.querySelector(\'{self.root} input[data-key="{key}"][value="{value}"]\').checked')

    def press(self, key):
        self.page.click(f'{self.root} button[data-key="{key}"]')

    def readout(self, key):
        selector = json.dumps(f'{self.root} [data-readout="{key}"]')
        return self.page.eval(f"document.querySelector({selector})?.textContent")

    def grid(self, key):
        """The text of grid `key`'s cells, as a list of rows."""
        cells = self.page.eval(f"""[...document.querySelectorAll('{self.root} [data-grid="{key}"] .ex-cell')]
            .map(c => [Number(c.dataset.i), Number(c.dataset.j), c.textContent])""")
        assert cells, f"{self.name}: no grid {key}"
        rows = max(i for i, _, _ in cells) + 1
        out = [[None] * (max(j for _, j, _ in cells) + 1) for _ in range(rows)]
        for i, j, text in cells:
            out[i][j] = text
        return out

    def marked(self, key, cls):
        """(i, j) of grid `key`'s cells with class cls."""
        return sorted(tuple(c) for c in self.page.eval(
            f"""[...document.querySelectorAll('{self.root} [data-grid="{key}"] .ex-cell.{cls}')]
                .map(c => [Number(c.dataset.i), Number(c.dataset.j)])"""))

    def select(self, key, i, j):
        self.page.click(f'{self.root} [data-grid="{key}"] [data-i="{i}"][data-j="{j}"]')
        assert self.selected(key) == (i, j)

    def selected(self, key):
        cell = self.page.eval(f"""(() => {{ const c = document.querySelector('{self.root} [data-grid="{key}"] [aria-selected=true]');
            return c && [Number(c.dataset.i), Number(c.dataset.j)]; }})()""")
        return tuple(cell) if cell else None

    def focused(self):
        return self.page.eval("document.activeElement && document.activeElement.getAttribute('data-focus-key')")


@pytest.fixture
def explorable(browser, tmp_path, request):
    """Open the explorable named by the test's `name` parameter on its standalone page."""
    name = request.param
    page = browser.page()
    page.goto(standalone_page(name, tmp_path))
    assert page.eval(f"document.querySelector('[data-explorable={name}]').getAttribute('data-explorable-state')") == "ready", page.errors()
    ex = Explorable(page, name)
    yield ex
    assert not page.errors(), f"{name}: errors in the page: {page.errors()}"
    page.send("Page.close")


def numbers(grid_text):
    return np.array([[float(t) for t in row] for row in grid_text])


def near(shown, expected, decimals):
    """Does text `shown` equal `expected` rounded as the page rounds it?"""
    return abs(float(shown) - expected) <= 0.5 * 10 ** -decimals + 1e-12


# ---------------------------------------------------------------------------- files

def test_generated_files_are_up_to_date():
    """Are the snippets, static figures and sources.js what scripts/make_explorables.py writes?"""
    stale = make_explorables.stale(check=True)
    assert not stale, "stale: " + ", ".join(str(p.relative_to(ROOT)) for p in stale) + \
        " (run python scripts/make_explorables.py)"


def test_explorables_add_less_than_300_kb_of_javascript():
    scripts = [p for p in STATIC.iterdir() if p.suffix in (".js", ".mjs")]
    total = sum(p.stat().st_size for p in scripts)
    assert len(scripts) == len(NAMES) + 3           # the modules, common.mjs, host.js, sources.js
    assert total < JS_BUDGET, f"{total} bytes of JavaScript"


def test_modules_follow_the_anywidget_contract_and_load_nothing_from_the_network():
    for name in ["common"] + NAMES:
        text = (STATIC / f"{name}.mjs").read_text()
        assert not re.search(r"https?://|fetch\(|XMLHttpRequest", text), f"{name}.mjs reaches for the network"
        imports = re.findall(r'^import .* from "([^"]+)";', text, re.M)
        assert all(re.fullmatch(r"\./\w+\.mjs", i) for i in imports), f"{name}.mjs imports {imports}"
        if name != "common":
            assert "export default { render };" in text


def test_every_static_figure_has_alt_text_from_the_reference():
    for name in NAMES:
        text = (SNIPPETS / f"{name}.md").read_text()
        alt = re.search(r'<img src="[^"]+" alt="([^"]+)"', text).group(1)
        assert len(alt) > 80 and re.search(r"\d", alt), f"{name}: alt text {alt!r}"
        assert (STATIC / f"{name}.svg").exists()
        assert "\n\n" not in text.strip(), f"{name}.md: a blank line would end the HTML block"


# ---------------------------------------------------------------------------- accessibility

def axe_source():
    import importlib.util
    spec = importlib.util.find_spec("axe_core_python")
    path = Path(next(iter(spec.submodule_search_locations))) / "axe.min.js" if spec else None
    if path is None or not path.exists():
        pytest.fail("axe-core is missing: pip install -r requirements.txt installs axe-core-python")
    return path.read_text()


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("explorable", NAMES, indirect=True)
def test_explorable_passes_the_axe_audit_and_labels_its_controls(explorable):
    """axe-core (WCAG 2.1 A/AA and best practices, as tests/test_book.py runs it) on the
    explorable: no serious or critical violation (contrast, names, ARIA roles); every control
    has a label and every interactive grid a name."""
    ex = explorable
    ex.page.eval(axe_source() + "; true")
    violations = ex.page.eval(f"""axe.run(document.querySelector('{ex.root}'), {{runOnly: {{type: "tag",
        values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}}}}).then(r => r.violations.map(
        v => [v.id, v.impact, v.nodes.slice(0, 3).map(n => n.target.join(" ") + " " + n.failureSummary)]))""")
    serious = [v for v in violations if v[1] in ("serious", "critical")]
    assert not serious, f"{ex.name}: {serious}"
    unlabelled = ex.page.eval(f"""[...document.querySelectorAll('{ex.root} input, {ex.root} button')]
        .filter(i => !(i.labels && i.labels.length) && !i.textContent.trim()).length""")
    assert unlabelled == 0
    assert ex.page.eval(f"[...document.querySelectorAll('{ex.root} [role=grid]')].every(g => g.getAttribute('aria-label'))")


# ---------------------------------------------------------------------------- conv arithmetic

def taps_from_reference(n, k, stride, pad, dilation):
    """{output (i, j): (rows, columns) of the padded input it reads}, by one-hot images."""
    P = n + 2 * pad
    onehot = np.eye(P * P).reshape(P * P, 1, P, P)
    w = solutions.dilate(np.ones((1, 1, k, k)), dilation)
    out = solutions.conv_forward_naive(onehot, w, np.zeros(1), stride, 0)
    read = out[:, 0] != 0                      # (pixel, i, j)
    return lambda i, j: (sorted({p // P - pad for p in np.flatnonzero(read[:, i, j])}),
                         sorted({p % P - pad for p in np.flatnonzero(read[:, i, j])}))


def unread_rows_from_reference(n, k, stride, pad, dilation):
    """Rows of the input that no output reads: zero rows of the input gradient."""
    w = solutions.dilate(np.ones((1, 1, k, k)), dilation)
    size = solutions.conv_output_size(n, k, stride, pad, dilation)
    dx, _, _ = solutions.conv_backward_naive(np.ones((1, 1, size, size)), np.ones((1, 1, n, n)), w,
                                             np.zeros(1), stride, pad)
    return [r for r in range(n) if not dx[0, 0, r].any()]


def listed(text):
    return [] if text == "none" else [int(v) for v in text.split(", ")]


CONV_CASES = [  # n, k, stride, pad, dilation
    (5, 3, 2, 1, 1), (7, 3, 1, 0, 1), (6, 3, 2, 0, 1), (10, 3, 1, 0, 2), (7, 5, 3, 2, 1),
    (9, 2, 2, 0, 3), (8, 4, 3, 1, 2), (4, 5, 1, 0, 1), (2, 3, 1, 0, 1),
]


def set_all(ex, **settings):
    for key, value in settings.items():
        ex.set(key, value)


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("explorable", ["conv_arithmetic"], indirect=True)
def test_conv_arithmetic_shows_the_reference_output_size_window_and_unread_rows(explorable):
    ex = explorable
    for n, k, stride, pad, dilation in CONV_CASES:
        set_all(ex, n=n, k=k, stride=stride, pad=pad, dilation=dilation)
        setting = dict(n=n, k=k, stride=stride, pad=pad, dilation=dilation)
        try:
            size = solutions.conv_output_size(n, k, stride, pad, dilation)
        except ValueError:
            assert ex.readout("out").startswith("No output"), setting
            continue
        assert ex.readout("out") == f"{size} × {size}", setting
        assert len(ex.grid("output")) == size and len(ex.grid("input")) == n + 2 * pad
        taps = taps_from_reference(n, k, stride, pad, dilation)
        for i, j in {(0, 0), (size - 1, size - 1), (size // 2, 0)}:
            ex.select("output", i, j)
            rows, cols = taps(i, j)
            assert listed(ex.readout("rows")) == rows and listed(ex.readout("cols")) == cols, (setting, i, j)
            marked = ex.marked("input", "ex-window")
            assert marked == sorted((r + pad, c + pad) for r in rows for c in cols), (setting, i, j)
        assert listed(ex.readout("unread")) == unread_rows_from_reference(n, k, stride, pad, dilation), setting


TRANSPOSED_CASES = [  # n, k, stride, pad
    (3, 3, 2, 0), (3, 3, 2, 1), (4, 4, 2, 1), (2, 3, 3, 0), (4, 2, 3, 2), (3, 2, 1, 2), (5, 5, 1, 2),
]


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("explorable", ["conv_arithmetic"], indirect=True)
def test_transposed_view_shows_the_reference_output_size_and_contributing_inputs(explorable):
    ex = explorable
    ex.choose("mode", "transposed")
    assert ex.page.eval(f"document.querySelector('{ex.root} input[data-key=dilation]').disabled")
    for n, k, stride, pad in TRANSPOSED_CASES:
        set_all(ex, n=n, k=k, stride=stride, pad=pad)
        setting = dict(n=n, k=k, stride=stride, pad=pad)
        onehot = np.eye(n * n).reshape(n * n, 1, n, n)
        try:
            out = solutions.conv_transpose_forward(onehot, np.ones((1, 1, k, k)), stride, pad)
        except ValueError:
            assert ex.readout("out").startswith("No output"), setting
            continue
        size = out.shape[-1]
        assert ex.readout("out") == f"{size} × {size}", setting
        # the zero-inserted grid: (n - 1) * stride + 1 cells, padded by k - 1 - pad
        assert len(ex.grid("input")) == (n - 1) * stride + 1 + 2 * (k - 1 - pad), setting
        for i, j in {(0, 0), (size - 1, size - 1), (size // 2, size // 3)}:
            ex.select("output", i, j)
            sources = np.flatnonzero(out[:, 0, i, j])
            assert listed(ex.readout("rows")) == sorted({p // n for p in sources}), (setting, i, j)
            assert listed(ex.readout("cols")) == sorted({p % n for p in sources}), (setting, i, j)


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("explorable", ["conv_arithmetic"], indirect=True)
def test_output_grid_is_operable_from_the_keyboard(explorable):
    ex = explorable
    set_all(ex, n=7, k=3, stride=1, pad=0, dilation=1)          # 5 x 5 outputs
    ex.page.focus(f'{ex.root} [data-grid="output"] [tabindex="0"]')
    for key in ("ArrowRight", "ArrowRight", "ArrowDown"):
        ex.page.key(key)
    assert ex.selected("output") == (1, 2)
    assert ex.focused() == "output:1:2", "the focus must follow the selection through the redraw"
    ex.page.key("End")
    assert ex.selected("output") == (1, 4)
    ex.page.key("End", ctrl=True)
    assert ex.selected("output") == (4, 4)
    assert ex.readout("rows") == "4, 5, 6"


# ---------------------------------------------------------------------------- multi-channel conv

VOLUME_CASES = [  # C, H, F, k, stride, pad
    (3, 5, 2, 3, 2, 1), (1, 4, 1, 2, 1, 0), (2, 7, 3, 3, 1, 1), (3, 6, 2, 1, 3, 2), (2, 3, 1, 3, 1, 0),
]


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("explorable", ["conv_volume"], indirect=True)
def test_conv_volume_shows_conv_forward_naive_and_each_channels_share(explorable):
    ex, s = explorable, state("conv_volume")
    for C, H, F, k, stride, pad in VOLUME_CASES:
        set_all(ex, C=C, H=H, F=F, k=k, stride=stride, pad=pad)
        x = np.array(s["x"], dtype=float)[None, :C, :H, :H]
        w = np.array(s["w"], dtype=float)[:F, :C, :k, :k]
        b = np.array(s["b"], dtype=float)[:F]
        out = solutions.conv_forward_naive(x, w, b, stride, pad)[0]
        setting = dict(C=C, H=H, F=F, k=k, stride=stride, pad=pad)
        assert ex.readout("shape") == str(out.shape).replace(" ", "").replace(",", ", "), setting
        for f in range(F):
            np.testing.assert_array_equal(numbers(ex.grid(f"out{f}")), out[f], err_msg=str(setting))
        f, i, j = F - 1, out.shape[1] - 1, out.shape[2] - 1
        ex.select(f"out{f}", i, j)
        assert float(ex.readout("value")) == out[f, i, j]
        for c in range(C):
            share = solutions.conv_forward_naive(x[:, c:c + 1], w[f:f + 1, c:c + 1], np.zeros(1), stride, pad)
            assert float(ex.readout(f"partial{c}")) == share[0, 0, i, j], (setting, c)


# ---------------------------------------------------------------------------- receptive field

RF_CASES = [  # n, [(k, stride, dilation), ...]
    (16, [(3, 1, 1), (3, 2, 1), (3, 1, 1)]), (20, [(5, 2, 1), (3, 2, 1)]), (22, [(3, 1, 2), (3, 1, 3)]),
    (12, [(7, 3, 1)]), (9, [(3, 1, 1)] * 4), (18, [(2, 2, 1), (2, 2, 1), (3, 1, 1), (2, 1, 2)]),
    (5, [(5, 1, 1), (3, 1, 1)]),
]


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("explorable", ["receptive_field"], indirect=True)
def test_receptive_field_matches_the_reference_and_the_heat_map_is_the_input_gradient(explorable):
    ex = explorable
    for n, layers in RF_CASES:
        ex.set("n", n)
        ex.set("L", len(layers))
        for index, (k, stride, d) in enumerate(layers, start=1):
            set_all(ex, **{f"k{index}": k, f"s{index}": stride, f"d{index}": d})
        setting = dict(n=n, layers=layers)
        sizes, size = [], n
        for k, stride, d in layers:
            try:
                size = solutions.conv_output_size(size, k, stride, 0, d)
            except ValueError:
                size = None
                break
            sizes.append(size)
        if size is None:
            assert "too small" in ex.readout("warn"), setting
            continue
        fields = solutions.receptive_field([(d * (k - 1) + 1, stride) for k, stride, d in layers])
        for index, (size_l, field_l) in enumerate(zip(sizes, fields), start=1):
            assert int(ex.readout(f"size{index}")) == size_l, setting
            assert int(ex.readout(f"field{index}")) == field_l, setting
        for unit in {(0, 0), (size - 1, size - 1), (size // 2, 0)}:
            ex.select("output", *unit)
            erf = make_explorables.effective_field(n, layers, unit)
            np.testing.assert_array_equal(numbers(ex.grid("input")), erf, err_msg=f"{setting} {unit}")
            rows, cols = np.flatnonzero(erf.any(axis=1)), np.flatnonzero(erf.any(axis=0))
            assert ex.readout("rf-rows") == f"{rows[0]}–{rows[-1]}" and rows[-1] - rows[0] + 1 == fields[-1]
            assert ex.readout("rf-cols") == f"{cols[0]}–{cols[-1]}"
            assert ex.readout("field") == f"{fields[-1]} × {fields[-1]}"


# ---------------------------------------------------------------------------- pooling

POOL_CASES = [  # mode, data, H, pool, stride
    ("max", "ties", 7, 3, 2), ("max", "distinct", 8, 2, 2), ("avg", "distinct", 6, 3, 1),
    ("max", "ties", 8, 4, 3), ("avg", "ties", 5, 2, 2), ("max", "ties", 4, 1, 1), ("max", "ties", 6, 2, 1),
]


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("explorable", ["pooling"], indirect=True)
def test_pooling_shows_the_reference_outputs_routed_gradients_and_dx(explorable):
    ex, s = explorable, state("pooling")
    for mode, data, H, pool, stride in POOL_CASES:
        ex.choose("mode", mode)
        ex.choose("data", data)
        set_all(ex, H=H, pool=pool, stride=stride)
        setting = dict(mode=mode, data=data, H=H, pool=pool, stride=stride)
        x = np.array(s["x_ties" if data == "ties" else "x_distinct"], dtype=float)[None, None, :H, :H]
        forward = solutions.max_pool_forward if mode == "max" else solutions.avg_pool_forward
        backward = solutions.max_pool_backward if mode == "max" else solutions.avg_pool_backward
        out = forward(x, pool, stride)
        Hout = out.shape[-1]
        dout = np.array(s["dout"], dtype=float)[None, None, :Hout, :Hout]
        assert ex.readout("out") == f"{Hout} × {Hout}", setting
        assert np.abs(numbers(ex.grid("output")) - out[0, 0]).max() <= 0.005 + 1e-12, setting
        assert np.abs(numbers(ex.grid("dx")) - backward(dout, x, pool, stride)[0, 0]).max() <= 0.005 + 1e-12, setting
        # walk the outputs with the keyboard: each one's gradient goes where the reference sends it
        ex.page.focus(f'{ex.root} [data-grid="output"] [tabindex="0"]')
        ex.page.key("Home", ctrl=True)
        for step in range(min(Hout * Hout, 6)):
            i, j = ex.selected("output")
            one = np.zeros_like(dout)
            one[0, 0, i, j] = 1
            routed = [tuple(map(int, p)) for p in np.argwhere(backward(one, x, pool, stride)[0, 0] != 0)]
            assert ex.readout("routed") == ", ".join(f"({r}, {c})" for r, c in routed), (setting, i, j)
            assert ex.marked("input", "ex-routed") == routed, (setting, i, j)
            ex.page.key("ArrowRight" if j < Hout - 1 else "ArrowDown")
            if j == Hout - 1:
                ex.page.key("Home")


# ---------------------------------------------------------------------------- im2col

IM2COL_CASES = [  # N, C, H, k, stride, pad
    (1, 2, 4, 3, 1, 0), (2, 3, 5, 3, 2, 1), (1, 1, 3, 1, 1, 1), (2, 1, 5, 2, 2, 0), (1, 3, 4, 2, 1, 1),
]


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("explorable", ["im2col"], indirect=True)
def test_im2col_matrix_and_indices_are_the_references(explorable):
    ex = explorable
    for N, C, H, k, stride, pad in IM2COL_CASES:
        set_all(ex, N=N, C=C, H=H, k=k, stride=stride, pad=pad)
        setting = dict(N=N, C=C, H=H, k=k, stride=stride, pad=pad)
        x = np.arange(1, N * C * H * H + 1, dtype=float).reshape(N, C, H, H)
        cols = solutions.im2col(x, k, k, stride, pad)
        Hout = solutions.conv_output_size(H, k, stride, pad)
        assert ex.readout("shape") == f"({cols.shape[0]}, {cols.shape[1]})", setting
        np.testing.assert_array_equal(numbers(ex.grid("cols")), cols, err_msg=str(setting))
        assert ex.readout("cols-size") == f"{cols.size} values" and ex.readout("x-size") == f"{x.size} values"
        for p, q in {(0, 0), (cols.shape[0] - 1, cols.shape[1] - 1), (cols.shape[0] // 2, cols.shape[1] // 2)}:
            ex.select("cols", p, q)
            c, i, j = np.unravel_index(p, (C, k, k))
            n, oh, ow = np.unravel_index(q, (N, Hout, Hout))
            assert ex.readout("row") == f"{p} = (c, i, j) = ({c}, {i}, {j})", setting
            assert ex.readout("col") == f"{q} = (n, oh, ow) = ({n}, {oh}, {ow})", setting
            assert float(ex.readout("entry")) == cols[p, q]
            # the input pixels marked for the column and the row are the values that column and row hold
            window = {float(v) for v in cols[:, q] if v}
            shown = {float(ex.grid(f"x{n}{cc}")[a][b]) for cc in range(C)
                     for a, b in ex.marked(f"x{n}{cc}", "ex-window")} - {0.0}
            assert shown == window, (setting, p, q)
            gathered = {float(v) for v in cols[p] if v}
            shown = {float(ex.grid(f"x{m}{c}")[a][b]) for m in range(N)
                     for a, b in ex.marked(f"x{m}{c}", "ex-gathered")} - {0.0}
            assert shown == gathered, (setting, p, q)


# ---------------------------------------------------------------------------- batch norm

def shown_row(ex, key, D=3):
    return np.array([float(ex.readout(f"{key}-{d}")) for d in range(D)])


def check_batchnorm(ex, s, steps, momentum, mode):
    batches, eps = np.array(s["batches"]), s["eps"]
    rm, rv = np.zeros(3), np.ones(3)
    for t in range(steps):
        _, mean, var = solutions.batchnorm_forward(batches[t], np.ones(3), np.zeros(3), eps)
        rm, rv = solutions.update_running_stats(rm, rv, mean, var, len(batches[t]), momentum)
    batch = batches[steps]
    out, mean, var = solutions.batchnorm_forward(batch, np.ones(3), np.zeros(3), eps)
    assert int(ex.readout("step")) == steps
    for key, expected in (("mean", mean), ("var", var), ("rmean", rm), ("rvar", rv)):
        assert all(near(a, b, 3) for a, b in zip(shown_row(ex, key), expected)), (key, steps, momentum)
    if mode == "train":
        nm, nv = solutions.update_running_stats(rm, rv, mean, var, len(batch), momentum)
        assert all(near(a, b, 3) for a, b in zip(shown_row(ex, "nmean"), nm))
        assert all(near(a, b, 3) for a, b in zip(shown_row(ex, "nvar"), nv))
    else:
        out = solutions.batchnorm_inference(batch, np.ones(3), np.zeros(3), rm, rv, eps)
    for n in range(len(batch)):
        assert all(near(a, b, 3) for a, b in zip(shown_row(ex, f"y{n}"), out[n])), (mode, steps, n)


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("explorable", ["batchnorm"], indirect=True)
def test_batchnorm_statistics_follow_the_reference_step_by_step(explorable):
    ex, s = explorable, state("batchnorm")
    check_batchnorm(ex, s, 0, 0.1, "train")
    for steps in (1, 2, 3):
        ex.press("step")
        check_batchnorm(ex, s, steps, 0.1, "train")
    ex.choose("mode", "inference")
    check_batchnorm(ex, s, 3, 0.1, "inference")
    ex.press("step10")                     # a training step switches back to training mode
    check_batchnorm(ex, s, 13, 0.1, "train")
    ex.set("momentum10", 5)
    check_batchnorm(ex, s, 13, 0.5, "train")
    ex.choose("mode", "inference")
    check_batchnorm(ex, s, 13, 0.5, "inference")
    ex.press("reset")
    check_batchnorm(ex, s, 0, 0.5, "inference")


# ---------------------------------------------------------------------------- the built book

@pytest.fixture(scope="module")
def book_html():
    """The built book: $COURSE_BOOK_HTML if set, else built (incrementally) into _build/."""
    given = os.environ.get("COURSE_BOOK_HTML")
    if given:
        return Path(given)
    exe = Path(sys.executable).with_name("jupyter-book")
    (ROOT / "_build").mkdir(exist_ok=True)
    with open(ROOT / "_build" / ".book-test.lock", "w") as lock:   # the lock tests/test_book.py takes
        fcntl.flock(lock, fcntl.LOCK_EX)
        run = subprocess.run([str(exe) if exe.exists() else "jupyter-book", "build", "-W", "-n", "--keep-going",
                              str(ROOT)], cwd=ROOT, capture_output=True, text=True, timeout=20 * 60)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return ROOT / "_build" / "html"


@pytest.mark.book
@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("name", NAMES)
def test_explorable_runs_in_its_chapter_of_the_built_book(book_html, browser, name):
    """In the chapter, from file://: mounted, no console error, and the static figure hidden."""
    page = browser.page()
    page.goto((book_html / "book" / f"{CHAPTERS[name]}.html").as_uri())
    states = page.eval(f"[...document.querySelectorAll('[data-explorable={name}]')].map(d => d.getAttribute('data-explorable-state'))")
    assert states == ["ready"], f"{name} in {CHAPTERS[name]}: {states}, {page.errors()}"
    assert page.eval(f"getComputedStyle(document.querySelector('[data-explorable={name}] .explorable-static')).display") == "none"
    # pydata-sphinx-theme 0.17 itself console.error()s this on a browser's first visit (nothing
    # in its localStorage yet); it is the theme's, not the explorable's
    errors = [e for e in page.errors() if not e.startswith("Got invalid theme mode: ")]
    assert not errors, errors
    page.send("Page.close")


@pytest.mark.book
@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("name", NAMES)
def test_without_javascript_the_static_figure_stands_in(book_html, browser, name):
    page = browser.page()
    page.goto((book_html / "book" / f"{CHAPTERS[name]}.html").as_uri(), ready=False, scripts=False)
    page.wait(f"document.querySelector('[data-explorable={name}] .explorable-static img').complete")
    image = page.eval(f"""(() => {{ const i = document.querySelector('[data-explorable={name}] .explorable-static img');
        return [i.naturalWidth, i.alt, getComputedStyle(i).display, i.getBoundingClientRect().height]; }})()""")
    assert image[0] > 0 and len(image[1]) > 80 and image[2] != "none" and image[3] > 50, image
    page.send("Emulation.setScriptExecutionDisabled", value=False)
    page.send("Page.close")


# ---------------------------------------------------------------------------- screenshots

def screenshots():
    """README's pictures: each explorable in its initial state, from its standalone page."""
    import base64
    SCREENSHOTS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        b = Browser(folder)
        try:
            for name in NAMES:
                page = b.page()
                page.send("Emulation.setDeviceMetricsOverride", width=900, height=1200, deviceScaleFactor=1, mobile=False)
                page.goto(standalone_page(name, folder))
                box = page.eval(f"(() => {{ const r = document.querySelector('[data-explorable-root={name}]')"
                                f".getBoundingClientRect(); return [r.x, r.y + scrollY, r.width, r.height]; }})()")
                shot = page.send("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                                 clip={"x": box[0] - 4, "y": box[1] - 4, "width": box[2] + 8, "height": box[3] + 8, "scale": 1})
                (SCREENSHOTS / f"{name}.png").write_bytes(base64.b64decode(shot["data"]))
                assert not page.errors(), page.errors()
                print(SCREENSHOTS / f"{name}.png")
        finally:
            b.close()


if __name__ == "__main__":
    if sys.argv[1:] == ["--screenshots"]:
        screenshots()
    else:
        sys.exit(pytest.main([__file__] + sys.argv[1:]))
