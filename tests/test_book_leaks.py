"""Does anything the book publishes hold the answer to a graded function?

tests/test_book.py looks for the reference's own lines in the code blocks of the rendered
HTML. That misses two roads. A cell tagged `remove-input` is not in the HTML, but its code is
in everything else the build publishes: the page's download button (`_sources/book/*.md`),
the executed notebooks under `_build/jupyter_execute`, and the files in `_downloads`. And an
answer need not be the reference's text: any function that computes what a graded function
computes is one (chapter 6 once hid a complete `conv_backward_naive` written with scipy).

So these tests read every code cell (and every printed output) of every file the build
publishes and look for three things:

- a distinctive line of a graded function's body (test_book's detector);
- a function defined under a graded function's name;
- a function that *behaves* like a graded function: run on that function's visible examples
  (from tasks/), it returns the reference's results. The graded function itself is replaced
  by a stub while the candidate runs, so a demo that calls the reference as a black box (which
  the book may do) is not an answer; a function that computes the result itself is.

The built-book tests use the repository's `_build` (built by tests/test_book.py's fixture),
or the `_build` folder named by COURSE_BOOK_BUILD, for example a build made with
`jupyter-book build --path-output /tmp/book .`:

    COURSE_BOOK_BUILD=/tmp/book/_build python -m pytest tests/test_book_leaks.py
"""
import ast
import contextlib
import importlib
import inspect
import io
import json
import os
import re
import signal
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import nbformat
import numpy as np
import pytest
from myst_nb.core.read import read_myst_markdown_notebook

import solutions
import tasks
from test_book import PAGES, body_lines, built_book, graded_functions, leaked_lines  # noqa: F401 (fixture)

ROOT = Path(__file__).resolve().parents[1]
CALL_SECONDS = 5          # a candidate that runs longer on a small example is not an answer


# ---------------------------------------------------------------------------- reading files

@dataclass
class Document:
    """The code cells and the printed outputs of one published file (or one member of a zip)."""
    name: str
    cells: list
    outputs: list


def _notebook_document(name, notebook):
    cells = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    outputs = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if "text" in output:
                outputs.append(output["text"])
            for value in output.get("data", {}).values():
                if isinstance(value, str):
                    outputs.append(value)
    return Document(name, cells, outputs)


def read_documents(path, name=None):
    """The Documents in one file: a MyST or plain Markdown page, a notebook, a .py file or a zip."""
    path, name = Path(path), name or str(path)
    suffix = path.suffix
    if suffix == ".zip":
        documents = []
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                if member.endswith((".ipynb", ".md", ".py")):
                    documents += _read_text_document(f"{name}!{member}", Path(member).suffix,
                                                     archive.read(member).decode("utf-8", "replace"))
        return documents
    if suffix in (".ipynb", ".md", ".py", ".txt"):
        return _read_text_document(name, suffix, path.read_text(encoding="utf-8", errors="replace"))
    return []


FENCE = re.compile(r"^(```+|~~~+)[^\n]*\n(.*?)^\1\s*$", re.S | re.M)


def _read_text_document(name, suffix, text):
    if suffix == ".py":
        return [Document(name, [text], [])]
    if suffix == ".ipynb":
        return [_notebook_document(name, nbformat.reads(text, as_version=4))]
    # A page source: a MyST notebook keeps its cells in {code-cell} blocks; fenced code in its
    # Markdown (```python ... ```) is code a reader sees as well.
    if "{code-cell}" in text:
        document = _notebook_document(name, read_myst_markdown_notebook(text))
        markdown = "\n".join(c.source for c in read_myst_markdown_notebook(text).cells if c.cell_type == "markdown")
    else:
        document, markdown = Document(name, [], []), text
    document.outputs += [m.group(2) for m in FENCE.finditer(markdown)]
    return [document]


def published_files(build_dir):
    """{kind: [paths]} of what a build publishes besides the rendered HTML."""
    html = build_dir / "html"
    return {
        "page sources (the download button)": sorted(p for p in (html / "_sources").rglob("*") if p.is_file()),
        "download files": sorted(p for p in (html / "_downloads").rglob("*") if p.is_file()),
        "executed notebooks": sorted((build_dir / "jupyter_execute").rglob("*.ipynb")),
    }


# ---------------------------------------------------------------------------- the graded functions

@dataclass
class GradedProbe:
    name: str
    reference: object
    parameters: list             # the signature's parameter names, in order
    examples: list               # builders rng -> positional args


# Graded functions whose visible check is custom code (a callable input) get a probe here.
EXTRA_EXAMPLES = {
    "numerical_gradient": [lambda r: (np.tanh, r.standard_normal((2, 3)), r.standard_normal((2, 3)))],
}


def graded_probes():
    """Every graded function of every assignment that has a reference, with its visible examples."""
    probes = []
    for assignment in tasks.ASSIGNMENTS:
        for task in tasks.load(assignment).graded:
            reference = getattr(solutions, task.name, None)
            if reference is None:                    # graded by outcome (fine_tune): no function to copy
                continue
            examples = [e.args for e in task.examples if not e.invalid] + EXTRA_EXAMPLES.get(task.name, [])
            if examples:
                probes.append(GradedProbe(task.name, reference, task.parameters, examples))
    return probes


# ---------------------------------------------------------------------------- the detectors

def _parse(source):
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return None


def defined_functions(cells):
    """(import statements, [(name, source of a def or lambda)]) of the cells' top level."""
    imports, functions = [], []
    for source in cells:
        tree = _parse(source)
        if tree is None:
            continue
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                imports.append(ast.unparse(node))
            elif isinstance(node, ast.FunctionDef):
                functions.append((node.name, ast.unparse(node)))
            elif (isinstance(node, ast.Assign) and isinstance(node.value, ast.Lambda)
                  and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
                functions.append((node.targets[0].id, ast.unparse(node)))
    return imports, functions


def is_stub(source):
    """Is this def only a signature, a docstring and `raise NotImplementedError` (or pass)?

    The student notebooks the book offers for download define every graded function that way.
    """
    node = ast.parse(source).body[0]
    if not isinstance(node, ast.FunctionDef):
        return False
    body = [s for s in node.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    return all(isinstance(s, ast.Pass) or (isinstance(s, ast.Raise) and "NotImplementedError" in ast.unparse(s))
               for s in body)


@contextlib.contextmanager
def _time_limit(seconds):
    def expire(signum, frame):
        raise TimeoutError
    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _quiet_call(fn, *args, **kwargs):
    """fn(*args, **kwargs), or None if it raises, prints a warning-as-error or runs too long."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            with _time_limit(CALL_SECONDS):
                return fn(*args, **kwargs)
        except BaseException as error:             # noqa: BLE001 - any failure means "not an answer"
            if isinstance(error, (KeyboardInterrupt, SystemExit)):
                raise
            return None


def _arrays(value):
    if isinstance(value, (tuple, list)):
        return [np.asarray(v) for v in value]
    return [np.asarray(value)]


def same_result(got, want):
    if got is None:
        return False
    try:
        got, want = _arrays(got), _arrays(want)
        return len(got) == len(want) and all(
            g.shape == w.shape and np.issubdtype(g.dtype, np.number) and np.issubdtype(w.dtype, np.number)
            and np.allclose(g, w, rtol=1e-6, atol=1e-9, equal_nan=True) for g, w in zip(got, want))
    except (TypeError, ValueError):
        return False


def _call_plan(candidate, probe, args):
    """How to call candidate on one example: (args, kwargs), or None if it cannot take the example.

    By name: the candidate's parameters must be among the graded function's; a graded argument
    it cannot take may be left out only if the reference's result does not depend on it. By
    position: a candidate with as many positional parameters as the graded function has.
    """
    try:
        params = inspect.signature(candidate).parameters
    except (TypeError, ValueError):
        return None
    reference_signature = inspect.signature(probe.reference)
    given = dict(zip(probe.parameters, args))
    defaults = {k: p.default for k, p in reference_signature.parameters.items()
                if p.default is not inspect.Parameter.empty}
    values = {**defaults, **given}
    accepts_any = any(p.kind == p.VAR_KEYWORD for p in params.values())
    kwargs, possible = {}, True
    for name, p in params.items():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if name in values:
            kwargs[name] = values[name]
        elif p.default is inspect.Parameter.empty:
            possible = False
            break
    if possible and not accepts_any:
        for name in set(given) - set(kwargs):
            if not _irrelevant(probe, args, name, defaults):
                possible = False
                break
    if possible:
        return (), kwargs
    positional = [p for p in params.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(positional) == len(probe.parameters) and len(args) <= len(positional):
        return tuple(values[name] for name in probe.parameters if name in values), {}
    return None


def _irrelevant(probe, args, name, defaults):
    """Does the reference's result stay the same when argument `name` changes?"""
    given = dict(zip(probe.parameters, args))
    changed = dict(given)
    value = given[name]
    if name in defaults:
        changed[name] = defaults[name]
        if not isinstance(value, np.ndarray) and value == defaults[name]:
            return True
    elif isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.number):
        changed[name] = value + 1.0
    else:
        return False
    want = _quiet_call(probe.reference, *[given[p] for p in probe.parameters if p in given])
    other = _quiet_call(probe.reference, *[changed[p] for p in probe.parameters if p in changed])
    return want is not None and same_result(other, want)


def behaves_like(candidate, probe, namespace):
    """Does candidate return the reference's result on every visible example of the probe?

    While it runs, every name in its namespace bound to the graded function is a stub that
    raises: a candidate that merely calls the reference is not an answer.
    """
    def stub(*args, **kwargs):
        raise RuntimeError(f"{probe.name} called")

    aliases = [k for k, v in namespace.items() if v is probe.reference]
    for k in aliases:
        namespace[k] = stub
    try:
        for builder in probe.examples:
            args = builder(np.random.default_rng(0))
            plan = _call_plan(candidate, probe, args)
            if plan is None:
                return False
            want = _quiet_call(probe.reference, *builder(np.random.default_rng(0)))
            fresh = builder(np.random.default_rng(0))
            plan_args, plan_kwargs = _call_plan(candidate, probe, fresh)
            if want is None or not same_result(_quiet_call(candidate, *plan_args, **plan_kwargs), want):
                return False
        return True
    finally:
        for k in aliases:
            namespace[k] = probe.reference


def answers_in(document, probes, graded=None):
    """Every answer found in a Document: [(document name, what, graded function)]."""
    graded = graded_functions() if graded is None else graded
    found = []
    lines = {}
    for name, line in leaked_lines(document.cells + document.outputs, graded):
        lines.setdefault(name, []).append(line)
    for name, shown in lines.items():
        # One generic line (a padding call two functions share) is not a body; two lines are,
        # and so is the only distinctive line of a one-line function.
        if len(shown) >= min(2, len(body_lines(graded[name]))):
            found += [(document.name, f"the line {line!r}", name) for line in shown]
    imports, functions = defined_functions(document.cells)
    graded_names = {p.name for p in probes} | set(graded)
    found += [(document.name, f"def {name}", name) for name, source in functions
              if name in graded_names and not is_stub(source)]
    if not functions:
        return found
    namespace = {"__name__": "published_cell"}
    for statement in imports:
        _quiet_exec(statement, namespace)
    for name, source in functions:
        if _quiet_exec(source, namespace) and callable(namespace.get(name)):
            candidate = namespace[name]
            for probe in probes:
                if candidate is not probe.reference and behaves_like(candidate, probe, namespace):
                    found.append((document.name, f"function {name}() computes it", probe.name))
    return found


def _quiet_exec(source, namespace):
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        try:
            exec(compile(source, "<published cell>", "exec"), namespace)
            return True
        except Exception:                                   # noqa: BLE001 - a cell that cannot run here
            return False


@pytest.fixture(scope="module")
def probes():
    return graded_probes()


# ---------------------------------------------------------------------------- the detectors work

ANSWER_WRITTEN_ANEW = '''
import numpy as np


def my_transposed_conv(x, w, stride=1, pad=0):
    """Written from scratch, shares no line with the reference."""
    n, c, h, wd = x.shape
    _, f, kh, kw = w.shape
    out = np.zeros((n, f, (h - 1) * stride + kh, (wd - 1) * stride + kw))
    for i in range(h):
        for j in range(wd):
            out[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw] += np.einsum(
                "nc,cfab->nfab", x[:, :, i, j], w)
    return out[:, :, pad:out.shape[2] - pad, pad:out.shape[3] - pad]
'''

BLACK_BOX_DEMO = '''
from solutions import conv_transpose_forward


def upsample(x, w, stride=1, pad=0):
    """Calls the reference: a demo, not an answer."""
    return conv_transpose_forward(x, w, stride, pad)
'''


def test_behaviour_detector_finds_an_answer_written_without_any_line_of_the_reference(probes):
    """Would the leak test notice a cell that computes a graded function in its own words?"""
    found = answers_in(Document("synthetic.md", [ANSWER_WRITTEN_ANEW], []), probes)
    assert [(what, name) for _, what, name in found] == [
        ("function my_transposed_conv() computes it", "conv_transpose_forward")]


def test_behaviour_detector_lets_a_demo_call_the_reference(probes):
    assert answers_in(Document("synthetic.md", [BLACK_BOX_DEMO], []), probes) == []


def test_a_function_named_like_a_graded_one_is_reported_unless_it_is_a_stub(probes):
    body = "def conv_backward_naive(dout, x, w, b, stride=1, pad=0):\n    return dout, x, w\n"
    stub = 'def conv_backward_naive(dout, x, w, b, stride=1, pad=0):\n    """doc"""\n    raise NotImplementedError()\n'
    found = answers_in(Document("synthetic.md", [body], []), probes)
    assert ("synthetic.md", "def conv_backward_naive", "conv_backward_naive") in found
    assert answers_in(Document("synthetic.md", [stub], []), probes) == []


def test_one_generic_line_is_not_a_body_but_two_lines_are():
    graded = graded_functions()
    lines = sorted(body_lines(graded["conv_backward_naive"]))
    one = answers_in(Document("synthetic.md", ["\n".join(lines[:1])], []), [], graded)
    two = answers_in(Document("synthetic.md", ["\n".join(lines[:2])], []), [], graded)
    assert {name for _, _, name in one} <= {"dilate"} and "conv_backward_naive" in {name for _, _, name in two}


def test_hidden_cells_of_a_page_source_are_read(tmp_path, probes):
    """A remove-input cell is in the page's source, and in what the detectors read."""
    page = tmp_path / "page.md"
    page.write_text("---\njupytext:\n  text_representation:\n    format_name: myst\n---\n\n# Page\n\n"
                    "```{code-cell} ipython3\n:tags: [remove-input]\n\n" + ANSWER_WRITTEN_ANEW.strip()
                    + "\n```\n")
    (document,) = read_documents(page)
    assert [name for _, _, name in answers_in(document, probes)] == ["conv_transpose_forward"]


def test_every_graded_function_is_probed_or_has_lines_to_look_for(probes):
    probed = {p.name for p in probes}
    uncovered = [name for name, func in graded_functions().items() if name not in probed and not body_lines(func)]
    assert not uncovered, f"neither examples nor distinctive lines for: {uncovered}"
    assert len(probed) >= 0.9 * len(graded_functions())


# ---------------------------------------------------------------------------- the book's sources

@pytest.mark.parametrize("page", PAGES)
def test_page_source_holds_no_answer(page, probes):
    """Every cell of the page, hidden or not, as the download button serves it."""
    (document,) = read_documents(ROOT / f"{page}.md", name=f"{page}.md")
    found = answers_in(document, probes)
    assert not found, f"{page}.md publishes answers: {found}"


# ---------------------------------------------------------------------------- the built book

@pytest.fixture(scope="module")
def build_dir(request):
    """A built book's _build folder: COURSE_BOOK_BUILD's, or the repository's, built now."""
    named = os.environ.get("COURSE_BOOK_BUILD")
    if named:
        path = Path(named)
        assert (path / "html").is_dir(), f"COURSE_BOOK_BUILD={named} holds no html/ folder"
        return path
    returncode, log = request.getfixturevalue("built_book")
    assert returncode == 0, f"the book did not build:\n{log[-3000:]}"
    return ROOT / "_build"


KINDS = ["page sources (the download button)", "download files", "executed notebooks"]


@pytest.mark.book
@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_built_book_publishes_no_answer(build_dir, kind, probes):
    files = published_files(build_dir)[kind]
    assert files, f"the build at {build_dir} has no {kind}"
    found = []
    for path in files:
        for document in read_documents(path, name=str(path.relative_to(build_dir))):
            found += answers_in(document, probes)
    assert not found, f"{kind} publish answers:\n" + "\n".join(map(str, found))


@pytest.mark.book
@pytest.mark.slow
def test_built_book_publishes_every_chapter_source_and_notebook(build_dir):
    """The files the leak test reads are really there: a moved folder would make it pass vacuously."""
    names = {p.name for kind in KINDS for p in published_files(build_dir)[kind]}
    for page in PAGES:
        stem = Path(page).name
        assert f"{stem}.md" in names, f"{stem}.md is not among the published sources"
        if page != "book/bibliography" and "{code-cell}" in (ROOT / f"{page}.md").read_text():
            assert f"{stem}.ipynb" in names, f"no executed notebook of {stem}"
