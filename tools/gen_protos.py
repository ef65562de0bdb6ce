"""Generate the Python stubs of every proto under protos/ (and check them for drift).

python tools/gen_protos.py OUT_DIR          write stubs into OUT_DIR
python tools/gen_protos.py --check OUT_DIR  exit 1 if OUT_DIR differs from fresh output
"""

from __future__ import annotations

import filecmp
import shutil
import sys
import sysconfig
import tempfile
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "protos"


def generate(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    files = sorted(str(p.relative_to(PROTO_ROOT)) for p in PROTO_ROOT.rglob("*.proto"))
    well_known = Path(protoc.__file__).parent / "_proto"
    plugin = Path(sysconfig.get_path("scripts")) / "protoc-gen-mypy_grpc"
    args = [
        "protoc",
        f"-I{PROTO_ROOT}",
        f"-I{well_known}",
        f"--python_out={out}",
        f"--pyi_out={out}",
        f"--grpc_python_out={out}",
        f"--plugin=protoc-gen-mypy_grpc={plugin}",
        f"--mypy_grpc_out={out}",
        *files,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    for directory in [out / "tollgate", *(p for p in (out / "tollgate").rglob("*") if p.is_dir())]:
        (directory / "__init__.py").touch()
        (directory / "py.typed").touch() if directory == out / "tollgate" else None


def differs(a: Path, b: Path) -> list[str]:
    cmp = filecmp.dircmp(a, b)
    problems = [f"{a.name}/{n}" for n in cmp.left_only + cmp.right_only + cmp.diff_files]
    for sub in cmp.common_dirs:
        problems += differs(a / sub, b / sub)
    return problems


def main(argv: list[str]) -> int:
    check = "--check" in argv
    out = Path(next(a for a in argv if not a.startswith("--")))
    if not check:
        shutil.rmtree(out / "tollgate", ignore_errors=True)
        generate(out)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp))
        problems = differs(out / "tollgate", Path(tmp) / "tollgate")
    if problems:
        print("generated stubs are stale, run `make protos`:", *problems, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
