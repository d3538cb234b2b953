"""Write README.md from nbs/index.ipynb without Quarto (nbdev_readme needs Quarto, which cannot run offline).

Markdown cells are copied as they are; code cells become fenced Python blocks followed by their text output
(if the notebook holds outputs); cells flagged `#| hide` are left out.  `--check` exits 1 when README.md
differs from what the notebook gives, which CI uses to keep the two in sync.

Usage: python tools/nb2readme.py [--check]
"""
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEADER = "<!-- Generated from nbs/index.ipynb by `python tools/nb2readme.py`: edit the notebook, not this file. -->\n\n"


def _is_hidden(src: str) -> bool:
    return any(line.strip() in ("#| hide", "#|hide") for line in src.splitlines())


def _strip_directives(src: str) -> str:
    return "\n".join(l for l in src.splitlines() if not l.lstrip().startswith("#|")).strip()


def _cell_md(cell: dict) -> str:
    src = "".join(cell["source"])
    if cell["cell_type"] == "markdown":
        return src.strip()
    if cell["cell_type"] != "code" or _is_hidden(src):
        return ""
    out = f"```python\n{_strip_directives(src)}\n```"
    texts = ["".join(o.get("text", "")) for o in cell.get("outputs", []) if o.get("output_type") == "stream"]
    return out + ("\n\n```\n" + "".join(texts).rstrip() + "\n```" if any(texts) else "")


def render(nb_path: Path = ROOT / "nbs" / "index.ipynb") -> str:
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    parts = [p for p in (_cell_md(c) for c in nb["cells"]) if p]
    return HEADER + "\n\n".join(parts) + "\n"


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    text, readme = render(), ROOT / "README.md"
    if "--check" in argv:
        if not readme.exists() or readme.read_text(encoding="utf-8") != text:
            print("README.md is out of sync with nbs/index.ipynb: run `python tools/nb2readme.py`", file=sys.stderr)
            return 1
        return 0
    readme.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
