"""The package's layout agrees with itself: the README's module map, the notebooks' order and the import graph
(each module imports only modules exported by earlier notebooks), and no module imports another's private names."""
import ast
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "jeans_nbdev"


def _notebook_modules() -> list[str]:
    "Modules in notebook order (nbs/NN_*.ipynb sorted by name), from each notebook's `#| default_exp`."
    out = []
    for nb in sorted((ROOT / "nbs").glob("[0-9][0-9]_*.ipynb")):
        first = "".join(json.loads(nb.read_text())["cells"][0]["source"])
        out.append(re.fullmatch(r"#\| default_exp (\w+)\s*", first).group(1))
    return out


def _readme_modules() -> list[str]:
    "The module column of the README's table, in order."
    text = (ROOT / "README.md").read_text()
    return re.findall(r"^\| `\d\d_\w+` \| `(\w+)` \|", text, flags=re.M)


def _package_imports(module: str) -> list[tuple[str, list[str]]]:
    "(imported jeans_nbdev module, imported names) for every import in the module, at any depth."
    out = []
    for node in ast.walk(ast.parse((PKG / f"{module}.py").read_text())):
        if isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            if node.level == 1 and mod:                              # from .x import a, b
                out.append((mod, [a.name for a in node.names]))
            elif node.level == 1:                                    # from . import x, y
                out += [(a.name, []) for a in node.names]
            elif mod.startswith("jeans_nbdev."):
                out.append((mod.split(".")[1], [a.name for a in node.names]))
            elif mod == "jeans_nbdev":
                out += [(a.name, []) for a in node.names]
        elif isinstance(node, ast.Import):
            out += [(a.name.split(".")[1], []) for a in node.names if a.name.startswith("jeans_nbdev.")]
    return out


def test_readme_map_is_the_notebook_order():
    mods = _notebook_modules()
    assert mods == _readme_modules(), (mods, _readme_modules())
    assert len(set(mods)) == len(mods) and all((PKG / f"{m}.py").is_file() for m in mods)


def test_modules_import_only_earlier_modules_and_public_names():
    mods = _notebook_modules()
    for i, m in enumerate(mods):
        for dep, names in _package_imports(m):
            assert dep in mods[:i], f"{m} imports {dep}, which is not exported by an earlier notebook"
            private = [n for n in names if n.startswith("_")]
            assert not private, f"{m} imports private names {private} from {dep}"


def test_float64_is_switched_on_in_one_place():
    hits = [p.name for p in PKG.glob("*.py") if "jax_enable_x64" in p.read_text()]
    assert hits == ["numerics.py"], hits
