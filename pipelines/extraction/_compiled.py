"""The extractor compiled with mypyc, used only when it was built from exactly these sources.

`make` builds it (``_compiled.main``) into build/mypyc/<hash>, where the
hash covers every compiled module's source and the Python version. On import, the package puts
that folder first on its own search path when it exists for the sources as they are now; after
any edit the hash differs and the plain modules run until the next build, so a stale build can
never run in place of the code beside it. TRIALFX_PURE_PYTHON=1 always runs the plain modules
(for profiling and debugging: compiled functions show no lines).

Compiled code checks every annotation at run time, so the package must stay clean under mypy
(tests/unit/extraction/test_extraction_types.py). Output is the same either way
(tests/unit/extraction/test_extraction_compiled.py).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SOURCE_DIR = Path(__file__).resolve().parent
BUILD_ROOT = SOURCE_DIR.parents[1] / "build" / "mypyc"
# The package's own __init__ (which chooses) and this module stay plain Python.
_PLAIN = {"__init__.py", "_compiled.py"}
# Plain modules outside the package that compiled ones import: the build type-checks against them.
DEPENDENCIES = (SOURCE_DIR.parent / "regex_cache.py",)


def compiled_modules(source_dir: Path = SOURCE_DIR) -> list[Path]:
    return sorted(p for p in source_dir.glob("*.py") if p.name not in _PLAIN)


def source_hash(source_dir: Path = SOURCE_DIR) -> str:
    """What a build is made from: each compiled module's and dependency's name and bytes, and the Python it is for."""
    digest = hashlib.sha256(sys.implementation.cache_tag.encode())
    for path in [*compiled_modules(source_dir), *DEPENDENCIES]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def build_dir(source_dir: Path = SOURCE_DIR, root: Path | None = None) -> Path:
    return (root or BUILD_ROOT) / source_hash(source_dir)


def use_if_current(package_path: list[str]) -> bool:
    """Put the compiled modules first on ``package_path`` when a build of these sources exists."""
    if os.environ.get("TRIALFX_PURE_PYTHON"):
        return False
    build = build_dir()
    modules = build / "pipelines" / "extraction"
    if not modules.is_dir():
        return False
    # mypyc puts the library the compiled modules share at the top of the build.
    sys.path.append(str(build))
    package_path.insert(0, str(modules))
    return True


def build(root: Path | None = None) -> Path:
    """Compile the current sources into root/<hash> (nothing to do when that exists); older builds go."""
    root = root or BUILD_ROOT
    target = build_dir(root=root)
    if target.is_dir():
        return target
    root.mkdir(parents=True, exist_ok=True)
    # Built beside the target and renamed into place, so a build cut short is never taken for one.
    work = Path(tempfile.mkdtemp(dir=root, prefix=".building-"))
    try:
        package = work / "pipelines" / "extraction"
        package.mkdir(parents=True)
        (work / "pipelines" / "__init__.py").write_text("")
        (package / "__init__.py").write_text("")
        modules = compiled_modules()
        for path in modules:
            shutil.copy2(path, package / path.name)
        for path in DEPENDENCIES:
            shutil.copy2(path, work / "pipelines" / path.name)
        sources = [f"pipelines/extraction/{path.name}" for path in modules]
        subprocess.run([sys.executable, "-m", "mypyc", *sources], cwd=work, check=True, stdout=subprocess.DEVNULL)
        shutil.rmtree(work / "build", ignore_errors=True)
        work.rename(target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        if not target.is_dir():  # another build of the same sources may have finished first
            raise
    for old in root.iterdir():
        if old != target and not old.name.startswith("."):
            shutil.rmtree(old, ignore_errors=True)
    return target


def main() -> None:
    """Build for the current sources (`make` runs this before any command that extracts)."""
    existed = build_dir().is_dir()
    started = time.perf_counter()
    where = build()
    state = "up to date" if existed else f"built in {time.perf_counter() - started:.0f} s"
    print(f"compiled extractor {where}: {state}")
