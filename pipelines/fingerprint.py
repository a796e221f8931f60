"""Fingerprints of what a run reads: the articles folder (one stat per file) and the project's code.

A published warehouse records both; `trialfx run --if-changed` compares them with the folder and
code as they are now and, when neither changed, leaves the warehouse as it is without starting a run.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from pipelines.ingest.readers import FolderScan

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# What decides the warehouse's contents besides the articles: code, SQL models, vocabularies.
CODE_FOLDERS = ("pipelines", "schemas", "sql", "warehouse")
CODE_SUFFIXES = {".py", ".sql", ".yml", ".yaml", ".toml", ".json"}


def folder_fingerprint(scan: FolderScan) -> str:
    """Changes whenever a file is added, removed, resized or touched, or the walk finds other errors."""
    digest = hashlib.sha256()
    for source in scan.files:
        digest.update(f"{source.source_path}\0{source.signature}\n".encode())
    for error in scan.errors:
        digest.update(f"!{error.source_path}\0{error.error}\0{error.detail}\n".encode())
    return digest.hexdigest()


def code_fingerprint(root: Path = PROJECT_ROOT) -> str:
    """Digest of every source file under the project's code folders (names and contents)."""
    digest = hashlib.sha256()
    for folder in CODE_FOLDERS:
        for path in sorted((root / folder).rglob("*")):
            if path.suffix in CODE_SUFFIXES and path.is_file() and "__pycache__" not in path.parts:
                digest.update(path.relative_to(root).as_posix().encode() + b"\0")
                digest.update(path.read_bytes())
    return digest.hexdigest()


# The columns of staging.run_inputs, in the order run_inputs gives them.
RUN_INPUT_COLUMNS = ["articles_root", "folder_fingerprint", "code_fingerprint"]


def run_inputs(root: Path, scan: FolderScan) -> tuple[str, str, str]:
    """What a build from ``root`` is made from: the folder's resolved path and both fingerprints."""
    return str(Path(root).resolve()), folder_fingerprint(scan), code_fingerprint()
