"""--engine dask: on a LocalCluster of 2 worker processes, the same findings and line
accounting as the local engine, with compressed files, mixed formats, files cut into byte
ranges, and attribution; inputs through fsspec URLs."""

from __future__ import annotations

import gzip
import shutil
from collections.abc import Iterator
from pathlib import Path

import fsspec
import polars as pl
import pytest

from shadowscan.api import build_attributor, scan
from shadowscan.distributed import DaskEngine

ROOT = Path(__file__).resolve().parent.parent
IDENTITY = [
    str(ROOT / "sample_identity/dhcpd_leases/demo-2024.leases"),
    str(ROOT / "sample_identity/asset_inventory/demo-assets.csv"),
    str(ROOT / "sample_identity/windows_logon/demo-2024.ndjson"),
]
DIRECTORY = [str(ROOT / "sample_identity/directory/directory_csv/hr-people.csv")]

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client() -> Iterator[object]:
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample logs, some gzipped, plus a Squid log large enough to be cut in ranges."""
    root = tmp_path_factory.mktemp("dask") / "logs"
    shutil.copytree(ROOT / "sample_logs", root)
    for name in ("squid/access.log", "bind/named-queries.log", "panos/traffic.log"):
        path = root / name
        if path.exists():
            with open(path, "rb") as src, gzip.open(f"{path}.gz", "wb") as gz:
                shutil.copyfileobj(src, gz)
            path.unlink()
    big = (ROOT / "sample_logs/squid/access.log").read_text(encoding="utf-8") * 40
    (root / "squid" / "big.log").write_text(big, encoding="utf-8")
    return root


def _scan(paths: list[str], engine: DaskEngine | None) -> tuple[pl.DataFrame, dict[str, int]]:
    result = scan(paths, attributor=build_attributor(IDENTITY, DIRECTORY), engine=engine)
    findings = result.findings.sort(pl.all(), nulls_last=True)
    return findings, result.stats.to_dict()["totals"]


def test_same_findings_and_accounting_as_the_local_engine(client: object, logs: Path) -> None:
    local, local_totals = _scan([str(logs)], None)
    engine = DaskEngine(client=client, split_bytes=4096)  # cut big.log into ~30 ranges
    remote, remote_totals = _scan([str(logs)], engine)
    assert remote_totals == local_totals
    assert remote.equals(local)
    assert local.filter(pl.col("attribution") == "ip_lease+asset").height > 0


def test_inputs_through_fsspec_urls(client: object, logs: Path) -> None:
    local, _ = _scan([str(logs / "squid")], None)
    remote, _ = _scan([f"file://{logs / 'squid'}"], DaskEngine(client=client, split_bytes=4096))
    assert remote.drop("src_ips").equals(local.drop("src_ips"))


def test_in_memory_fsspec_url_with_the_local_engine(logs: Path) -> None:
    fs = fsspec.filesystem("memory")
    text = (ROOT / "sample_logs/squid/access.log").read_bytes()
    with fs.open("/shadowscan-test/proxy/access.log", "wb") as fh:
        fh.write(text)
    from_memory = scan(["memory://shadowscan-test/proxy"]).findings
    from_disk = scan([str(ROOT / "sample_logs/squid/access.log")]).findings
    assert from_memory.height == from_disk.height > 0
    assert (
        from_memory.select("user", "service_id", "requests")
        .sort(pl.all())
        .equals(from_disk.select("user", "service_id", "requests").sort(pl.all()))
    )


def test_a_failing_task_fails_the_scan(client: object, tmp_path: Path) -> None:
    missing = tmp_path / "gone.log"
    missing.write_text("x\n", encoding="utf-8")
    engine = DaskEngine(client=client, retries=1)
    with pytest.raises(Exception, match=r"gone\.log"):
        scan([str(missing)], engine=engine, log_format="squid")


def test_the_local_engine_never_imports_dask() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from shadowscan.cli import app; from shadowscan.api import scan; "
        f"scan([{str(ROOT / 'sample_logs/squid/access.log')!r}]); "
        "bad = [m for m in sys.modules if m.split('.')[0] in {'dask', 'distributed'}]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_engine_options_are_checked_before_scanning() -> None:
    from typer.testing import CliRunner

    from shadowscan.cli import app

    squid = str(ROOT / "sample_logs/squid")
    assert CliRunner().invoke(app, ["scan", squid, "--engine", "spark"]).exit_code == 2
    assert CliRunner().invoke(app, ["scan", squid, "--dask-workers", "2"]).exit_code == 2
    res = CliRunner().invoke(
        app, ["scan", squid, "--engine", "dask", "--state", "/tmp/x.duckdb", "-q"]
    )
    assert res.exit_code == 2
