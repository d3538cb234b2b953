"""The offline docs site in a real browser (Debian's chromium, headless).

A session fixture builds the site with tools/build_docs.py into a temporary folder, serves it on 127.0.0.1
(http.server in a thread, free port) and opens every built page in headless chromium with every host but
127.0.0.1 unresolvable, so a page that needed the internet would show it.  Checks: every notebook has a
page, in the navigation in notebook order; every page loads with no failed request; every internal link
and anchor resolves; the math is typeset by MathJax with no TeX error; the figures stored in the notebooks
are on their pages and load; the search works offline.  Screenshots of every page go to _site_shots/.

Layout, which a static DOM cannot tell, is measured in the browser: the test server adds LAYOUT_JS to every page it
serves, which writes a JSON report into the DOM once MathJax has typeset.  From it: nothing is clipped or sticks out
(wide code, equations, tables scroll in their own box), one search box per page, the contents column on screen, the
landing page's demo figure and both commands whole (the main one on one line), no check line in view (check cells
collapsed, as many as the notebooks hold), alt texts that describe the figures, widgets shown as static views or a
note and never as a raw repr, and API entries that document every parameter, with units.

Needs chromium (`apt-get install -y chromium`): without it the tests fail, they do not skip.
"""
import html
import html.parser
import io
import importlib.util
import json
import re
import shutil
import subprocess
import sys
import threading
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "_site_shots"
_spec = importlib.util.spec_from_file_location("build_docs", ROOT / "tools" / "build_docs.py")
build_docs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build_docs)

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--hide-scrollbars",
                  "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"]  # offline: only our server
VIRTUAL_TIME_MS = 15000  # virtual time for scripts (MathJax typesetting, search) before the DOM is dumped
MIN_SHOT_BYTES = 15000  # a 1280x1600 PNG of a rendered page is >100 kB; a blank one is a few kB
IMG_MIME = ("image/png", "image/jpeg", "image/svg+xml", "image/gif")


# Injected by the test server (never part of the built site) at the end of every served HTML page: once the page
# has loaded and MathJax has typeset, it measures what a static DOM cannot tell (layout) and writes the result as
# JSON into <pre id="jn-layout-report">, which chromium's --dump-dom then returns.
LAYOUT_JS = r"""
<script>
(function () {
  const CHECK = /\b[Aa]ssert\w*\b|\bTOL\w*\b|\btest_(?:eq|ne|close|fail|is|warns|stdout|shuffled)\b|\braises\(/;
  const scrolls = el => /^(auto|scroll)$/.test(getComputedStyle(el).overflowX);
  const visible = el => el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true}) &&
                        el.getBoundingClientRect().width > 0;
  const desc = el => el.tagName.toLowerCase() + (el.className && typeof el.className === "string" ?
                     "." + el.className.trim().split(/\s+/).join(".") : "") + ": " +
                     (el.textContent || "").trim().replace(/\s+/g, " ").slice(0, 80);
  function measure() {
    const r = {width: window.innerWidth, pageScrollWidth: document.documentElement.scrollWidth,
               clipped: [], spills: [], wideCode: [], searchBoxes: 0, toc: null, visibleCheckLines: [],
               hiddenCheckCells: 0, images: [], mathErrors: document.querySelectorAll("mjx-merror").length};
    const art = document.querySelector(".bd-article");
    const artRight = art ? art.getBoundingClientRect().right : window.innerWidth;
    // pre, display math, tables, figures: content wider than its box must scroll there, and nothing may stick
    // out of the article unless a scrolling box holds it
    const wide = art ? art.querySelectorAll("pre, div.math, mjx-container[display='true'], table, img, .cell_output") : [];
    for (const el of wide) {
      if (!visible(el)) continue;
      if (el.scrollWidth > el.clientWidth + 1 && !scrolls(el) && getComputedStyle(el).overflowX !== "visible")
        r.clipped.push(desc(el));
      let a = el.parentElement, held = scrolls(el);
      while (!held && a && a !== art) { held = scrolls(a); a = a.parentElement; }
      if (!held && el.getBoundingClientRect().right > artRight + 1) r.spills.push(desc(el));
      if (el.tagName === "PRE" && el.scrollWidth > el.clientWidth + 1) r.wideCode.push(desc(el));
    }
    // search boxes of the page frame (header, sidebars), not the search page's own form
    for (const el of document.querySelectorAll(".search-button-field, .search-button, form.bd-search input[type=search]")) {
      if (art && art.contains(el)) continue;
      if (el.closest("dialog") && !el.closest("dialog").open) continue;
      if (visible(el)) r.searchBoxes += 1;
    }
    const toc = document.querySelector(".bd-sidebar-secondary");
    if (toc && visible(toc)) {
      const b = toc.getBoundingClientRect();
      let cut = 0;
      for (const a of toc.querySelectorAll("a")) if (visible(a) && a.getBoundingClientRect().right > b.right + 1) cut++;
      r.toc = {left: b.left, right: b.right, scrollWidth: toc.scrollWidth, clientWidth: toc.clientWidth, cutLinks: cut};
    }
    for (const pre of document.querySelectorAll(".cell_input pre, div.cell_input pre")) {
      const checks = (pre.textContent || "").split("\n").filter(l => CHECK.test(l));
      if (!checks.length) continue;
      if (visible(pre)) r.visibleCheckLines.push(...checks.map(l => l.trim().slice(0, 100)));
      else if (pre.closest("details")) r.hiddenCheckCells += 1;
    }
    // code blocks: how many lines each takes on the screen, and whether all of it is in view
    r.code = [];
    for (const pre of (art ? art.querySelectorAll("pre") : [])) {
      if (!visible(pre)) continue;
      const cs = getComputedStyle(pre), lh = parseFloat(cs.lineHeight) || 1.5 * parseFloat(cs.fontSize);
      const h = pre.clientHeight - parseFloat(cs.paddingTop) - parseFloat(cs.paddingBottom);
      r.code.push({text: (pre.textContent || "").trim().slice(0, 200), lines: Math.round(h / lh),
                   whole: pre.scrollWidth <= pre.clientWidth + 1});
    }
    for (const img of document.querySelectorAll(".bd-article img"))
      r.images.push({src: img.getAttribute("src").slice(0, 120), alt: img.getAttribute("alt"),
                     loaded: img.complete && img.naturalWidth > 0, shown: visible(img),
                     right: img.getBoundingClientRect().right, artRight: artRight});
    const out = document.createElement("pre");
    out.id = "jn-layout-report";
    out.style.display = "none";
    out.textContent = JSON.stringify(r);
    document.body.appendChild(out);
  }
  function whenTypeset() {
    const needsMath = document.querySelector(".math, .MathJax");
    if (needsMath && !(window.MathJax && MathJax.startup && MathJax.startup.promise)) return setTimeout(whenTypeset, 100);
    (needsMath ? MathJax.startup.promise : Promise.resolve()).then(() => setTimeout(measure, 500), () => setTimeout(measure, 500));
  }
  window.addEventListener("load", () => setTimeout(whenTypeset, 100));
})();
</script>
"""


def chromium_path() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    assert exe, "chromium not found: the docs tests need Debian's chromium (apt-get install -y chromium)"
    return exe


# ------------------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def site(tmp_path_factory):
    "A fresh build of the site; returns (site folder, {notebook rel path: page name})."
    out = tmp_path_factory.mktemp("docs")
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "build_docs.py"), "--site", str(out / "site"),
                        "--src", str(out / "src")], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, f"docs build failed:\n{r.stdout[-3000:]}\n{r.stderr[-5000:]}"
    print(r.stdout)
    built = json.loads((out / "site" / "_pages.json").read_text())
    pages, page_of = built["pages"], {Path(k): v for k, v in built["notebooks"].items()}
    assert sorted(pages) == sorted(set(page_of.values()) | {"index"})
    return out / "site", page_of, pages


class _Handler(SimpleHTTPRequestHandler):
    "Serves the site, logs every request, and adds LAYOUT_JS to every HTML page (the files are not changed)."
    log: list = []

    def send_head(self):
        path = Path(self.translate_path(self.path))
        if path.is_dir() and self.path.split("?")[0].endswith("/"):
            path = path / "index.html"
        if path.suffix != ".html" or not path.is_file():
            return super().send_head()
        body = path.read_bytes()
        i = body.rfind(b"</body>")
        body = body[:i] + LAYOUT_JS.encode() + body[i:] if i >= 0 else body + LAYOUT_JS.encode()
        self.send_response(200)
        self.send_header("Content-type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)

    def log_request(self, code="-", size="-"):
        type(self).log.append((self.path, int(code) if str(code).isdigit() else 0))

    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def server(site):
    log = []
    handler = type("H", (_Handler,), {"log": log})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(site[0])))
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/", log
    httpd.shutdown()
    httpd.server_close()


def _open(exe, url, profile, shot):
    "Load url in a fresh headless chromium; returns the DOM after VIRTUAL_TIME_MS and writes a screenshot."
    cmd = [exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--window-size=1280,1600",
           f"--virtual-time-budget={VIRTUAL_TIME_MS}", "--dump-dom", f"--screenshot={shot}", url]
    for attempt in range(2):  # one retry: a browser start can fail on a loaded machine
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if r.returncode == 0 and "</html>" in r.stdout:
            break
    assert r.returncode == 0, f"chromium failed on {url}: {r.stderr[-2000:]}"
    return r.stdout


@pytest.fixture(scope="session")
def browsed(site, server, tmp_path_factory):
    "Every built page opened in chromium: {page html path: DOM}; screenshots in _site_shots/."
    exe = chromium_path()
    base, _ = server
    root = site[0]
    pages = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.html") if "_static" not in p.parts)
    if SHOTS.exists():
        shutil.rmtree(SHOTS)
    SHOTS.mkdir()
    (SHOTS / ".gitignore").write_text("*\n")  # screenshots are never committed
    profiles = tmp_path_factory.mktemp("chromium")

    def one(rel):
        shot = SHOTS / (rel[:-5].replace("/", "__") + ".png")
        return rel, _open(exe, base + rel, profiles / rel.replace("/", "__"), shot)

    with ThreadPoolExecutor(max_workers=2) as ex:  # 2 cores
        doms = dict(ex.map(one, pages))
    return doms


# ------------------------------------------------------------------------------------------- helpers
class _Refs(html.parser.HTMLParser):
    "Collects ids/names (anchors) and (tag, attribute, url) of every link and loaded resource."

    def __init__(self):
        super().__init__()
        self.ids, self.refs = set(), []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for k in ("id", "name"):
            if a.get(k) and (k == "id" or tag == "a"):
                self.ids.add(a[k])
        for k in ("href", "src"):
            if a.get(k) is not None and not (tag == "link" and k == "href" and "preload" in (a.get("rel") or "") and False):
                self.refs.append((tag, k, a[k]))


def _parse(text: str) -> _Refs:
    p = _Refs()
    p.feed(text)
    return p


def _is_internal(url: str) -> bool:
    s = urllib.parse.urlsplit(url)
    return not s.scheme and not s.netloc and not url.startswith("//")


def _expected_figures(nb_path: Path) -> int:
    "Image outputs of the notebook's cells that the docs show (not hidden, not excluded, output kept)."
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    n = 0
    for c in nb["cells"]:
        if c["cell_type"] != "code":
            continue
        d, _ = build_docs._directives(build_docs._src(c))
        if {"hide", "export", "exporti"} & d.keys() or d.get("include") == "false" or d.get("output") == "false":
            continue
        n += sum(any(m in o.get("data", {}) for m in IMG_MIME) for o in c.get("outputs", []))
    return n


# ------------------------------------------------------------------------------------------- tests
def test_chromium_installed():
    exe = chromium_path()
    r = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "Chromium" in r.stdout, r.stdout + r.stderr


def test_convert_notebook_unit():
    "Quarto conventions of nbdev's processing -> MyST-NB ones, on a hand-made processed notebook."
    nb = {"metadata": {"widgets": {"x": 1}}, "nbformat": 4, "nbformat_minor": 5, "cells": [
        {"cell_type": "raw", "metadata": {}, "source": "---\ntitle: Flow\ndescription: A flow.\noutput-file: flow.html\n---\n"},
        {"cell_type": "markdown", "metadata": {}, "source": "See [data](02_data.ipynb#sec) and [web](https://x.org/a.ipynb).\n\n::: {.callout-note}\nN\n:::"},
        {"cell_type": "code", "metadata": {"execution": {"total": 1.5}}, "has_sd": True, "execution_count": 0,
         "source": "#| echo: false\n#| output: asis\nshow_doc(f)",
         "outputs": [{"output_type": "execute_result", "metadata": {}, "execution_count": 0, "data": {
             "text/markdown": "---\n\n[source](https://g/x.py#L1){target=\"_blank\" style=\"float:right\"}\n\n### F.g\n\n*doc*",
             "text/plain": "<...>"}}]},
        {"cell_type": "code", "metadata": {}, "execution_count": 1, "source": "#| output: false\nx = 1", "outputs": []},
        {"cell_type": "code", "metadata": {}, "execution_count": 1, "source": "#| include: false\ny = 2", "outputs": []},
        {"cell_type": "code", "metadata": {}, "execution_count": 1, "source": "#| code-fold: true\nz = 3", "outputs": []},
    ]}
    assert build_docs.page_stem(nb, Path("04_flow.ipynb")) == "flow"
    out = build_docs.convert_notebook(nb, {"02_data": "data"})
    srcs = [c["source"] for c in out["cells"]]
    assert "widgets" not in out["metadata"]
    assert srcs[0] == "# Flow\n\n> A flow."
    assert "[data](data.ipynb#sec)" in srcs[1] and "(https://x.org/a.ipynb)" in srcs[1] and ":::{note}\nN" in srcs[1]
    assert out["cells"][2]["cell_type"] == "markdown" and '<a id="f.g"></a>' in srcs[2] and "### F.g" in srcs[2]
    assert "{target" not in srcs[2] and 'class="jn-source-link' in srcs[2]
    assert out["cells"][3]["source"] == "x = 1" and out["cells"][3]["metadata"]["tags"] == ["remove-output"]
    assert out["cells"][4]["metadata"]["tags"] == ["hide-input"]
    assert len(out["cells"]) == 5 and all("has_sd" not in c and "execution" not in c["metadata"] for c in out["cells"])


def test_convert_checks_alts_widgets_unit():
    "Check cells collapse, figures get alt texts (directive or rule), widget views give way to a fallback or a note."
    png = {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure size 400x300 with 1 Axes>"}
    view = {build_docs._WIDGET_MIME: {"model_id": "x"}, "text/plain": "Tab(children=(VBox(children=(FloatSlider(value=1.0"}
    cell = lambda src, outs=(): {"cell_type": "code", "metadata": {}, "execution_count": 1, "source": src,
                                 "outputs": [{"output_type": "display_data", "metadata": {}, "data": d} for d in outs]}
    nb = {"metadata": {}, "nbformat": 4, "nbformat_minor": 5, "cells": [
        {"cell_type": "raw", "metadata": {}, "source": "---\ntitle: Explore a fit\n---"},
        {"cell_type": "markdown", "metadata": {}, "source": "## Data and model in $(R, v_z)$\n\n```bash\nls\n```"},
        cell("x = f(1)\nTOL_X = 1e-9   # a tolerance\nnp.testing.assert_allclose(x, 1, rtol=TOL_X)"),
        cell("y = g(2)"),
        cell("fig = plot_rv(d)", [png]),
        cell("#| fig-alt: Smoothed densities of stars against R and v_z\nfig = plot_rv(d)", [png]),
        cell("ex", [view]),
        cell("ex", [{**view, "text/html": "<div class='jn-static-views'><img src='data:image/png;base64,AA' alt='v'></div>"}]),
    ]}
    out = build_docs.convert_notebook(nb, {}, wrap_code=True)
    c = out["cells"]
    assert c[1]["source"].startswith("## Data") and "```{code-block} bash\n:class: jn-wrap" in c[1]["source"]
    assert c[2]["metadata"]["tags"] == ["hide-input"] and c[3]["metadata"]["tags"] == []
    alt = c[4]["metadata"]["mystnb"]["image"]["alt"]
    assert "Data and model in (R, v_z)" in alt and "Explore a fit" in alt and "plot_rv" in alt, alt
    assert c[5]["metadata"]["mystnb"]["image"]["alt"] == "Smoothed densities of stars against R and v_z"
    note = c[6]["outputs"][0]["data"]
    assert build_docs._WIDGET_MIME not in note and "needs a running Python kernel" in note["text/html"]
    assert not note["text/plain"].startswith("Tab(")
    fallback = c[7]["outputs"][0]["data"]
    assert set(fallback) == {"text/html"} and "jn-static-views" in fallback["text/html"]
    assert build_docs.is_check_cell("try:\n    f()\n    raise AssertionError('accepted')\nexcept ValueError: pass")
    assert not build_docs.is_check_cell("fig = plot_rv(d)\nrtol = 3")


def test_figure_outputs_render(tmp_path):
    "A processed notebook with a PNG, an SVG and a hidden-input figure gives a page with all three as files."
    import base64
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import io
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [0, 1])
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    png = base64.b64encode(buf.getvalue()).decode()
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20"><circle cx="10" cy="10" r="8"/></svg>'
    out = lambda data: [{"output_type": "display_data", "metadata": {}, "data": {**data, "text/plain": "<Figure>"}}]
    nb = {"metadata": {}, "nbformat": 4, "nbformat_minor": 5, "cells": [
        {"cell_type": "raw", "metadata": {}, "source": "---\ntitle: Figs\noutput-file: figs.html\n---"},
        {"cell_type": "code", "metadata": {}, "execution_count": 1, "source": "plot()", "outputs": out({"image/png": png})},
        {"cell_type": "code", "metadata": {}, "execution_count": 2, "source": "#| echo: false\nplot()", "outputs": out({"image/png": png})},
        {"cell_type": "code", "metadata": {}, "execution_count": 3, "source": "svg()", "outputs": out({"image/svg+xml": svg})},
    ]}
    src, site = tmp_path / "src", tmp_path / "site"
    src.mkdir()
    (src / "figs.ipynb").write_text(json.dumps(build_docs.convert_notebook(nb, {})))
    (src / "index.md").write_text("# Home\n\n```{toctree}\nfigs\n```\n")
    build_docs.run_sphinx(src, site)
    page = (site / "figs.html").read_text()
    imgs = re.findall(r'<img[^>]*src="([^"]+)"', page)
    assert len(imgs) == 3 and all((site / u).is_file() for u in imgs), imgs
    assert page.count('class="cell_input') == 2  # the echo: false cell shows its figure only


def test_every_notebook_has_a_page_in_nav_order(site, browsed):
    root, page_of, pages = site
    assert pages[0] == "index"
    nav = [p for p in pages if p != "index"]
    want = [page_of[rel] for rel in page_of if page_of[rel] != "index"]
    assert nav == want, f"navigation order {nav} != notebook order {want}"
    for p in pages:
        assert (root / f"{p}.html").is_file(), p
        dom = browsed[f"{p}.html"]
        m = re.search(r'<nav class="bd-links bd-docs-nav".*?</nav>', dom, re.S)
        assert m, f"{p}.html: no navigation sidebar"
        hrefs = [h.split("#")[0] for _, k, h in _parse(m.group(0)).refs if k == "href"]
        got = [h[:-5] if h else p for h in hrefs]  # "#" is the page itself
        assert [g for g in got if g != "index"] == nav, f"{p}.html: sidebar {got} != {nav}"


def test_pages_load_without_failed_requests(site, server, browsed):
    _, log = server
    assert len(browsed) >= len(site[2]) + 2  # notebooks + search + genindex
    for rel, dom in browsed.items():
        assert "<title>" in dom and "bd-article" in dom, f"{rel}: page did not render"
    failed = [(p, c) for p, c in log if c >= 400 and not p.startswith("/favicon.ico")]
    assert not failed, f"failed requests: {failed[:20]}"
    loaded = {p.split("?")[0] for p, c in log if c == 200}
    assert "/_static/mathjax/tex-chtml.js" in loaded  # MathJax came from the site itself
    assert any(p.startswith("/_static/mathjax/output/chtml/fonts/") for p in loaded), "MathJax fonts not loaded"


def _exported_names(nb_path: Path) -> list[str]:
    "Names nbdev gives a show_doc entry: public defs and classes of `#| export`/`#| exports` cells."
    import ast
    from nbdev.processors import showdoc_nm
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    names = []
    for c in nb["cells"]:
        if c["cell_type"] != "code":
            continue
        d, body = build_docs._directives(build_docs._src(c))
        if not ({"export", "exports"} & d.keys()) or "hide" in d or d.get("include") == "false":
            continue
        try:
            trees = ast.parse(body).body
        except SyntaxError:
            continue
        names += [showdoc_nm(t) for t in trees if isinstance(t, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                  and (t.name[0] != "_" or t.name[:2] == "__")]
    return names


def test_show_doc_api_reference(site):
    "Every exported public function and class has its show_doc entry (signature, source link) on its page."
    root, page_of, _ = site
    total = 0
    for nb_rel, page in page_of.items():
        names = _exported_names(build_docs.NBS / nb_rel)
        if not names:
            continue
        ids = _parse((root / f"{page}.html").read_text(encoding="utf-8")).ids
        missing = [n for n in names if n.lower() not in ids]
        assert not missing, f"{page}.html: no show_doc entry for {missing}"
        total += len(names)
    assert total > 0, "no exported function or class documented anywhere"


def test_no_broken_internal_links(site):
    root = site[0]
    parsed = {p.relative_to(root).as_posix(): _parse(p.read_text(encoding="utf-8"))
              for p in root.rglob("*.html") if "_static" not in p.parts}
    broken, n = [], 0
    for rel, refs in parsed.items():
        for tag, attr, url in refs.refs:
            if not url or not _is_internal(url) or url.startswith(("javascript:", "mailto:", "data:")):
                continue
            n += 1
            target = urllib.parse.urljoin("http://h/" + rel, url)
            s = urllib.parse.urlsplit(target)
            path = urllib.parse.unquote(s.path.lstrip("/")) or "index.html"
            if path.endswith("/"):
                path += "index.html"
            if not (root / path).is_file():
                broken.append(f"{rel}: <{tag} {attr}={url}> -> missing {path}")
            elif s.fragment and path.endswith(".html"):
                ids = parsed[path].ids if path in parsed else set()
                if urllib.parse.unquote(s.fragment) not in ids:
                    broken.append(f"{rel}: <{tag} {attr}={url}> -> no anchor #{s.fragment} in {path}")
    assert n > 50, f"only {n} internal links found: is the site built?"
    assert not broken, f"{len(broken)} broken internal links:\n" + "\n".join(broken[:30])


def test_no_internet_assets(site):
    assert not build_docs.check_offline(site[0])


def test_math_is_typeset(site, browsed):
    root, page_of, _ = site
    math_pages = 0
    for rel, dom in browsed.items():
        static = (root / rel).read_text(encoding="utf-8")
        n_math = len(re.findall(r'class="math notranslate', static))
        if not n_math:
            continue
        math_pages += 1
        n_mjx = dom.count("<mjx-container")
        assert n_mjx >= n_math, f"{rel}: {n_mjx} typeset formulas for {n_math} math elements"
        assert "<mjx-merror" not in dom, f"{rel}: MathJax reported a TeX error"
    # every notebook with $...$ in its markdown must give a page with typeset math
    for nb_rel, page in page_of.items():
        nb = json.loads((build_docs.NBS / nb_rel).read_text(encoding="utf-8"))
        if any(c["cell_type"] == "markdown" and re.search(r"\$[^$\s][^$]*\$", build_docs._src(c)) for c in nb["cells"]):
            assert "<mjx-container" in browsed[f"{page}.html"], f"{page}.html: no typeset math"
    assert math_pages >= 1


def test_figures_present(site, server, browsed):
    root, page_of, _ = site
    _, log = server
    loaded = {urllib.parse.unquote(p.split("?")[0]) for p, c in log if c == 200}
    for nb_rel, page in page_of.items():
        want = _expected_figures(build_docs.NBS / nb_rel)
        dom = browsed[f"{page}.html"]
        imgs = [u for tag, k, u in _parse(dom).refs if tag == "img" and k == "src" and "/_images/" in "/" + u]
        assert len(imgs) >= want, f"{page}.html: {len(imgs)} figures for {want} image outputs in {nb_rel}"
        for u in imgs:
            path = "/" + urllib.parse.urljoin(page + ".html", u)
            assert (root / path.lstrip("/")).is_file() and path in loaded, f"{page}.html: figure {u} not loaded"


def test_search_works_offline(site, server, tmp_path):
    base, _ = server
    out = tmp_path / "search.png"
    dom = _open(chromium_path(), base + "search.html?q=jeans", tmp_path / "profile", out)
    m = re.search(r"found (\d+) page", dom)
    assert m and int(m.group(1)) >= 1, "search found nothing for 'jeans'"


def test_screenshots_saved(browsed):
    shots = sorted(SHOTS.glob("*.png"))
    assert len(shots) == len(browsed)
    for s in shots:
        b = s.read_bytes()
        assert b[:8] == b"\x89PNG\r\n\x1a\n" and len(b) > MIN_SHOT_BYTES, f"{s.name}: blank or missing screenshot"


# ------------------------------------------------------------------------------------------- layout (LAYOUT_JS)
_re_report = re.compile(r'<pre id="jn-layout-report"[^>]*>(.*?)</pre>', re.S)
_re_widget_repr = re.compile(r"\b(?:Tab|VBox|HBox|FloatSlider|IntSlider|Dropdown|Output|Button)\("
                             r"(?:children|value|description|outputs|layout|options)=")
# notebooks whose API entries (show_doc) must document every parameter, with units (issue 20, item 4)
# parameters that are physical quantities: their documentation names a unit (or says they are dimensionless)
PHYSICAL_PARAMS = {"r", "R", "x", "y", "z", "xy", "vz", "vx", "vy", "v", "verr", "v_sys", "ra", "rs", "rstar", "b",
                   "rho0", "rho_s", "mass", "tracer_mass", "h", "h_R", "h_v", "R_grid", "v_grid", "edges", "scale",
                   "v_scale", "r_min", "r_max", "lo", "hi", "ln_r", "ln_r_tab", "ln_n_tab", "ln_sigma_r2_tab",
                   "model_xy", "model_s2", "model_vz", "distance_kpc", "ra_deg", "dec_deg", "ra0_deg", "dec0_deg",
                   "xi", "eta", "t", "ts", "beta", "base_r", "r0", "centre", "theta_deg", "j_angle_deg", "r_half", "r_t",
                   "r_range", "data_R", "sky_centre", "radii", "wall_time", "ln_n", "r_med", "hi_s"}
_re_unit = re.compile(r"\b(?:kpc|km/s|Msun|deg|radians?|dimensionless|standardised)\b|\[[^\]]+\]")
API_DOC_NOTEBOOKS = ["00_numerics", "01_background", "02_data", "03_mocks", "04_flow", "05_velocity", "06_loss",
                     "07_trainer", "08_jeans", "09_inference", "10_validation", "11_explore", "12_bench", "13_campaign",
                     "14_cli"]


def _report(rel: str, dom: str) -> dict:
    m = _re_report.search(dom)
    assert m, f"{rel}: no layout report (the page's load event or MathJax never finished?)"
    return json.loads(html.unescape(m.group(1)))


@pytest.fixture(scope="session")
def reports(browsed):
    return {rel: _report(rel, dom) for rel, dom in browsed.items()}


def test_nothing_clipped_or_off_screen(reports):
    "Wide code, equations, tables and figures scroll in their own box or fit; nothing widens the page."
    bad = []
    for rel, r in reports.items():
        if r["pageScrollWidth"] > r["width"]:
            bad.append(f"{rel}: the page is {r['pageScrollWidth']} px wide in a {r['width']} px window")
        bad += [f"{rel}: clipped {d}" for d in r["clipped"]] + [f"{rel}: sticks out of the article {d}" for d in r["spills"]]
        assert r["mathErrors"] == 0, f"{rel}: MathJax errors"
    assert not bad, "\n".join(bad[:30])


def test_one_search_box(reports):
    bad = {rel: r["searchBoxes"] for rel, r in reports.items() if r["searchBoxes"] != 1}
    assert not bad, f"pages without exactly one search box: {bad}"


def test_contents_column_on_screen(reports):
    "The right-hand contents column (where a page has one) ends inside the window and none of its entries is cut."
    n = 0
    for rel, r in reports.items():
        t = r["toc"]
        if t is None:
            continue
        n += 1
        assert t["right"] <= r["width"] + 1 and t["left"] >= 0, f"{rel}: contents column at {t['left']}-{t['right']} px"
        assert t["cutLinks"] == 0 and t["scrollWidth"] <= t["clientWidth"] + 1, f"{rel}: contents entries cut: {t}"
    assert n >= 10, f"only {n} pages have a contents column"


def test_landing_page(site, reports, browsed):
    "The demo figure, the two commands whole (the main one on one line at 1280 px) and no code line cut off."
    r = reports["index.html"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    cmds = [re.search(rf"<!-- {k} -->\s*```\w*\n(.+?)\n```", readme, re.S).group(1).strip()
            for k in ("main-command", "test-command")]
    for cmd in cmds:
        found = [c for c in r["code"] if " ".join(c["text"].split()) == " ".join(cmd.split())]
        assert found and found[0]["whole"], f"index.html: command not shown whole: {cmd}"
    main = [c for c in r["code"] if " ".join(c["text"].split()) == " ".join(cmds[0].split())][0]
    assert main["lines"] == 1, f"index.html: the main command takes {main['lines']} lines"
    assert not r["wideCode"], f"index.html: code lines cut off: {r['wideCode']}"
    demo = [i for i in r["images"] if "demo_profiles" in i["src"]]
    assert demo and demo[0]["loaded"] and demo[0]["shown"], "index.html: no demo figure"
    assert "truth" in demo[0]["alt"] and "68%" in demo[0]["alt"], demo[0]["alt"]


def _check_cells(nb_path: Path) -> int:
    "Code cells of a notebook that hold checks and that its page shows (collapsed)."
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    n = 0
    for c in nb["cells"]:
        if c["cell_type"] != "code":
            continue
        d, body = build_docs._directives(build_docs._src(c))
        if {"hide", "export", "exports", "exporti"} & d.keys() or d.get("include") == "false" or d.get("echo") == "false":
            continue
        n += build_docs.is_check_cell(body)
    return n


def test_check_cells_collapsed(site, reports):
    "Cells with checks stay in the notebooks but their source is collapsed on the pages: no check line in view."
    root, page_of, _ = site
    total = 0
    for nb_rel, page in page_of.items():
        r = reports[f"{page}.html"]
        assert not r["visibleCheckLines"], f"{page}.html: check lines in view: {r['visibleCheckLines'][:5]}"
        want = _check_cells(build_docs.NBS / nb_rel)
        assert r["hiddenCheckCells"] == want, f"{page}.html: {r['hiddenCheckCells']} collapsed check cells, notebook has {want}"
        total += want
    assert total > 50, f"only {total} check cells in the notebooks"


def test_alt_texts_describe_figures(reports):
    bad, n = [], 0
    for rel, r in reports.items():
        for i in r["images"]:
            n += 1
            alt = (i["alt"] or "").strip()
            if not i["loaded"]:
                bad.append(f"{rel}: image not loaded {i['src']}")
            if len(alt.split()) < 4 or re.fullmatch(r"[0-9a-f]{16,}(\.\w+)?", alt) or re.search(r"\.(png|svg|jpe?g)$", alt):
                bad.append(f"{rel}: alt text {alt!r} of {i['src'][:60]}")
    assert n >= 15, f"only {n} images on the site"
    assert not bad, "\n".join(bad[:20])


def test_widgets_static_not_raw(site, browsed, reports):
    "No widget shows as a raw repr; a widget output's page shows its static views (or a note) instead."
    root, page_of, _ = site
    for rel, dom in browsed.items():
        text = re.sub(r"<[^>]+>", " ", dom)
        m = _re_widget_repr.search(html.unescape(text))
        assert not m, f"{rel}: raw widget repr on the page: {m.group(0)}"
    n_widgets = 0
    for nb_rel, page in page_of.items():
        nb = json.loads((build_docs.NBS / nb_rel).read_text(encoding="utf-8"))
        outs = [o for c in nb["cells"] for o in c.get("outputs", []) if build_docs._WIDGET_MIME in o.get("data", {})]
        if not outs:
            continue
        n_widgets += len(outs)
        dom = browsed[f"{page}.html"]
        for o in outs:
            fallback = build_docs._src({"source": o["data"].get("text/html", "")})
            if fallback:
                n_img = fallback.count("<img ")
                shown = [i for i in reports[f"{page}.html"]["images"] if i["src"].startswith("data:image/png")]
                assert len(shown) >= n_img > 0 and all(i["loaded"] and i["shown"] for i in shown), \
                    f"{page}.html: {len(shown)} static views shown for {n_img}"
                assert "needs a running Python kernel" in dom, f"{page}.html: no note that the widget needs a kernel"
            else:
                assert "jn-widget-note" in dom, f"{page}.html: a widget output without its note"
    assert n_widgets >= 1, "no widget output in any notebook (the explorer's display cell?)"


def _top_level_items(text: str) -> list[str]:
    "The comma-separated items of a parameter line, commas inside brackets or quotes not counting."
    items, depth, cur, quote = [], 0, "", None
    for ch in text:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            items.append(cur)
            cur = ""
            continue
        cur += ch
    return [x for x in items + [cur] if x.strip()]


def _signature_blocks(page_html: str) -> list[str]:
    "Text of every show_doc signature block (class jn-signature) of a built page."
    blocks = re.findall(r'<div class="[^"]*jn-signature[^"]*".*?<pre>(.*?)</pre>', page_html, re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", b)) for b in blocks]


def test_api_parameters_documented(site):
    """API entries of the numerics-to-CLI notebooks (API_DOC_NOTEBOOKS: 00-14) list every parameter with its documentation
    (nbdev renders numpy-style Parameters or docments as a comment on the parameter's own line)."""
    root, page_of, _ = site
    n_params, missing, no_unit = 0, [], []
    for stem in API_DOC_NOTEBOOKS:
        page = page_of[Path(f"{stem}.ipynb")]
        blocks = _signature_blocks((root / f"{page}.html").read_text(encoding="utf-8"))
        assert blocks, f"{page}.html: no API signature blocks"
        for b in blocks:
            lines = b.strip().splitlines()
            params = [l for l in lines[1:-1] if l.strip() and not l.strip().startswith("#")
                      and not re.fullmatch(r"\s*\*args,\s*\*\*kwargs,?\s*", l)]   # inherited (Exception)
            for l in params:   # fastcore puts undocumented parameters on one line, a documented one last
                code, doc = (l.split(" # ", 1) + [""])[:2]
                items = _top_level_items(code)
                n_params += len(items)
                missing += [f"{page}.html: {lines[0].strip()} ... {x.strip()}" for x in (items[:-1] if doc else items)]
                name = re.split(r"[:=]", items[-1].strip().lstrip("*"), maxsplit=1)[0].strip() if items else ""
                if doc and name in PHYSICAL_PARAMS and not _re_unit.search(doc):   # a physical quantity names its unit
                    no_unit.append(f"{page}.html: {lines[0].strip()} ... {l.strip()}")
    assert n_params > 300, f"only {n_params} parameters found in the API entries"
    assert not missing, f"{len(missing)} parameters without documentation:\n" + "\n".join(missing[:30])
    assert not no_unit, f"{len(no_unit)} physical parameters without a unit:\n" + "\n".join(no_unit[:30])
