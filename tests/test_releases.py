"""The student releases the book offers for download (book/releases/<id>.zip, written by
scripts/make_releases.py): up to date with what nbgrader makes from exercises/ today, holding
the release folder and nothing else, free of solutions and hidden tests, and linked from every
chapter's Exercise section (and, once the book is built, from its HTML page)."""
import ast
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from autograder.points import POINTS

ROOT = Path(__file__).resolve().parents[1]
RELEASES = ROOT / "book" / "releases"
HTML_DIR = ROOT / "_build" / "html"
BIN = Path(sys.executable).parent
from tasks import ASSIGNMENTS
SCRIPT = ROOT / "scripts" / "make_releases.py"
# What a notebook may import besides the standard library; the chapters promise exactly this.
STUDENT_PACKAGES = {"numpy", "scipy", "matplotlib"}
LEAKS = ("### BEGIN SOLUTION", "### END SOLUTION", "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")

def load_script():
    spec = importlib.util.spec_from_file_location("make_releases", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_releases = load_script()


def chapter_of(assignment):
    """book/NN_<topic>.md of assignment chNN_<topic>."""
    return ROOT / "book" / f"{assignment[2:]}.md"


def zip_of(assignment):
    return RELEASES / f"{assignment}.zip"


def read_zip(path):
    """{member name: bytes}, read with zipfile directly (not through the script)."""
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def notebook_in(assignment):
    return nbformat.reads(read_zip(zip_of(assignment))[f"{assignment}/{assignment}.ipynb"].decode(), as_version=4)


def leaks_in(nb):
    """What of the instructor's version a notebook still shows: markers and course imports."""
    found = [marker for cell in nb.cells for marker in LEAKS if marker in cell.source]
    for cell in nb.cells:
        if cell.cell_type == "code":
            found += [f"imports {m}" for m in imported_modules(cell.source) & {"solutions", "autograder"}]
    return found


def imported_modules(source):
    """Top-level names of the modules a cell's code imports (IPython magics skipped)."""
    code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
    names = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def exercise_section(assignment):
    text = chapter_of(assignment).read_text(encoding="utf-8")
    match = re.search(r"^## Exercise\n(.*?)(?=^## )", text, re.S | re.M)
    assert match, f"{chapter_of(assignment).name} has no '## Exercise' section followed by another section"
    return match.group(1)


# ---------------------------------------------------------------------------- fresh releases

@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """release/ as nbgrader generate_assignment writes it today, from a copy of the course."""
    root = tmp_path_factory.mktemp("course")
    shutil.copytree(ROOT / "exercises", root / "exercises")
    shutil.copy(ROOT / "nbgrader_config.py", root)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "NBGRADER_EXECUTION")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"     # nbgrader runs alembic
    done = subprocess.run([str(BIN / "nbgrader"), "generate_assignment", "*", "--force"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return root / "release"


def files_of(folder):
    """{"<folder name>/<relative path>": bytes} of every file under folder."""
    return {f"{folder.name}/{p.relative_to(folder).as_posix()}": p.read_bytes()
            for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
@pytest.mark.slow
@pytest.mark.nbgrader
def test_committed_zip_holds_what_nbgrader_releases_today(fresh, assignment):
    committed, today = read_zip(zip_of(assignment)), files_of(fresh / assignment)
    assert sorted(committed) == sorted(today), "member names differ: run python scripts/make_releases.py"
    changed = [name for name in today if committed[name] != today[name]]
    assert not changed, f"stale members {changed}: run python scripts/make_releases.py"


@pytest.mark.slow
@pytest.mark.nbgrader
def test_there_is_one_zip_per_released_assignment(fresh):
    assert sorted(p.stem for p in RELEASES.glob("*.zip")) == sorted(d.name for d in fresh.iterdir()) \
        == sorted(ASSIGNMENTS)


def rezip(members, path, order=sorted, date_time=(2024, 5, 6, 7, 8, 10)):
    """A zip of members written without the script's care: another order, another timestamp."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in order(members):
            archive.writestr(zipfile.ZipInfo(name, date_time=date_time), members[name])


@pytest.mark.slow
@pytest.mark.nbgrader
def test_check_names_exactly_the_stale_zips(tmp_path):
    """--check on a folder where one zip lost a member, one has an edited notebook, one is
    missing, one belongs to no assignment, and one only differs in timestamps and order."""
    out = tmp_path / "releases"
    shutil.copytree(RELEASES, out)
    lost, edited, missing, reordered = "ch01_motivation", "ch03_padding_stride", "ch05_normalization", "ch07_im2col"
    members = read_zip(out / f"{lost}.zip")
    del members[f"{lost}/fixtures.npz"]
    rezip(members, out / f"{lost}.zip")
    members = read_zip(out / f"{edited}.zip")
    members[f"{edited}/{edited}.ipynb"] = members[f"{edited}/{edited}.ipynb"].replace(b"raise NotImplementedError()", b"pass", 1)
    rezip(members, out / f"{edited}.zip")
    (out / f"{missing}.zip").unlink()
    shutil.copy(out / f"{lost}.zip", out / "ch09_extra.zip")
    rezip(read_zip(out / f"{reordered}.zip"), out / f"{reordered}.zip", order=lambda m: sorted(m, reverse=True))

    done = subprocess.run([sys.executable, str(SCRIPT), "--check", "--out", str(out)], capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 1, done.stdout + done.stderr
    named = set(re.findall(r"stale: .*?/(\w+)\.zip:", done.stderr))
    assert named == {lost, edited, missing, "ch09_extra"}, done.stderr


def test_zips_are_written_reproducibly(tmp_path):
    """Same members, written twice from files with different mtimes: identical bytes, with a
    fixed timestamp and sorted names."""
    folder = tmp_path / "ch00_demo"
    folder.mkdir()
    (folder / "ch00_demo.ipynb").write_text('{"cells": []}')
    (folder / "fixtures.npz").write_bytes(bytes(range(256)) * 10)
    make_releases.write_zip(make_releases.release_members(folder), tmp_path / "a.zip")
    os.utime(folder / "fixtures.npz", (1_000_000_000, 1_000_000_000))
    make_releases.write_zip(make_releases.release_members(folder), tmp_path / "b.zip")
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "a.zip") as archive:
        infos = archive.infolist()
    assert [i.filename for i in infos] == ["ch00_demo/ch00_demo.ipynb", "ch00_demo/fixtures.npz"]
    assert {i.date_time for i in infos} == {make_releases.EPOCH}


# ---------------------------------------------------------------------------- the zips' content

def data_files(assignment):
    """The files nbgrader copies next to the notebook: every non-notebook file of the source folder."""
    folder = ROOT / "exercises" / assignment
    return {p.name: p.read_bytes() for p in folder.iterdir()
            if p.is_file() and p.suffix not in (".ipynb", ".pyc")}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_zip_holds_exactly_the_notebook_and_its_data_files(assignment):
    members = read_zip(zip_of(assignment))
    data = data_files(assignment)
    assert "fixtures.npz" in data
    assert sorted(members) == sorted([f"{assignment}/{assignment}.ipynb"] + [f"{assignment}/{n}" for n in data])
    for name, content in data.items():
        assert members[f"{assignment}/{name}"] == content, f"{name} differs from exercises/{assignment}/{name}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_zipped_notebook_has_no_solutions_hidden_tests_or_course_imports(assignment):
    nb = notebook_in(assignment)
    assert leaks_in(nb) == []
    text = "\n".join(cell.source for cell in nb.cells)
    assert "autograder" not in text and "solutions." not in text


def test_leak_check_finds_what_the_source_notebook_holds():
    """The check above can fail: the instructor's notebook shows every kind of leak it looks for."""
    source = nbformat.read(str(ROOT / "exercises" / "ch02_convolution" / "ch02_convolution.ipynb"), as_version=4)
    found = set(leaks_in(source))
    assert {"### BEGIN SOLUTION", "### BEGIN HIDDEN TESTS"} <= found
    assert found & {"imports solutions", "imports autograder"}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_graded_function_is_a_stub_in_the_zipped_notebook(assignment):
    stubs = {cell.metadata.nbgrader.grade_id: cell.source for cell in notebook_in(assignment).cells
             if cell.metadata.get("nbgrader", {}).get("grade_id") in POINTS[assignment]}
    assert sorted(stubs) == sorted(POINTS[assignment])
    for name, source in stubs.items():
        assert source.rstrip().endswith("raise NotImplementedError()"), name


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_zipped_notebook_imports_only_numpy_scipy_matplotlib_and_the_standard_library(assignment):
    """What each chapter's Exercise section promises a student needs installed."""
    imported = set().union(*(imported_modules(c.source) for c in notebook_in(assignment).cells if c.cell_type == "code"))
    shipped = {Path(name).stem for name in read_zip(zip_of(assignment)) if name.endswith(".py")}
    assert shipped == {"compare"}
    assert imported - set(sys.stdlib_module_names) <= STUDENT_PACKAGES | shipped
    assert "numpy" in imported


MARKDOWN_LINK = re.compile(r"\]\(([^)\s]+)\)")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_link_in_the_released_notebook_works_outside_the_repository(assignment):
    """A student opens the notebook from the unzipped folder: a link is a web address or a file
    of the zip, never a path into the course's repository."""
    members = {name.split("/", 1)[1] for name in read_zip(zip_of(assignment))}
    for cell in notebook_in(assignment).cells:
        for target in MARKDOWN_LINK.findall(cell.source) if cell.cell_type == "markdown" else []:
            assert target.startswith(("https://", "http://", "#")) or target in members, \
                f"{assignment}: the link {target!r} does not resolve in the release"


# ---------------------------------------------------------------------------- the chapters' links

DOWNLOAD = re.compile(r"\{download\}`[^`<]*<([^>`]+)>`")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_exercise_section_links_its_zip(assignment):
    """Sphinx resolves a relative {download} path from the page's folder (book/)."""
    targets = DOWNLOAD.findall(exercise_section(assignment))
    assert len(targets) == 1, f"{chapter_of(assignment).name}: {len(targets)} download links in its Exercise section"
    assert (chapter_of(assignment).parent / targets[0]).resolve() == zip_of(assignment).resolve()


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_exercise_section_names_what_the_zip_holds_and_how_to_start(assignment):
    section = " ".join(exercise_section(assignment).split())
    for name in read_zip(zip_of(assignment)):
        assert f"`{name.split('/', 1)[1]}`" in section, f"{name} is not named in the Exercise section"
    for step in ("setup cell", "`raise NotImplementedError()`", "check cell", "numpy, scipy and matplotlib"):
        assert step in section, f"the Exercise section does not mention {step}"


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.downloads = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and "download" in attrs.get("class", "").split():
            self.downloads.append(attrs["href"])


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_built_chapter_page_offers_its_zip(assignment):
    """Checks the HTML of the last book build (tests/test_book.py builds it)."""
    page = HTML_DIR / "book" / f"{assignment[2:]}.html"
    if not page.exists():
        pytest.skip(f"the book is not built ({page} is missing): run jupyter-book build or tests/test_book.py")
    links = _Links()
    links.feed(page.read_text(encoding="utf-8"))
    hrefs = [h for h in links.downloads if h.endswith(f"/{assignment}.zip")]
    assert len(hrefs) == 1, f"{page.name} download links: {links.downloads}"
    target = (page.parent / hrefs[0]).resolve()
    assert target.parent.parent == (HTML_DIR / "_downloads").resolve()
    assert target.exists(), f"{hrefs[0]} of {page.name} is not in the built book"
    assert read_zip(target) == read_zip(zip_of(assignment)), f"{target} is older than {zip_of(assignment)}: rebuild the book"
