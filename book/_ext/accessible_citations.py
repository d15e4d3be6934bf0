"""Sphinx extension: give the bibliography's list the ARIA roles WCAG checkers expect.

docutils writes the citation list as <div role="list"> whose entries carry
role="doc-biblioentry", a role ARIA 1.3 deprecates and that is not a list item: axe-core
reports "aria-required-children" (critical) for the list, and screen readers announce an empty
list. Each entry becomes role="listitem", which is what it is. tests/test_book.py runs axe-core
on every page.
"""
import re

_ENTRY = re.compile(r'(<div class="citation" id="[^"]*") role="doc-biblioentry"')


def _entries_as_list_items(app, pagename, templatename, context, doctree):
    body = context.get("body")
    if isinstance(body, str) and "doc-biblioentry" in body:
        context["body"] = _ENTRY.sub(r'\1 role="listitem"', body)


def setup(app):
    app.connect("html-page-context", _entries_as_list_items)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
