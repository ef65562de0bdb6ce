"""The repository explains itself: no file outside docs/ cites the team's notes that live
outside it, and every test folder belongs to a tier registered with pytest."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from tests.support import REPO
from tests.support.tiers import TIERS, tier_of

# Files that are never committed (.gitignore) or are generated elsewhere.
NOT_OURS = {
    ".git",
    ".venv",
    ".venv-litellm",
    "node_modules",
    ".tollgate",
    "test-artifacts",
    "__pycache__",
}
# The notes shared beside the repository (design, conventions, admin API, protocol research).
OUTSIDE = re.compile(r"\bDESIGN\b|\bCONVENTIONS\b|\bADMIN-API\b|research/|protocols\.md")


def ours(folder: Path) -> list[Path]:
    files = []
    for path in folder.iterdir():
        if path.name in NOT_OURS or path.name.endswith("_cache"):
            continue
        files.extend(ours(path) if path.is_dir() else [path])
    return files


def test_nothing_outside_docs_cites_notes_outside_the_repository() -> None:
    citing = []
    for path in ours(REPO):
        relative = path.relative_to(REPO)
        if relative.parts[0] == "docs" or path == Path(__file__):
            continue
        text = path.read_bytes().decode("utf-8", errors="replace")
        citing += [
            f"{relative}:{number}: {line.strip()}"
            for number, line in enumerate(text.splitlines(), 1)
            if OUTSIDE.search(line)
        ]
    assert citing == [], "say the fact itself, or point to docs/:\n" + "\n".join(citing)


def test_the_tiers_are_the_markers_pyproject_registers() -> None:
    options = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["pytest"]
    registered = {line.split(":")[0] for line in options["ini_options"]["markers"]}
    assert set(TIERS) <= registered


def test_every_test_module_is_in_a_tier_folder() -> None:
    modules = [
        path
        for path in ours(REPO)
        if path.name.startswith("test_") and path.suffix == ".py" and "tests" in path.parts
    ]
    assert modules
    assert [str(path) for path in modules if tier_of(path) is None] == []


def test_a_folder_decides_the_tier() -> None:
    assert tier_of(REPO / "services/router/tests/unit/test_x.py") == "unit"
    assert tier_of(REPO / "services/router/tests/integration/test_x.py") == "integration"
    assert tier_of(REPO / "gateway-edge/tests/unit/test_x.py") == "unit"
    assert tier_of(REPO / "tests/integration/test_x.py") == "integration"
    assert tier_of(REPO / "tests/fakes/test_x.py") == "integration"
    assert tier_of(REPO / "tests/suite/test_x.py") == "suite"
    assert tier_of(REPO / "tests/clients/test_x.py") == "clients"
    assert tier_of(REPO / "tests/e2e/test_x.py") == "e2e"
    assert tier_of(REPO / "tests/deploy/test_x.py") == "deploy"
    assert tier_of(REPO / "tests/test_x.py") is None
