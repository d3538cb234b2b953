"""Execute notebooks top to bottom and keep their outputs, so the docs site (tools/build_docs.py) shows figures.

    python tools/run_notebooks.py [--full] [--mpl_format png|retina|svg] [NOTEBOOK ...]

NOTEBOOK: paths or names under nbs/ (`01_background`, `nbs/01_background.ipynb`); default: every notebook nbdev
documents, in file-name order. Each notebook runs in its own Python process (no state shared between notebooks),
in the notebook's folder, with execnb's CaptureShell (what `nbdev_test` runs notebooks with), cell by cell. Cells
that `nbdev_test` skips are skipped here too and keep their stored outputs: `#| eval: false` cells and cells that
call `nbdev_export(` (re-exporting the library from a half-run notebook is not this tool's business).
`--full` sets JEANS_NBDEV_FULL=1 (the notebooks' full training budget; hours for 04-06); without it the
notebooks run at the CI budget and JEANS_NBDEV_FULL is set to 0 whatever the environment says.

On success the notebook is rewritten with the new outputs and then cleaned with `nbdev_clean` (which keeps
outputs and drops execution metadata), so CI's "nbdev_clean changes nothing" check still passes. On an
exception the run stops with an error naming the notebook, the cell (number and first line) and the exception,
and that notebook is left unchanged (already-finished notebooks keep their new outputs). The wall time of every
notebook is printed. Exit status: 0 when every notebook ran, 1 otherwise.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT / "nbs"


def notebooks(nbs: Path = NBS) -> list[Path]:
    "Notebooks nbdev documents (no file or folder starting with _ or .), in file-name order."
    return sorted(p for p in nbs.rglob("*.ipynb")
                  if not any(part.startswith(("_", ".")) for part in p.relative_to(nbs).parts))


def resolve(name: str) -> Path:
    "A notebook given as a path (from the working folder or the repository root) or a name under nbs/."
    cands = [Path(name), ROOT / name, NBS / name, NBS / f"{name}.ipynb"]
    for c in cands:
        if c.is_file() and c.suffix == ".ipynb":
            return c.resolve()
    raise SystemExit(f"run_notebooks: no notebook {name!r} (looked in ., {ROOT} and {NBS})")


def _rel(p: Path) -> str:
    "Path relative to the repository root when inside it."
    try:
        return str(p.relative_to(ROOT))
    except ValueError:
        return str(p)


def _skipped(source: str) -> bool:
    "Cells nbdev_test does not run: `#| eval: false` and the ones that call nbdev_export."
    if "nbdev_export" + "(" in source:
        return True
    for line in source.splitlines():
        s = line.strip()
        if not s.startswith("#|"):
            if s:
                break
            continue
        key, _, val = s[2:].strip().partition(":")
        if key.strip() == "eval" and val.strip().lower() == "false":
            return True
    return False


def _terminal_text(text: str) -> str:
    "What a terminal (or Jupyter) shows of text with carriage returns: each line's part after its last \\r."
    return "\n".join(line.rsplit("\r", 1)[-1] for line in text.split("\n"))


def _squash_progress(cell) -> None:
    "Progress bars (tqdm writes \\r-redraws to stderr) stored as their final state, not every redraw."
    for o in cell.get("outputs", []) or []:
        if o.get("output_type") == "stream" and "\r" in "".join(o.get("text", "")):
            t = o["text"]
            lines = _terminal_text("".join(t)).splitlines(keepends=True)
            o["text"] = lines if isinstance(t, list) else "".join(lines)


# ----------------------------------------------------------------------------------- child: one notebook
def _execute(src: Path, dest: Path, mpl_format: str) -> int:
    "Run every cell of `src`; on success write the notebook with outputs to `dest` and return 0, else print the error."
    from execnb.nbio import read_nb, write_nb
    from execnb.shell import CaptureShell

    nb = read_nb(src)
    os.chdir(src.parent)
    shell = CaptureShell(src, mpl_format=mpl_format)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or _skipped(cell.source):
            continue
        t0 = time.perf_counter()
        shell.cell(cell)
        if shell.exc is not None:
            first = next((l for l in cell.source.splitlines() if l.strip() and not l.lstrip().startswith("#|")), "")
            print(f"run_notebooks: {src.name}: cell #{i + 1} (code, `{first.strip()[:80]}`) raised "
                  f"{type(shell.exc).__name__}: {shell.exc}", file=sys.stderr)
            try:
                print(shell.prettytb(fname=str(src)), file=sys.stderr)
            except Exception:  # the traceback is a convenience; the line above is the error
                pass
            return 1
        _squash_progress(cell)
        dt = time.perf_counter() - t0
        if dt > 30:
            print(f"  cell #{i + 1}: {dt:.0f} s", flush=True)
    write_nb(nb, dest)
    return 0


# ----------------------------------------------------------------------------------- parent
def run_one(nb: Path, full: bool, mpl_format: str) -> tuple[bool, float]:
    "Execute `nb` in a fresh process; replace it (then nbdev_clean it) only when every cell ran. (ok, seconds)."
    env = dict(os.environ, JEANS_NBDEV_FULL="1" if full else "0")
    fd, tmp = tempfile.mkstemp(prefix=f".{nb.stem}-", suffix=".ipynb", dir=nb.parent)  # same folder: atomic replace
    os.close(fd)
    t0 = time.perf_counter()
    try:
        r = subprocess.run([sys.executable, __file__, "--_child", str(nb), tmp, "--mpl_format", mpl_format], env=env)
        wall = time.perf_counter() - t0
        if r.returncode != 0:
            print(f"run_notebooks: {_rel(nb)} FAILED after {wall:.1f} s; the notebook is unchanged",
                  file=sys.stderr, flush=True)
            return False, wall
        json.loads(Path(tmp).read_text(encoding="utf-8"))  # a complete notebook before it replaces the original
        os.replace(tmp, nb)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    c = subprocess.run(["nbdev_clean", "--fname", str(nb)], cwd=ROOT, capture_output=True, text=True)
    if c.returncode != 0:
        print(f"run_notebooks: nbdev_clean failed on {_rel(nb)}: {c.stderr.strip()}", file=sys.stderr)
        return False, wall
    return True, wall


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("notebooks", nargs="*", help="notebooks (default: all under nbs/)")
    p.add_argument("--full", action="store_true", help="JEANS_NBDEV_FULL=1: the notebooks' full budget (hours)")
    p.add_argument("--mpl_format", default="png", choices=("png", "retina", "svg"),
                   help="matplotlib figure format (png: smallest notebooks; retina: 2x PNG)")
    p.add_argument("--_child", nargs=2, metavar=("SRC", "DEST"), help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a._child:
        return _execute(Path(a._child[0]), Path(a._child[1]), a.mpl_format)
    todo = [resolve(n) for n in a.notebooks] if a.notebooks else notebooks()
    print(f"run_notebooks: {len(todo)} notebook(s), {'FULL' if a.full else 'CI'} budget", flush=True)
    times, t_all = [], time.perf_counter()
    for nb in todo:
        print(f"== {_rel(nb)}", flush=True)
        ok, wall = run_one(nb, a.full, a.mpl_format)
        if not ok:
            return 1
        n_img = sum(any(k.startswith("image/") for k in o.get("data", {}))
                    for c in json.loads(nb.read_text(encoding="utf-8"))["cells"] for o in c.get("outputs", []))
        times.append((nb, wall, n_img))
        print(f"   {_rel(nb)}: {wall:.1f} s, {n_img} figure(s)", flush=True)
    print(f"run_notebooks: done in {time.perf_counter() - t_all:.1f} s:")
    for nb, wall, n_img in times:
        print(f"  {wall:8.1f} s  {n_img:3d} fig  {_rel(nb)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
