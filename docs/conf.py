"""Sphinx configuration for the offline jeans_nbdev docs site.

Used by `python tools/build_docs.py` as `sphinx-build -c docs <converted notebooks> _site`: the sources are
the notebooks that nbdev has processed (nbdev's proc_nbs: show_doc API reference, hide directives) and that
tools/build_docs.py has converted from Quarto conventions to MyST-NB ones.  Nothing here needs the internet:
stored outputs are rendered (no execution), MathJax is served from the site itself (sphinx-mathjax-offline),
the search index is Sphinx's own, and every asset of the theme is bundled.
"""
import configparser
from pathlib import Path

_ini = configparser.ConfigParser()
_ini.read(Path(__file__).resolve().parents[1] / "settings.ini")
_cfg = _ini["DEFAULT"]

project = _cfg["lib_name"]
author = _cfg["author"]
copyright = _cfg["copyright"]
release = version = _cfg["version"]

extensions = [
    "myst_nb",  # notebooks (stored outputs) and MyST markdown
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # copies MathJax 3 into _static/mathjax and points mathjax_path at it
]

root_doc = "index"
exclude_patterns = ["_build", "**.ipynb_checkpoints", "_*"]
source_suffix = {".ipynb": "myst-nb", ".md": "myst-nb"}

# --- notebooks: render what is stored, never execute (notebooks are committed with outputs)
nb_execution_mode = "off"
nb_render_markdown_format = "myst"  # text/markdown outputs (e.g. show_doc) may hold math and tables
nb_ipywidgets_js = {}  # no require.js / widget manager from a CDN; widget views are dropped at conversion
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist", "html_image", "attrs_inline"]
myst_dmath_double_inline = True
myst_heading_anchors = 4

# Stored outputs of an nbdev notebook are of every kind; headings start at level 2 in notebooks whose title
# lives in the front matter, and MathJax's own fonts are fine: keep the build log quiet about those.
suppress_warnings = ["myst.header", "mystnb.unknown_mime_type", "misc.highlighting_failure"]

# --- HTML: sphinx-book-theme (pydata-sphinx-theme), all assets bundled
html_theme = "sphinx_book_theme"
html_title = project
html_static_path = ["_static"]
templates_path = ["_templates"]  # layout.html: a per-page class on <body> (jn-page-index ...) for the CSS
html_css_files = ["jeans_nbdev.css"]
html_copy_source = False
html_show_sourcelink = False
html_last_updated_fmt = None
html_theme_options = {
    "repository_url": _cfg["git_url"],
    "use_repository_button": False,
    "use_download_button": False,
    "use_fullscreen_button": False,
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "home_page_in_toc": True,
    "search_bar_text": "Search the docs ...",
    # pydata-sphinx-theme puts a second search button in a header bar unless navbar_persistent is given: one
    # search box (the sidebar's) is enough, and without items the header bar is not drawn at all
    "navbar_persistent": [],
    # the landing page has no right-hand contents column: its article gets the width to show the main command
    # on one line (docs/_static/jeans_nbdev.css widens it); every other page keeps its contents column
    "secondary_sidebar_items": {"**": ["page-toc.html"], "index": []},
}
nb_code_prompt_show = "Show code cell {type} (checks)"  # build_docs collapses the cells that hold checks
