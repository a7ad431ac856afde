"""The layout installs as promised: widgets/ and themes/ land inside oos_tui."""

from __future__ import annotations

import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (whl,) = out.glob("oos_tui-*.whl")
    return whl


def test_wheel_maps_widgets_and_themes_into_the_package(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "oos_tui/widgets/__init__.py" in names
    assert "oos_tui/themes/__init__.py" in names
    assert "oos_tui/store/schema.sql" in names
    assert any(n.startswith("oos_tui/themes/") and n.endswith(".tcss") for n in names)
    assert not any(n.startswith(("widgets/", "themes/", "tests/", "bench/")) for n in names)


def test_every_source_package_is_in_the_wheel(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for init in (ROOT / "oos_tui").rglob("__init__.py"):
        rel = init.relative_to(ROOT).as_posix()
        assert rel in names, f"{rel} is missing from pyproject's package list"


def test_pip_install_into_fresh_venv(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    subprocess.run(
        [str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    ok = subprocess.run(
        [str(py), "-c", "import oos_tui.widgets, oos_tui.themes; print('ok')"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert ok.stdout.strip() == "ok", ok.stderr
    bad = subprocess.run([str(py), "-c", "import widgets"], cwd=tmp_path, capture_output=True)
    assert bad.returncode != 0
    bad = subprocess.run([str(py), "-c", "import themes"], cwd=tmp_path, capture_output=True)
    assert bad.returncode != 0
    assert (env_dir / "bin" / "oos-tui").exists()
