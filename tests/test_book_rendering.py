"""Do chapters 5-8 render as written: tables as tables, code a reader can read without
scrolling (79 characters, tests/test_book.py's column), no bookkeeping code shown? (tests/test_book.py checks the build, figures, math and
Chromium rendering of every page; these are the finer points issue 14 raised.)"""
import ast
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from myst_nb.core.read import read_myst_markdown_notebook

from test_book_leaks import build_dir, built_book  # noqa: F401 (fixtures: the built book to read)

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ["book/05_normalization", "book/06_backprop", "book/07_im2col", "book/08_fine_tuning"]
MAX_CODE_LINE = 79
# A Markdown table row that was not turned into a table: "| a | b |" or "|---|---|".
RAW_TABLE = re.compile(r"^\s*\|.*\|\s*$")


def code_cells(page):
    notebook = read_myst_markdown_notebook((ROOT / f"{page}.md").read_text())
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def tags(cell):
    return set(cell.metadata.get("tags", []))


@pytest.mark.parametrize("page", CHAPTERS)
def test_code_lines_fit_in_the_page(page):
    """Every line of every code cell a reader can open is at most 79 characters."""
    long = [(i, line) for i, cell in enumerate(code_cells(page)) if "remove-cell" not in tags(cell)
            for line in cell.source.splitlines() if len(line) > MAX_CODE_LINE]
    assert not long, f"{page}: code lines over {MAX_CODE_LINE} characters: {long}"


@pytest.mark.parametrize("page", CHAPTERS)
def test_glue_bookkeeping_is_not_shown(page):
    """glue(...) calls live in removed cells, not in code a reader sees."""
    shown = []
    for i, cell in enumerate(code_cells(page)):
        if "remove-cell" in tags(cell) or "remove-input" in tags(cell):
            continue
        tree = ast.parse(cell.source)
        shown += [(i, ast.unparse(node)) for node in ast.walk(tree) if isinstance(node, ast.Call)
                  and isinstance(node.func, ast.Name) and node.func.id == "glue"]
    assert not shown, f"{page}: glue calls in visible cells: {shown}"


def test_markdown_table_outputs_are_rendered_as_gfm():
    """A cell that displays a Markdown table must be rendered with GFM (chapter 8's tables)."""
    for page in CHAPTERS:
        for cell in code_cells(page):
            if "table(" in cell.source and "def table" not in cell.source:
                assert cell.metadata.get("mystnb", {}).get("markdown_format") == "gfm", (
                    f"{page}: a cell displays a table without markdown_format: gfm")


class _Text(HTMLParser):
    """The text of a page outside <pre> and <script>, one entry per text node."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.skip, self.chunks = 0, []

    def handle_starttag(self, tag, attrs):
        self.skip += tag in ("pre", "script", "style")

    def handle_endtag(self, tag):
        self.skip -= tag in ("pre", "script", "style") and self.skip > 0

    def handle_data(self, data):
        if not self.skip:
            self.chunks.append(data)


@pytest.mark.book
@pytest.mark.slow
@pytest.mark.parametrize("page", CHAPTERS)
def test_no_table_is_left_as_raw_text(build_dir, page):
    parser = _Text()
    parser.feed((build_dir / "html" / f"{page}.html").read_text(encoding="utf-8"))
    raw = [line for chunk in parser.chunks for line in chunk.splitlines() if RAW_TABLE.match(line)]
    assert not raw, f"{page} shows Markdown table rows as text: {raw[:3]}"
