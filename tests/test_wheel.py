"""A plain (non-editable) install works from any directory: the signatures ship inside
the wheel and are found through importlib.resources."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.mark.slow
def test_wheel_ships_signatures_and_runs_elsewhere(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(dist),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("shadowscan-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "shadowscan/_signatures/openai.yaml" in names
    assert not any(n.startswith("signatures/") for n in names)
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "a.log").write_text(
        "1730707200.000 412 10.20.1.15 TCP_TUNNEL/200 48211 CONNECT chatgpt.com:443 - HIER_DIRECT/104.18.32.47 -\n",
        encoding="utf-8",
    )
    code = (
        "import shadowscan, shadowscan.signatures as s, shadowscan.api as a;"
        f"d = s.bundled_dir(); assert str(d).startswith({str(target)!r}), d;"
        "r = a.scan(['a.log']); print(r.findings['service_id'][0], len(s.load_catalogue().services))"
    )
    # -I: isolated mode, so neither the checkout nor an editable install can be imported.
    env = {"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(target)!r}); {code}"],
        cwd=elsewhere,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    assert out.stdout.split()[0] == "openai-chatgpt"
