"""Sphinx extension: drop repeated inline <script> blocks from every HTML page.

Sphinx 7.4's HTML builder can hold an extension's inline script (add_js_file(None, body=...))
twice: once under the name None, as added, and once under the name '', when it re-reads its
registry; _JavaScript equality then sees two different files. A repeated `var` is harmless,
but sphinx-thebe's `const THEBE_JS_URL = ...` throws "Identifier 'THEBE_JS_URL' has already
been declared" in every page. tests/test_book.py's browser test reports such errors.
"""


def _drop_repeated_inline_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    seen, unique = set(), []
    for script in scripts:
        if getattr(script, "filename", None):
            unique.append(script)            # file scripts are deduplicated by Sphinx itself
            continue
        key = tuple(sorted((k, str(v)) for k, v in getattr(script, "attributes", {}).items()))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique        # a new list: Sphinx restores its own per page


def setup(app):
    app.connect("html-page-context", _drop_repeated_inline_scripts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
