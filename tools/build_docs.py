"""Build the jeans_nbdev docs site offline, without Quarto: `python tools/build_docs.py` -> _site/index.html

1. nbdev's own processing (its FilterDefaults processors, what `nbdev_proc_nbs` runs on each notebook): every
   notebook under nbs/ goes to _proc/ with `#| hide`/`#| export` cells removed, `show_doc` API reference
   inserted after the exported definitions, backticked names linked, and the title moved into front matter.
   (The `nbdev_proc_nbs` command itself first tries to install Quarto, pip-installs the package, and writes
   _quarto.yml/nbdev.yml/sidebar.yml into nbs/: running the processors directly does only the processing.)
   One difference, unless --strict_nbdev: a cell that mixes imports with other code runs only its imports
   (nbdev would re-run the whole cell, repeating a notebook's heavy checks at docs time).
2. Conversion of the processed notebooks from Quarto conventions to MyST-NB ones (into _docs/): the front
   matter becomes a `# Title` + summary cell, `show_doc` outputs become markdown cells (real headings with
   nbdev's anchors, so they appear in the page table of contents), `#| echo: false` / `#| output: false` /
   `#| include: false` become MyST-NB tags, keys that break converters (`has_sd`, float
   `metadata.execution`) and widget state (which would pull a widget manager from a CDN) are dropped.
   Pages are named as nbdev names them (`output-file`, e.g. 05_velocity.ipynb -> velocity.html), and the
   navigation follows notebook order (index first).  What the pages show beyond nbdev's conventions:
   - check cells (`is_check_cell`: assert, assert_allclose, TOL_ tolerances, test_eq, raises) keep their outputs
     but their source is collapsed behind a toggle (`hide-input`); the notebooks keep them as they are;
   - image outputs get an alt text: the cell's `#| fig-alt:` (or `#| fig-cap:`, also the caption) directive,
     else the page title, the section heading above the cell and the calls that draw it (`figure_alt`);
   - a widget output shows its static fallback (e.g. `explore.Explorer`'s images of every view) or a note that
     the widget needs a kernel, never its text repr (`_drop_widget_views`);
   - show_doc signatures wrap (class jn-signature), and so does every code block of the landing page;
   - images that the landing page names relative to the repository root (as README.md needs) are copied in.
3. Sphinx + MyST-NB + sphinx-book-theme (config in docs/conf.py, layout fixes in docs/_static/jeans_nbdev.css,
   a per-page <body> class from docs/_templates/layout.html) renders the stored outputs (nothing is
   re-executed) into _site/, with Sphinx's own search and MathJax served from _site/_static/mathjax.
4. Links that nbdev points at the published doc host become relative links within the site, and the
   output is checked to load nothing from the internet.

Options: --site DIR (default _site), --src DIR (default _docs), --force (re-process every notebook),
--n_workers N (nbdev processing workers, default 2), --strict_nbdev.  Look at the result with
`python -m http.server -d _site 8000` and http://127.0.0.1:8000 ; tests/test_docs.py checks it in chromium.
"""
from __future__ import annotations

import argparse
import configparser
import copy
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT / "nbs"
PROC = ROOT / "_proc"
CONF_DIR = ROOT / "docs"


def _settings() -> configparser.SectionProxy:
    ini = configparser.ConfigParser()
    ini.read(ROOT / "settings.ini")
    return ini["DEFAULT"]


def doc_url() -> str:
    "The published docs URL nbdev writes into doc links (doc_host + doc_baseurl), with a trailing slash."
    s = _settings()
    return s["doc_host"].rstrip("/") + "/" + s.get("doc_baseurl", "").strip("/") + "/"


def notebooks(nbs: Path = NBS) -> list[Path]:
    "Notebooks nbdev documents (its nbglob rule: no file or folder starting with _ or .), index first."
    found = [p for p in nbs.rglob("*.ipynb")
             if not any(part.startswith(("_", ".")) for part in p.relative_to(nbs).parts)]
    return sorted(found, key=lambda p: (p.relative_to(nbs).as_posix() != "index.ipynb", p.relative_to(nbs).as_posix()))


# ---------------------------------------------------------------------------------------------- 1. nbdev
_PROC_ONE = r"""import ast, sys, time
from pathlib import Path
import nbdev.processors as P
from nbdev.serve_drv import main

if sys.argv[1] == "imports-only":
    # nbdev executes, at docs time, every cell that contains an import, whatever else it holds.  A cell
    # that mixes imports with other work (a check, a fit) would then re-run that work here, and fail when
    # it needs names from cells that nbdev does not run.  Run only the import statements of such a cell and
    # keep its stored outputs; exported, exec_doc and show_doc cells run as nbdev runs them.
    _orig = P.exec_show_docs.__call__
    def _imports_of(cell):
        if cell.cell_type != "code" or P.cell_lang(cell) != "python" or not cell.source: return None
        if cell.directives_.keys() & {"export", "exports", "exporti", "exec_doc"}: return None
        if cell.directives_.get("eval:", [""])[0].lower() == "false": return None
        trees = cell.parsed_()
        if not trees or P._show_docs(trees) or not P._ast_contains(trees, (ast.Import, ast.ImportFrom)): return None
        imps = [t for t in trees if isinstance(t, (ast.Import, ast.ImportFrom))]
        return None if len(imps) == len(trees) else "\n".join(ast.unparse(t) for t in imps)
    def _call(self, cell):
        imps = _imports_of(cell)
        if imps is None: return _orig(self, cell)
        if not self.nb.has_docs_ or not hasattr(self, "k"): return
        self.k.run(imps)
        if self.k.exc: raise Exception(f"Error in the imports of cell {cell.idx_}:\n{imps}") from self.k.exc
    P.exec_show_docs.__call__ = _call

args = sys.argv[3:]
for src, dst in zip(args[::2], args[1::2]):  # one interpreter for several notebooks, as nbdev's workers
    t = time.time()
    try:
        main((Path(src), Path(dst), P.FilterDefaults))
    except BaseException:
        Path(dst).unlink(missing_ok=True)
        print(f"build_docs: nbdev processing failed on {src}", file=sys.stderr, flush=True)
        raise
    print(f"build_docs: nbdev processed {Path(src).relative_to(Path(sys.argv[2]))} in {time.time() - t:.1f} s"
          + ("  <- slow: heavy work in a cell that imports?" if time.time() - t > 60 else ""), flush=True)
"""


def _proc_some(pairs: list[tuple[Path, Path]], strict: bool) -> None:
    "nbdev's processing of some notebooks in one fresh interpreter (as one of nbdev_proc_nbs's workers)."
    if not pairs:
        return
    args = [str(x) for pair in pairs for x in pair]
    r = subprocess.run([sys.executable, "-c", _PROC_ONE, "strict" if strict else "imports-only", str(ROOT), *args],
                       cwd=ROOT, stderr=subprocess.PIPE, text=True)
    if r.returncode:
        raise RuntimeError(r.stderr[-4000:])


def run_nbdev_processing(nbs: list[Path], n_workers: int, force: bool, strict: bool = False) -> None:
    """nbdev's notebook processing (show_doc, hide, links, front matter) from nbs/ into _proc/.

    Like `nbdev.serve.proc_nbs` (same processors, same _proc/ cache rule: a notebook is redone when it is
    newer than its processed copy or settings.ini is), but on the list of notebooks taken once at the start
    of the build, with the time of each notebook reported.  nbdev runs every cell that contains an import;
    unless `strict`, a cell that mixes imports with other code runs only its imports (see _PROC_ONE), so
    the docs build does not repeat a notebook's checks and fits.  The cache does not know the mode: use
    --force after switching."""
    from concurrent.futures import ThreadPoolExecutor
    PROC.mkdir(exist_ok=True)
    floor = (ROOT / "settings.ini").stat().st_mtime
    todo = []
    for p in nbs:
        d = PROC / p.relative_to(NBS)
        if force or not d.exists() or d.stat().st_mtime < max(p.stat().st_mtime, floor):
            d.parent.mkdir(parents=True, exist_ok=True)
            todo.append((p, d))
    if not todo:
        return
    n = max(1, min(n_workers, len(todo)))
    todo.sort(key=lambda pd: -pd[0].stat().st_size)  # biggest first, dealt round-robin to the workers
    with ThreadPoolExecutor(max_workers=n) as ex:
        futs = [ex.submit(_proc_some, todo[i::n], strict) for i in range(n)]
        errors = [str(e) for f in futs if (e := f.exception())]
    if errors:
        raise SystemExit("build_docs: nbdev processing failed:\n" + "\n".join(errors))


# ---------------------------------------------------------------------------------------------- 2. convert
_re_dir = re.compile(r"^\s*#\|\s*(.*?)\s*$")
_re_link_attrs = re.compile(r"(\]\([^)\s]*\))\{[^}\n]*\}")  # Quarto link attributes: [x](u){target=...}
_re_source_link = re.compile(r"\[source\]\(([^)\s]+)\)\{[^}\n]*\}")
_re_sd_heading = re.compile(r"^(#{2,5})\s+(\S+)\s*$", re.MULTILINE)
_re_nb_link = re.compile(r"(\]\()(?![a-z][a-z0-9+.-]*:)([^)#\s]+?)\.ipynb((?:#[^)\s]*)?\))")
_WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
_IMG_MIME = ("image/png", "image/jpeg", "image/svg+xml", "image/gif")
_ASSET_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".pdf"}
_re_callout = re.compile(r"^(:{3,})\s*\{\.callout-(note|tip|warning|important|caution)[^}]*\}\s*$", re.MULTILINE)


def _markdown(src: str, stem_of: dict[str, str]) -> str:
    "Quarto markdown -> MyST: links to notebooks point at their pages, callouts become admonitions."
    src = _re_nb_link.sub(lambda m: m.group(1) + stem_of.get(m.group(2), m.group(2)) + ".ipynb" + m.group(3), src)
    return _re_callout.sub(lambda m: f"{m.group(1)}{{{m.group(2)}}}", src)


def _src(cell: dict) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


def _directives(src: str) -> tuple[dict, str]:
    "Leading `#| key: value` lines -> ({key: value}, remaining source); `#| word` gives {word: ''}."
    lines, d = src.splitlines(), {}
    i = 0
    while i < len(lines) and (m := _re_dir.match(lines[i])):
        k, _, v = m.group(1).partition(":")
        d[k.strip()] = v.strip().strip("\"'")
        i += 1
    return d, "\n".join(lines[i:]).strip("\n")


def _front_matter(cell: dict) -> dict | None:
    import yaml
    src = _src(cell).strip()
    if cell["cell_type"] != "raw" or not src.startswith("---"):
        return None
    body = src.strip("-").strip()
    try:
        fm = yaml.safe_load(body)
    except yaml.YAMLError:
        return None
    return fm if isinstance(fm, dict) else None


def _md_cell(text: str) -> dict:
    return {"cell_type": "markdown", "id": hashlib.sha1(text.encode()).hexdigest()[:8], "metadata": {}, "source": text}


def _show_doc_markdown(text: str) -> str:
    "show_doc's Quarto markdown -> MyST: source link as a right-floated link, nbdev's anchor before each heading."
    text = _re_source_link.sub(r'<a class="jn-source-link reference external" href="\1">source</a>', text)
    text = _re_link_attrs.sub(r"\1", text)
    text = re.sub(r"^\s*---\s*\n", "", text)  # leading rule: a section may not start with a transition
    # the signature block wraps its long lines (class jn-signature, docs/_static/jeans_nbdev.css); nbdev links the
    # backticked names of the parameter comments as markdown, which a code block would show raw: plain names there
    m = re.search(r"^```python\s*\n(.*?)^```", text, flags=re.M | re.S)
    if m:
        sig = re.sub(r"\[`?([^\]`]+?)`?\]\([^)\s]*\)", r"\1", m.group(1))
        text = text[:m.start()] + "```{code-block} python\n:class: jn-signature\n\n" + sig + "```" + text[m.end():]
    return _re_sd_heading.sub(lambda m: f'<a id="{m.group(2).lower()}"></a>\n\n{m.group(1)} {m.group(2)}', text)


def _md_outputs(cell: dict) -> str:
    return "\n\n".join(_src({"source": o["data"]["text/markdown"]}) for o in cell.get("outputs", [])
                       if "text/markdown" in o.get("data", {}))


# A check line: an assert statement or assert_* call, a tolerance (TOL, TOL_X), a fastcore test_* call, a raises block.
_re_check = re.compile(r"\b[Aa]ssert\w*\b|\bTOL\w*\b|\btest_(?:eq|ne|close|fail|is|warns|stdout|shuffled)\b|\braises\(")
_re_heading = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$", re.MULTILINE)
_re_fence = re.compile(r"^(\s*)```\s*([A-Za-z0-9_+-]*)\s*$")
_re_widget_repr = re.compile(r"^\s*[\"']?[A-Z]\w*\((?:children|value|description|layout|outputs)=")
WIDGET_NOTE = ("This interactive widget (ipywidgets) needs a running Python kernel: open the notebook in Jupyter to "
               "use its controls.")


def is_check_cell(body: str) -> bool:
    "A code cell whose source holds a check line (assert, assert_allclose, a TOL_ tolerance, test_eq, raises)."
    return bool(_re_check.search(body))


def _plain(text: str) -> str:
    "Markdown/TeX heading -> plain words for an alt text: no $, backticks, emphasis, links or TeX commands."
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"\\(?:text|mathrm|rm|mathbf)\{([^}]*)\}", r"\1", text)
    text = re.sub(r"\\([A-Za-z]+)", r"\1", text)
    return " ".join(re.sub(r"[$`*{}<>\\]", " ", text).split())


def _figure_calls(body: str) -> list[str]:
    "Names of the calls in a cell that draw figures (plot_*, *fig*, hist, imshow ...), in source order."
    import ast
    try:
        tree = ast.parse(body)
    except SyntaxError:
        return re.findall(r"\b(\w*(?:plot|fig|draw)\w*)\(", body)
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            nm = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
            if re.search(r"plot|fig|draw|show|hist|imshow|scatter|pcolor|contour|explore", nm, re.I):
                names.append((node.lineno, node.col_offset, nm))
    return list(dict.fromkeys(n for _, _, n in sorted(names)))


def figure_alt(d: dict, body: str, title: str, heading: str) -> str | None:
    """Alt text of a cell's image outputs: its `#| fig-alt:` directive, else its `#| fig-cap:`, else a rule: the
    page title and the section heading above the cell, and the calls that draw the figure."""
    if d.get("fig-alt"):
        return d["fig-alt"]
    if d.get("fig-cap"):
        return d["fig-cap"]
    calls = _figure_calls(body)
    where = f"section '{heading}' of the page '{title}'" if heading and heading != title else f"the page '{title}'"
    return f"Figure in {where}" + (f", drawn by {', '.join(calls)}" if calls else "") + "."


def _drop_widget_views(cell: dict) -> None:
    """Widget views need a kernel and a widget manager: drop them.  An output left with only a widget's text
    repr (`Tab(children=(VBox(...`) becomes a note; one that also carries HTML or an image keeps that fallback."""
    for o in cell.get("outputs", []):
        data = o.get("data", {})
        had_view = data.pop(_WIDGET_MIME, None) is not None
        o.get("metadata", {}).pop(_WIDGET_MIME, None)
        plain = _src({"source": data.get("text/plain", "")})
        if not (had_view or _re_widget_repr.match(plain)):
            continue
        if set(data) - {"text/plain"}:
            data.pop("text/plain", None)  # a richer fallback (HTML, image) is shown instead of the repr
        else:
            o["data"] = {"text/html": f'<div class="admonition note jn-widget-note"><p class="admonition-title">'
                                      f'Interactive widget</p><p>{WIDGET_NOTE}</p></div>', "text/plain": ""}
    # empty stream outputs and empty execute_results render as empty boxes
    cell["outputs"] = [o for o in cell.get("outputs", [])
                       if not (o.get("output_type") == "stream" and not _src({"source": o.get("text", "")}).strip())
                       and not (o.get("output_type") in ("execute_result", "display_data") and not o.get("data"))]


def _wrap_fences(src: str) -> str:
    "Markdown code fences -> MyST code-block directives with the class jn-wrap (long lines wrap, never cut off)."
    out, inside = [], False
    for line in src.split("\n"):
        m = _re_fence.match(line)
        if m and not inside:
            inside = True
            out += [f"{m.group(1)}```{{code-block}} {m.group(2) or 'text'}", f"{m.group(1)}:class: jn-wrap", ""]
            continue
        if m and inside and not m.group(2):
            inside = False
        out.append(line)
    return "\n".join(out)


def convert_notebook(nb: dict, stem_of: dict[str, str], wrap_code: bool = False) -> dict:
    """One nbdev-processed notebook (Quarto conventions) -> a notebook MyST-NB renders as nbdev/Quarto would.

    Beyond the conventions: check cells (`is_check_cell`) are collapsed (`hide-input`: the source behind a toggle,
    the outputs shown), image outputs get an alt text (`figure_alt`), widget views give way to their static
    fallback or a note (`_drop_widget_views`), and with `wrap_code` (the landing page) markdown code blocks wrap."""
    nb = copy.deepcopy(nb)
    nb.get("metadata", {}).pop("widgets", None)
    cells, head, title, heading = [], None, "", ""
    for i, cell in enumerate(nb.get("cells", [])):
        cell.setdefault("id", f"cell{i}")
        cell.pop("has_sd", None)
        cell.get("metadata", {}).pop("execution", None)
        src = _src(cell)
        if head is None and (fm := _front_matter(cell)) is not None:
            head = fm
            title = _plain(str(fm.get("title", "")))
            parts = [f"# {fm['title']}"] if fm.get("title") else []
            if fm.get("description"):
                parts.append("> " + " ".join(str(fm["description"]).split()))
            if parts:
                cells.append(_md_cell("\n\n".join(parts)))
            continue
        if cell["cell_type"] == "markdown":
            if not src.strip():
                continue
            for m in _re_heading.finditer(src):
                if len(m.group(1)) == 1 and not title:
                    title = _plain(m.group(2))
                heading = _plain(m.group(2))
            cell["source"] = _markdown(_wrap_fences(src) if wrap_code else src, stem_of)
            cells.append(cell)
            continue
        if cell["cell_type"] != "code":
            cells.append(cell)
            continue
        d, body = _directives(src)
        if d.get("include") == "false" or ("hide" in d):
            continue
        if d.get("output") == "asis":  # show_doc and other markdown-producing cells: their output *is* the page
            md = _md_outputs(cell)
            if md.strip():
                cells.append(_md_cell(_show_doc_markdown(md) if "show_doc" in body else md))
            if d.get("echo") == "false" or not body.strip():
                continue
            cell["outputs"] = []
        _drop_widget_views(cell)
        if not body.strip() and not cell.get("outputs"):
            continue
        cell["source"] = body
        meta = cell.setdefault("metadata", {})
        tags = meta.setdefault("tags", [])
        if d.get("echo") == "false" or not body.strip():
            tags.append("remove-input")
        elif d.get("code-fold") == "true" or is_check_cell(body):  # folded code, checks: collapsed source, shown output
            tags.append("hide-input")
        if d.get("output") == "false":
            tags.append("remove-output")
        if any(m in o.get("data", {}) for o in cell.get("outputs", []) for m in _IMG_MIME):
            alt = figure_alt(d, body, title, heading)
            meta.setdefault("mystnb", {}).setdefault("image", {})["alt"] = alt
            if d.get("fig-cap"):
                meta["mystnb"]["figure"] = {"caption": d["fig-cap"]}
        cells.append(cell)
    nb["cells"] = cells
    nb.setdefault("metadata", {}).setdefault("kernelspec", {"display_name": "Python 3", "language": "python", "name": "python3"})
    nb["metadata"].setdefault("language_info", {"name": "python"})
    nb["nbformat"], nb["nbformat_minor"] = 4, max(int(nb.get("nbformat_minor", 5)), 5)
    return nb


def page_stem(proc_nb: dict, rel: Path) -> str:
    "The page name nbdev/Quarto gives a notebook: its front matter's output-file, else the notebook's name."
    for cell in proc_nb.get("cells", [])[:3]:
        fm = _front_matter(cell)
        if fm and fm.get("output-file"):
            return str(rel.parent / Path(str(fm["output-file"])).stem) if rel.parent != Path(".") else Path(str(fm["output-file"])).stem
    return rel.with_suffix("").as_posix()


_re_md_image = re.compile(r"""!\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+["'][^)]*["'])?\s*\)|<img\b[^>]*\bsrc=["']([^"']+)["']""")


def _copy_root_images(src_dir: Path) -> None:
    """Images that a page's markdown names by a path relative to the repository root (the landing page does, so that
    README.md, generated from nbs/index.ipynb into the root, shows them on GitHub) are copied beside the page."""
    for page in src_dir.rglob("*.ipynb"):
        nb = json.loads(page.read_text(encoding="utf-8"))
        for cell in nb.get("cells", []):
            if cell.get("cell_type") != "markdown":
                continue
            for m in _re_md_image.finditer(_src(cell)):
                url = m.group(1) or m.group(2)
                if re.match(r"^[a-z][a-z0-9+.-]*:|^/|^#", url, re.I):
                    continue
                dst, src = page.parent / url, ROOT / url
                if not dst.exists() and src.is_file() and src.suffix.lower() in _ASSET_SUFFIXES and ROOT in src.resolve().parents:
                    dst.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(src, dst)


def write_sources(nbs: list[Path], src_dir: Path) -> tuple[list[str], dict[str, str]]:
    "Convert every processed notebook into src_dir; returns the page names in navigation order, {notebook: page}."
    if src_dir.exists():
        shutil.rmtree(src_dir)
    src_dir.mkdir(parents=True)
    proc = {}
    for p in nbs:
        rel = p.relative_to(NBS)
        q = PROC / rel
        if not q.exists():
            raise SystemExit(f"build_docs: nbdev processing produced no {q} for {p}")
        proc[rel] = json.loads(q.read_text(encoding="utf-8"))
    stem_of = {rel.with_suffix("").as_posix(): page_stem(nb, rel) for rel, nb in proc.items()}
    pages = []
    for rel, nb in proc.items():
        stem = stem_of[rel.with_suffix("").as_posix()]
        if stem in pages:
            raise SystemExit(f"build_docs: two notebooks give the page {stem}.html")
        out = convert_notebook(nb, stem_of, wrap_code=(stem == "index"))
        if stem == "index":
            pages.insert(0, stem)
        else:
            pages.append(stem)
        (src_dir / stem).parent.mkdir(parents=True, exist_ok=True)
        (src_dir / f"{stem}.ipynb").write_text(json.dumps(out, indent=1, ensure_ascii=False), encoding="utf-8")
    for f in NBS.rglob("*"):  # images the notebooks' markdown shows (![](fig.png)) sit beside them
        rel = f.relative_to(NBS)
        if f.is_file() and f.suffix.lower() in _ASSET_SUFFIXES and not any(x.startswith(("_", ".")) for x in rel.parts):
            (src_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(f, src_dir / rel)
    _copy_root_images(src_dir)
    others = [p for p in pages if p != "index"]
    toctree = "```{toctree}\n:hidden:\n:maxdepth: 2\n\n" + "\n".join(others) + "\n```"
    index = src_dir / "index.ipynb"
    if index.exists():
        nb = json.loads(index.read_text(encoding="utf-8"))
        nb["cells"].append(_md_cell(toctree))
        index.write_text(json.dumps(nb, indent=1, ensure_ascii=False), encoding="utf-8")
    else:
        (src_dir / "index.md").write_text(f"# {_settings()['lib_name']}\n\n{_settings()['description']}\n\n{toctree}\n")
        pages.insert(0, "index")
    return pages, {rel.as_posix(): stem_of[rel.with_suffix("").as_posix()] for rel in proc}


# ---------------------------------------------------------------------------------------------- 3. sphinx
def run_sphinx(src_dir: Path, site: Path) -> None:
    if site.exists():
        shutil.rmtree(site)
    doctrees = src_dir / "_doctrees"
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-E", "-q", "-c", str(CONF_DIR), "-d", str(doctrees),
           str(src_dir), str(site)]
    subprocess.run(cmd, cwd=ROOT, check=True)
    for p in (site / "_static").glob("*webpack-macros.html"):  # the themes' Jinja macro files, not pages
        p.unlink()
    if (site / "_sources").is_dir() and not any((site / "_sources").iterdir()):
        (site / "_sources").rmdir()


# ---------------------------------------------------------------------------------------------- 4. links
_re_id = re.compile(r"""\bid=["']([^"']+)["']""")
_re_href = re.compile(r"""(\bhref=["'])([^"']*)(["'])""")
_re_external_asset = re.compile(r"""<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)=["'](?:https?:)?//[^"']+["'][^>]*>""", re.I)


def localize_links(site: Path) -> None:
    "Links nbdev aimed at the published site -> relative links; a missing method anchor falls back to its class."
    base = doc_url()
    pages = {p.relative_to(site).as_posix(): p for p in site.rglob("*.html")}
    ids = {rel: set(_re_id.findall(p.read_text(encoding="utf-8"))) for rel, p in pages.items()}
    for rel, p in pages.items():
        html = p.read_text(encoding="utf-8")
        if base not in html:
            continue
        depth = rel.count("/")

        def fix(m):
            url = m.group(2)
            if not url.startswith(base):
                return m.group(0)
            target, _, frag = url[len(base):].partition("#")
            target = target or "index.html"
            if target not in pages:
                return m.group(0)
            if frag and frag not in ids[target]:
                frag = frag.split(".")[0] if frag.split(".")[0] in ids[target] else ""
            return m.group(1) + "../" * depth + target + (f"#{frag}" if frag else "") + m.group(3)

        p.write_text(_re_href.sub(fix, html), encoding="utf-8")


def check_offline(site: Path) -> list[str]:
    "Every script, stylesheet, image or frame that a page loads from another host (should be none)."
    bad = []
    for p in site.rglob("*.html"):
        bad += [f"{p.relative_to(site)}: {t[:160]}" for t in _re_external_asset.findall(p.read_text(encoding="utf-8"))]
    for p in site.rglob("*.css"):
        bad += [f"{p.relative_to(site)}: {u}" for u in re.findall(r"url\(\s*['\"]?((?:https?:)?//[^)'\"]+)", p.read_text(encoding="utf-8", errors="replace"))]
    return bad


# ---------------------------------------------------------------------------------------------- main
def build(site: Path = ROOT / "_site", src: Path = ROOT / "_docs", n_workers: int = 2, force: bool = False,
          strict: bool = False) -> list[str]:
    "Build the site; returns the page names in navigation order."
    lock_path = Path(tempfile.gettempdir()) / f"jeans_nbdev_docs_{hashlib.sha1(str(ROOT).encode()).hexdigest()[:10]}.lock"
    with open(lock_path, "w") as lock:  # one build at a time per checkout (the _proc/ cache is shared)
        fcntl.flock(lock, fcntl.LOCK_EX)
        t0 = time.time()
        nbs = notebooks()  # taken once: notebooks that appear during the build wait for the next one
        run_nbdev_processing(nbs, n_workers, force, strict)
        t1 = time.time()
        pages, page_of = write_sources(nbs, src)
        run_sphinx(src, site)
        localize_links(site)
        # what was built, for tests/test_docs.py: pages in navigation order, and the page of each notebook
        (site / "_pages.json").write_text(json.dumps({"pages": pages, "notebooks": page_of}, indent=1))
        t2 = time.time()
    bad = check_offline(site)
    if bad:
        raise SystemExit("build_docs: pages load assets from the internet:\n  " + "\n  ".join(bad[:20]))
    print(f"build_docs: {len(pages)} pages ({', '.join(pages)}) in {site}; "
          f"nbdev processing {t1 - t0:.0f} s, sphinx {t2 - t1:.0f} s")
    return pages


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--site", type=Path, default=ROOT / "_site", help="output folder (default _site)")
    ap.add_argument("--src", type=Path, default=ROOT / "_docs", help="folder for the converted notebooks (default _docs)")
    ap.add_argument("--n_workers", type=int, default=2, help="nbdev processing workers")
    ap.add_argument("--force", action="store_true", help="re-process every notebook (ignore nbdev's _proc cache)")
    ap.add_argument("--strict_nbdev", action="store_true",
                    help="run every cell that contains an import in full, exactly as nbdev does (default: only its imports)")
    a = ap.parse_args(argv)
    build(a.site.resolve(), a.src.resolve(), a.n_workers, a.force, a.strict_nbdev)


if __name__ == "__main__":
    main()
