"""The Dockerfiles the manifests' images come from: they exist, copy only what the repository
has (and .dockerignore lets through), run the module and port the manifests expect, and their
build steps really produce a working service (replayed here with uv, without Docker)."""

from __future__ import annotations

import fnmatch
import os
import re
import shlex
import shutil
import subprocess
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text
from tollgate_common.db import create_engine
from tollgate_common.testing import scratch_database

from tests.support import REPO
from tests.support.manifests import IMAGES, Image, Object, image_name, tollgate_containers


@dataclass(frozen=True)
class Dockerfile:
    copies: list[tuple[str, str]]  # (source, destination) of COPY without --from
    runs: list[str]
    instructions: list[tuple[str, str]]

    def last(self, instruction: str) -> str:
        return [args for name, args in self.instructions if name == instruction][-1]


def parse_dockerfile(path: Path) -> Dockerfile:
    text = re.sub(r"\\\n", " ", path.read_text())
    instructions = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, args = line.partition(" ")
        instructions.append((name.upper(), args.strip()))
    copies = []
    for name, args in instructions:
        if name == "COPY" and not args.startswith("--from"):
            *sources, destination = shlex.split(args)
            copies += [(source, destination) for source in sources]
    runs = [args for name, args in instructions if name == "RUN"]
    return Dockerfile(copies, runs, instructions)


def dockerignore_patterns() -> list[str]:
    lines = (REPO / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def ignored(path: str) -> bool:
    """Whether .dockerignore keeps ``path`` out of the build context (the pattern forms the
    file uses: plain paths, globs, and a leading ``**/``, each also excluding what lies below)."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in dockerignore_patterns():
        for prefix in prefixes:
            if fnmatch.fnmatchcase(prefix, pattern):
                return True
            if pattern.startswith("**/") and fnmatch.fnmatchcase(
                prefix.rsplit("/", 1)[-1], pattern[3:]
            ):
                return True
    return False


def workspace_members() -> list[str]:
    root = tomllib.loads((REPO / "pyproject.toml").read_text())
    members: list[str] = root["tool"]["uv"]["workspace"]["members"]
    return members


def manifest_images(rendered: dict[str, list[Object]]) -> set[str]:
    return {
        image_name(container["image"])
        for objects in rendered.values()
        for _, container, _ in tollgate_containers(objects)
    }


def test_every_image_the_manifests_run_has_a_dockerfile(
    rendered: dict[str, list[Object]],
) -> None:
    assert manifest_images(rendered) == set(IMAGES)
    for image in IMAGES.values():
        assert (REPO / image.folder / "Dockerfile").is_file(), image.folder


@pytest.mark.parametrize("image", IMAGES.values(), ids=lambda image: image.name)
def test_the_dockerfile_copies_what_exists_and_runs_the_module_on_its_port(image: Image) -> None:
    dockerfile = parse_dockerfile(REPO / image.folder / "Dockerfile")
    for source, _ in dockerfile.copies:
        assert (REPO / source).exists(), f"COPY {source}: not in the repository"
        assert not ignored(source), f"COPY {source}: excluded by .dockerignore"
    copied = {source for source, _ in dockerfile.copies}
    # uv needs every workspace member's pyproject.toml to read the workspace and the lock.
    assert {f"{member}/pyproject.toml" for member in workspace_members()} <= copied
    assert {"pyproject.toml", "uv.lock", f"{image.folder}/src"} <= copied
    for run in dockerfile.runs:
        if run.startswith("uv sync"):
            assert "--frozen" in run and f"--package {image.name}" in run
    assert dockerfile.last("ENTRYPOINT") == f'["python", "-m", "{image.module}"]'
    assert (REPO / image.folder / "src" / image.module / "__main__.py").is_file()
    assert dockerfile.last("EXPOSE") == str(image.port)
    assert dockerfile.last("USER") == "10001:10001"
    # The uv image is the uv version the Makefile pins.
    uv_pin = re.search(r"'uv==([\d.]+)'", (REPO / "Makefile").read_text())
    assert uv_pin is not None
    assert dockerfile.instructions[1] == ("FROM", f"ghcr.io/astral-sh/uv:{uv_pin[1]} AS uv")


def test_the_manifests_run_the_images_as_built(rendered: dict[str, list[Object]]) -> None:
    for objects in rendered.values():
        for workload, container, image in tollgate_containers(objects):
            assert "command" not in container, "the image's ENTRYPOINT is the command"
            assert container["args"] in (["serve"], ["migrate"])
            user = workload["spec"]["template"]["spec"]["securityContext"]["runAsUser"]
            assert user == 10001, image.name


def _build(image: Image, root: Path) -> Path:
    """Replay the build stage: the COPY steps into ``root/src``, then each `RUN uv ...`."""
    dockerfile = parse_dockerfile(REPO / image.folder / "Dockerfile")
    source_root = root / "src"
    venv = root / "venv"
    env = {
        **os.environ,
        "UV_PROJECT_ENVIRONMENT": str(venv),
        "UV_LINK_MODE": "hardlink",  # faster than the image's copy; same files
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_COMPILE_BYTECODE": "0",  # the image compiles; the replay need not
    }
    env.pop("VIRTUAL_ENV", None)
    copies = iter(dockerfile.copies)
    for name, args in dockerfile.instructions:
        if name == "COPY" and not args.startswith("--from"):
            for _ in range(len(shlex.split(args)) - 1):
                source, destination = next(copies)
                target = source_root / destination.rstrip("/")
                if destination.endswith("/") or destination == "./":
                    target = target / Path(source).name
                target.parent.mkdir(parents=True, exist_ok=True)
                if (REPO / source).is_dir():
                    shutil.copytree(
                        REPO / source, target, ignore=shutil.ignore_patterns("__pycache__")
                    )
                else:
                    shutil.copy2(REPO / source, target)
        elif name == "RUN" and args.startswith("uv "):
            uv = REPO / ".venv" / "bin" / "uv"
            result = subprocess.run(
                [str(uv), *shlex.split(args)[1:]],
                cwd=source_root,
                env=env,
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
            assert result.returncode == 0, result.stderr
    return venv


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Image], Path]:
    """The virtual environment an image's build steps produce, built once per image."""
    cache: dict[str, Path] = {}

    def build(image: Image) -> Path:
        if image.name not in cache:
            cache[image.name] = _build(image, tmp_path_factory.mktemp(image.name))
        return cache[image.name]

    return build


def _run_module(venv: Path, image: Image, cwd: Path, env: dict[str, str], *args: str) -> None:
    result = subprocess.run(
        [str(venv / "bin" / "python"), "-m", image.module, *args],
        cwd=cwd,  # not the repository: only what the image installed is importable
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def _clean_env(tmp_path: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("TOLLGATE_")}
    env["TOLLGATE_DATA_DIR"] = str(tmp_path / "data")
    return env


@pytest.mark.parametrize("image", IMAGES.values(), ids=lambda image: image.name)
def test_the_build_installs_only_the_image_s_own_packages(
    builds: Callable[[Image], Path], image: Image
) -> None:
    installed = {
        path.name
        for path in (builds(image) / "lib").glob("python*/site-packages/tollgate_*")
        if path.is_dir() and not path.name.endswith(".dist-info")
    }
    assert installed == {"tollgate_common", image.module}


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
@pytest.mark.parametrize(
    "image", [i for i in IMAGES.values() if i.has_database], ids=lambda image: image.name
)
async def test_the_built_service_migrates_its_database(
    builds: Callable[[Image], Path], image: Image, kind: str, tmp_path: Path
) -> None:
    """What the init container runs: `python -m tollgate_<svc> migrate`, with a database URL
    like the manifests' (PostgreSQL, as in the cluster, when TOLLGATE_TEST_POSTGRES_URL is set)."""
    venv = builds(image)
    env = _clean_env(tmp_path)
    prefix = image.module.removeprefix("tollgate_").upper()
    async with scratch_database(kind, tmp_path, f"image_{prefix.lower()}") as url:
        env[f"TOLLGATE_{prefix}_DATABASE_URL"] = url
        _run_module(venv, image, tmp_path, env, "migrate")
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                query = text("SELECT version_num FROM alembic_version")
                version = (await connection.execute(query)).scalar_one()
        finally:
            await engine.dispose()
    assert version


def test_the_built_edge_accepts_the_init_command(
    builds: Callable[[Image], Path], tmp_path: Path
) -> None:
    """The edge has no database; `migrate` is accepted (and imports the whole app) like the
    services' so every image answers the same commands."""
    image = IMAGES["tollgate-edge"]
    _run_module(builds(image), image, tmp_path, _clean_env(tmp_path), "migrate")
