"""The offline docs site in a real browser (Debian's chromium, headless).

A session fixture builds the site with tools/build_docs.py into a temporary folder, serves it on 127.0.0.1
(http.server in a thread, free port) and opens every built page in headless chromium with every host but
127.0.0.1 unresolvable, so a page that needed the internet would show it.  Checks: every notebook has a
page, in the navigation in notebook order; every page loads with no failed request; every internal link
and anchor resolves; the math is typeset by MathJax with no TeX error; the figures stored in the notebooks
are on their pages and load; the search works offline.  Screenshots of every page go to _site_shots/.

Needs chromium (`apt-get install -y chromium`): without it the tests fail, they do not skip.
"""
import html.parser
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
    log: list = []

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
