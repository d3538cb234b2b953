"""Build script: all metadata and requirements come from settings.ini (nbdev 2 layout)."""
from configparser import ConfigParser
from pathlib import Path

import setuptools

_here = Path(__file__).parent
cfg = ConfigParser(delimiters=["="])
cfg.read(_here / "settings.ini", encoding="utf-8")
cfg = cfg["DEFAULT"]

_licenses = {"apache2": "Apache-2.0"}  # SPDX expression (licence classifiers are deprecated)
_statuses = ["Planning", "Pre-Alpha", "Alpha", "Beta", "Production/Stable", "Mature", "Inactive"]
lic_name = _licenses[cfg["license"]]
min_python = cfg["min_python"]
requirements = cfg.get("requirements", "").split()
dev_requirements = cfg.get("dev_requirements", "").split()
scripts = cfg.get("console_scripts", "").split()

setuptools.setup(
    name=cfg["lib_name"],
    version=cfg["version"],
    description=cfg["description"],
    long_description=(_here / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    author=cfg["author"],
    author_email=cfg["author_email"],
    license=lic_name,
    url=cfg["git_url"],
    keywords=cfg["keywords"].split(),
    classifiers=[
        f"Development Status :: {cfg['status']} - {_statuses[int(cfg['status'])]}",
        f"Intended Audience :: {cfg['audience']}",
        f"Natural Language :: {cfg['language']}",
        f"Programming Language :: Python :: {min_python}",
        "Topic :: Scientific/Engineering :: Astronomy",
    ],
    packages=setuptools.find_packages(include=[cfg["lib_name"], cfg["lib_name"] + ".*"]),
    include_package_data=True,
    package_data={cfg["lib_name"]: ["data/gaia_challenge/*/*.dat", "data/gaia_challenge/README.md",
                                   "data/walker_dwarfs/*.csv", "data/walker_dwarfs/README.md"]},
    install_requires=requirements,
    extras_require={"dev": dev_requirements},
    python_requires=f">={min_python}",
    entry_points={"console_scripts": scripts, "nbdev": [f"{cfg['lib_path']}={cfg['lib_path']}._modidx:d"]},
    zip_safe=False,
)
