"""Does the book build strictly, show every page with its figures and rendered math, keep
the exercise answers private, fit every equation, code line and table into the text column,
and pass an accessibility audit?

The build goes into the repository's own _build/ (the folder `jupyter-book build .` uses), with
`--all` so that Sphinx starts from a fresh environment, re-reads every page and re-emits every
warning: an incremental build would stay silent about warnings of pages it did not re-read.
Notebook execution is still cached in _build/.jupyter_cache (keyed on each chapter's code), so a
local re-run costs seconds once the chapters have run; CI starts from a fresh clone, so there
every chapter really executes. The alternative, a temporary copy, would re-execute the whole
book on every run and leave nothing a developer can open afterwards.
"""
import ast
import fcntl
import functools
import html
import importlib.util
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

import solutions

ROOT = Path(__file__).resolve().parents[1]
HTML_DIR = ROOT / "_build" / "html"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
BUILD_TIMEOUT = 20 * 60            # seconds; a clean build should take well under 5 minutes

# "path:line: WARNING: ..." or a bare "WARNING: ..." from Sphinx and its extensions. The
# kernel's own "[IPKernelApp] WARNING | ..." chatter on stderr is not a build warning.
PROBLEM = re.compile(r"(?:^|: )(?:WARNING|ERROR|CRITICAL|SEVERE): ")
# Sphinx's HTML for a formula, inline or displayed, before MathJax typesets it
MATH = re.compile(r'class="math notranslate nohighlight"')


def toc_pages():
    """The source files of _toc.yml in book order, e.g. ['book/intro', ..., 'book/bibliography']."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]]
    for part in toc.get("parts", []):
        pages += [entry["file"] for entry in part.get("chapters", [])]
    return pages


PAGES = toc_pages()
CHAPTERS = [p for p in PAGES if re.fullmatch(r"book/\d\d_\w+", p)]


def jupyter_book_command():
    exe = Path(sys.executable).with_name("jupyter-book")
    return [str(exe)] if exe.exists() else ["jupyter-book"]


@pytest.fixture(scope="session")
def built_book():
    """Build the whole book strictly; return (returncode, combined log)."""
    (ROOT / "_build").mkdir(exist_ok=True)
    # Two pytest-xdist workers must not build into the same folder at once.
    with open(ROOT / "_build" / ".book-test.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        result = subprocess.run(jupyter_book_command() + ["build", "--all", "-W", "-n", "--keep-going", str(ROOT)],
                                cwd=ROOT, capture_output=True, text=True, timeout=BUILD_TIMEOUT)
    log = result.stdout + result.stderr
    return result.returncode, re.sub(r"\x1b\[[0-9;]*m", "", log)


def page_html(page):
    path = HTML_DIR / f"{page}.html"
    assert path.exists(), f"{page}.md was not built: {path} is missing"
    return path.read_text(encoding="utf-8")


class _PageParser(HTMLParser):
    """Collects the article's <img> tags, the text of its <pre> blocks and its <script> srcs."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.images, self.scripts, self.code_blocks = [], [], []
        self._pre_depth, self._pre_text = 0, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs)
        elif tag == "script" and attrs.get("src"):
            self.scripts.append(attrs["src"])
        elif tag == "pre":
            self._pre_depth += 1

    def handle_endtag(self, tag):
        if tag == "pre" and self._pre_depth:
            self._pre_depth -= 1
            if not self._pre_depth:
                self.code_blocks.append("".join(self._pre_text))
                self._pre_text = []

    def handle_data(self, data):
        if self._pre_depth:
            self._pre_text.append(data)


def parse_page(text):
    parser = _PageParser()
    parser.feed(text)
    return parser


def figure_images(parsed):
    """Images of the page's content: figures produced by the chapters' code (not theme logos)."""
    return [img for img in parsed.images if "_images/" in img.get("src", "")]


# ---------------------------------------------------------------------------- leak detection

MIN_LEAK_LINE = 25     # shorter lines ("return dx", "N, C, H, W = x.shape") are too generic to tell


def graded_functions():
    """Every graded function of the contract: the public functions re-exported by solutions."""
    return {name: obj for name, obj in vars(solutions).items()
            if inspect.isfunction(obj) and not name.startswith("_") and obj.__module__.startswith("solutions.")}


def body_lines(func):
    """Distinctive source lines of func's body: no signature, no docstring, no comments."""
    source = inspect.getsource(func)
    tree = ast.parse(source)
    node = tree.body[0]
    statements = node.body
    if statements and isinstance(statements[0], ast.Expr) and isinstance(getattr(statements[0], "value", None), ast.Constant):
        statements = statements[1:]
    lines = source.splitlines()
    found = set()
    for stmt in statements:
        for raw in lines[stmt.lineno - 1:stmt.end_lineno]:
            code = raw.split("  #")[0].strip()
            if len(code) >= MIN_LEAK_LINE and not code.startswith(("raise ", "#")):
                found.add(code)
    return found


def leaked_lines(code_blocks, graded):
    """(function name, line) for every distinctive body line of a graded function shown in code_blocks."""
    shown = {line.split("  #")[0].strip() for block in code_blocks for line in html.unescape(block).splitlines()}
    return sorted((name, line) for name, func in graded.items() for line in body_lines(func) if line in shown)


def test_leak_detector_finds_a_printed_body_line():
    """Would the leak test notice a chapter that printed a graded function's code?"""
    name, func = sorted(graded_functions().items())[0]
    line = sorted(body_lines(func))[0]
    block = "x = 1\n    " + html.escape(line) + "   # shown in a chapter\n"
    assert leaked_lines([block], {name: func}) == [(name, line)]
    assert leaked_lines(["x = 1\n"], {name: func}) == []


def test_every_graded_function_has_distinctive_lines_to_look_for():
    """Is every graded function covered by the leak test (not silently skipped for being short)?"""
    empty = [name for name, func in graded_functions().items() if not body_lines(func)]
    assert not empty, f"no body line of at least {MIN_LEAK_LINE} characters in: {empty}"


# ---------------------------------------------------------------------------- the build

@pytest.mark.book
@pytest.mark.slow
def test_book_builds_strictly_with_no_warnings(built_book):
    returncode, log = built_book
    problems = [line for line in log.splitlines() if PROBLEM.search(line)]
    reports = sorted((HTML_DIR / "reports").glob("**/*.log")) if (HTML_DIR / "reports").exists() else []
    details = "\n".join(problems[:40])
    for report in reports[:3]:
        details += f"\n--- {report.name} ---\n" + report.read_text()[-3000:]
    assert returncode == 0 and not problems, (
        f"strict build failed (exit {returncode}, {len(problems)} warnings/errors):\n{details or log[-3000:]}")


@pytest.mark.book
@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
def test_every_toc_page_is_built(built_book, page):
    assert "<article" in page_html(page)


@pytest.mark.book
@pytest.mark.slow
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_has_figures_with_alt_text(built_book, chapter):
    """Every chapter shows figures generated at build time, each with a real description."""
    images = figure_images(parse_page(page_html(chapter)))
    assert images, f"{chapter} has no figures"
    for img in images:
        alt, src = img.get("alt", "").strip(), img["src"]
        # docutils falls back to the file name when no alt text was given
        assert alt and not re.search(r"\.(png|jpe?g|svg|gif)$", alt, re.I), f"{chapter}: image {src} has no alt text"
        assert (HTML_DIR / chapter).parent.joinpath(src).resolve().exists(), f"{chapter}: {src} is missing"


@pytest.mark.book
@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
def test_page_prints_no_graded_function_body(built_book, page):
    """The book may call the reference solutions, never show their code."""
    leaks = leaked_lines(parse_page(page_html(page)).code_blocks, graded_functions())
    assert not leaks, f"{page} shows code of graded functions: {leaks}"


@pytest.mark.book
@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
def test_page_loads_mathjax_from_the_book_not_a_cdn(built_book, page):
    source = page_html(page)
    scripts = parse_page(source).scripts
    remote = [s for s in scripts if re.match(r"(https?:)?//", s)]
    assert not remote, f"{page} loads scripts from the network: {remote}"
    mathjax = [s for s in scripts if "mathjax" in s.lower()]
    if MATH.search(source):                 # Sphinx adds MathJax only to pages with math
        assert mathjax, f"{page} has math but loads no MathJax"
    for src in mathjax:
        local = (HTML_DIR / page).parent.joinpath(src.split("?")[0]).resolve()
        assert local.exists(), f"{page}: {src} is not in the built book"


# ---------------------------------------------------------------------------- the rendered pages

# Put first in <head>: records script errors and failed loads, then, after the load event,
# which images failed to decode. --dump-dom serialises the attributes it sets.
PROBE = """<script>
window.__probeErrors = [];
window.addEventListener("error", function (e) {
  var t = e.target || {};
  window.__probeErrors.push(String(e.message || t.src || t.href || "resource failed"));
}, true);
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var broken = images.filter(function (i) { return !(i.complete && i.naturalWidth > 0); })
                     .map(function (i) { return i.getAttribute("src"); });
  var root = document.documentElement;
  root.setAttribute("data-probe-images", String(images.length));
  root.setAttribute("data-probe-broken", JSON.stringify(broken));
  root.setAttribute("data-probe-errors", JSON.stringify(window.__probeErrors));
});
</script>"""

# Put after PROBE: once MathJax has typeset the page, unfolds every folded cell (a reader may
# open it), then records
#   data-probe-clipped: equations, code blocks and tables wider than the box that shows them
#     (the theme gives each a horizontal scroll bar, which --hide-scrollbars hides: the end
#     of the line is simply cut off) or reaching past the article's right edge;
#   data-probe-rawtables: text outside code that looks like Markdown table rows ("| a | b |"),
#     i.e. a table that was printed as text instead of rendered;
#   data-probe-axe: axe-core's violations, when axe.min.js was loaded before this script.
LAYOUT_PROBE = """<script>
(function () {
  function snippet(el) {
    return (el.textContent || "").replace(/\\s+/g, " ").trim().slice(0, 80);
  }
  function clipped(article) {
    var right = article.getBoundingClientRect().right, found = [];
    [["equation", "div.math mjx-container, mjx-container[display='true']"],
     ["code", "pre"], ["table", "table"]].forEach(function (kind) {
      article.querySelectorAll(kind[1]).forEach(function (el) {
        var box = null;
        for (var n = el; n && n !== article.parentNode; n = n.parentElement) {
          if (n.scrollWidth > n.clientWidth + 1 && getComputedStyle(n).overflowX !== "visible") {
            box = n;
            break;
          }
        }
        var overhang = el.getBoundingClientRect().right - right;
        if (box || overhang > 1) {
          found.push(kind[0] + " (" + (box ? box.scrollWidth + "px in a " + box.clientWidth + "px box"
                     : Math.round(overhang) + "px past the column") + "): " + snippet(el));
        }
      });
    });
    return found;
  }
  function rawTables(article) {
    var found = [], walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      var node = walker.currentNode;
      if (node.parentElement.closest("pre, code, script, style")) continue;
      if (/^\\s*\\|.*\\|.*\\|\\s*$/m.test(node.nodeValue)) found.push(snippet(node.parentElement));
    }
    return found;
  }
  function report(name, value) {
    document.documentElement.setAttribute("data-probe-" + name, JSON.stringify(value));
  }
  function measure() {
    document.querySelectorAll("details").forEach(function (d) { d.open = true; });
    var article = document.querySelector("article") || document.body;
    report("clipped", clipped(article));
    report("rawtables", rawTables(article));
    if (!window.axe) { report("axe", [{id: "axe-core was not loaded", impact: "critical", nodes: []}]); return; }
    axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa",
                                                        "best-practice"]}})
      .then(function (results) {
        report("axe", results.violations.map(function (v) {
          return {id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map(function (n) {
            return n.target.join(" ") + ": " + (n.failureSummary || "").replace(/\\s+/g, " ");
          })};
        }));
      }, function (error) { report("axe", [{id: "axe-core failed: " + error, impact: "critical", nodes: []}]); });
  }
  window.addEventListener("load", function () {
    var typeset = (window.MathJax && MathJax.startup && MathJax.startup.promise) || Promise.resolve();
    typeset.then(function () { setTimeout(measure, 0); });
  });
})();
</script>"""


def chromium():
    """The Chromium binary, or a failure that says how to get one (skip only when allowed)."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    message = ("Chromium is not installed, so the rendered-book test cannot run. Install it "
               "(Debian: `apt-get install -y chromium`; .ci/run does this), or set "
               "COURSE_ALLOW_NO_BROWSER=1 to skip this test on a machine without it.")
    if os.environ.get("COURSE_ALLOW_NO_BROWSER") == "1":
        pytest.skip(message)
    pytest.fail(message)


def run_chromium(binary, profile, *args):
    command = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
               f"--user-data-dir={profile}", "--virtual-time-budget=15000", "--window-size=1280,2400", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=180)


def axe_script():
    """axe-core's axe.min.js, as shipped inside the pinned pip package axe-core-python.

    Read from disk: nothing is downloaded at test time.
    """
    spec = importlib.util.find_spec("axe_core_python")
    path = Path(next(iter(spec.submodule_search_locations))) / "axe.min.js" if spec else None
    if path is None or not path.exists():
        pytest.fail("axe-core is missing: `pip install -r requirements.txt` installs axe-core-python, "
                    "which ships axe.min.js")
    return path


@functools.lru_cache(maxsize=None)
def rendered(page):
    """Render a built page in headless Chromium with the probes; -> (dom, {probe: value}).

    One Chromium run per page serves all the browser tests below. The page is copied into a
    temporary folder with the probes and axe-core in its <head>; <base> keeps every relative
    link pointing into the built book.
    """
    binary = chromium()
    page_path = (HTML_DIR / f"{page}.html").resolve()
    scripts = f'<base href="{page_path.as_uri()}">{PROBE}<script src="{axe_script().as_uri()}"></script>'
    with tempfile.TemporaryDirectory() as folder:
        probed = Path(folder) / "probed.html"
        probed.write_text(page_html(page).replace("<head>", f"<head>{scripts}{LAYOUT_PROBE}", 1),
                          encoding="utf-8")
        run = run_chromium(binary, Path(folder) / "profile", "--dump-dom", probed.as_uri())
    dom = run.stdout
    assert run.returncode == 0 and "data-probe-axe" in dom, (
        f"Chromium did not render {page} (exit {run.returncode}):\n{run.stderr[-2000:]}")
    probes = {key: html.unescape(match.group(1))
              for key, match in ((key, re.search(rf'data-probe-{key}="([^"]*)"', dom))
                                 for key in ("images", "broken", "errors", "clipped", "rawtables", "axe"))}
    return dom, probes


@pytest.mark.book
@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("page", PAGES)
def test_page_renders_math_and_images_in_chromium(built_book, page, tmp_path):
    binary = chromium()
    source = page_html(page)
    page_path = (HTML_DIR / f"{page}.html").resolve()
    dom, probe = rendered(page)

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / f"{page.replace('/', '__')}.png"
    shot.unlink(missing_ok=True)
    run_chromium(binary, tmp_path / "profile", f"--screenshot={shot}", page_path.as_uri())
    assert shot.exists() and shot.stat().st_size > 10_000, f"no screenshot of {page}"

    broken, errors = json.loads(probe["broken"]), json.loads(probe["errors"])
    assert not errors, f"{page}: errors while loading: {errors}"
    assert not broken, f"{page}: images that did not load: {broken}"
    if page in CHAPTERS:
        assert int(probe["images"]) >= len(figure_images(parse_page(source))) > 0

    math_elements = len(MATH.findall(source))
    if page in CHAPTERS:
        assert math_elements > 0, f"{page} has no math"
    typeset = dom.count("<mjx-container")
    assert typeset >= math_elements, f"{page}: MathJax rendered {typeset} of {math_elements} formulas"
    assert "<mjx-merror" not in dom, f"{page}: MathJax reported a TeX error"


@pytest.mark.book
@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("page", PAGES)
def test_page_fits_equations_code_and_tables_into_the_column(built_book, page):
    """At a 1280 px wide window, with every folded cell unfolded, is anything cut off?

    Display equations, code blocks (cells and their printed output) and tables must fit the
    text column: the theme would hide the rest behind a scroll bar. Keep code lines to 79
    characters and split wide equations (aligned, or two displays).
    """
    clipped = json.loads(rendered(page)[1]["clipped"])
    assert not clipped, f"{page}: {len(clipped)} clipped:\n" + "\n".join(clipped)


@pytest.mark.book
@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("page", PAGES)
def test_page_shows_no_markdown_table_as_raw_text(built_book, page):
    """A table a cell prints as Markdown must become an HTML table, not lines of "|" text."""
    raw = json.loads(rendered(page)[1]["rawtables"])
    assert not raw, f"{page}: Markdown tables shown as text:\n" + "\n".join(raw)


@pytest.mark.book
@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("page", PAGES)
def test_page_passes_the_axe_accessibility_audit(built_book, page):
    """axe-core's WCAG 2.1 A/AA rules (and its best practices) on the rendered page: no serious or
    critical violation. Moderate and minor ones (the theme's sidebar outside a landmark) are
    listed in the failure message of a failing run, not failed on."""
    violations = json.loads(rendered(page)[1]["axe"])
    serious = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert not serious, f"{page}: axe-core found:\n" + "\n".join(
        f"[{v['impact']}] {v['id']}: {v.get('help', '')}\n    " + "\n    ".join(v["nodes"])
        for v in violations)
