"""``make bench``: time shadowscan and a ``grep -c -F -f`` baseline on the same generated
file, in the same run, and report the ratio (machines are shared and noisy, so only
ratios measured side by side mean anything). Each command runs ``--repeat`` times; the
best time of each is compared."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path


def run(cmd: list[str], stdout_path: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one command."""
    with open(stdout_path, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):  # grep -c exits 1 on no match
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"benchmark command failed ({proc.returncode}): {' '.join(cmd)}\n{err}")
    if proc.stderr:
        proc.stderr.close()
    return wall, usage.ru_maxrss / 1024


def best(cmd: list[str], out: Path, repeat: int) -> tuple[float, float]:
    runs = [run(cmd, out) for _ in range(repeat)]
    return min(r[0] for r in runs), max(r[1] for r in runs)


def signature_domains(path: Path, extra: Sequence[str] = ()) -> Path:
    """Every signature domain (and URL-pattern host), as ``grep -F -f`` patterns."""
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "from shadowscan.signatures import load_catalogue as l; import json;"
            "print(json.dumps([[*s.domains, *(p.partition('/')[0] for p in s.url_patterns)] for s in l().active()]))",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    literals = set()
    for domains in json.loads(out.stdout):
        for d in domains:
            literals.add(max(d.replace("*.", "*").split("*"), key=len).strip("."))
    literals.update(extra)
    path.write_text("\n".join(sorted(x for x in literals if x)) + "\n", encoding="utf-8")
    return path


def bench_format(
    tmp: Path,
    fmt: str,
    lines: int,
    repeat: int,
    target: float = 3.0,
    extra_patterns: Sequence[str] = (),
) -> dict[str, float]:
    """shadowscan against ``grep -c -F -f <signature domains>`` on a generated ``fmt`` log,
    in the same run; ``target`` is the allowed ratio."""
    log = tmp / f"{fmt}.log"
    subprocess.run([sys.executable, "-m", "bench.generate", fmt, str(log), str(lines)], check=True)
    patterns = signature_domains(tmp / "domains.txt", extra_patterns)
    shadowscan = [
        sys.executable,
        "-m",
        "shadowscan.cli",
        "scan",
        str(log),
        "--log-format",
        fmt,
        "-q",
        "-F",
        "ndjson",
    ]
    grep = ["grep", "-c", "-F", "-f", str(patterns), str(log)]
    g_wall, _ = best(grep, tmp / "grep.out", repeat)
    s_wall, s_rss = best(shadowscan, tmp / "scan.out", repeat)
    findings = len((tmp / "scan.out").read_text(encoding="utf-8").splitlines())
    n_patterns = len(patterns.read_text(encoding="utf-8").splitlines())
    print(f"{fmt}, {lines:,} lines ({log.stat().st_size / 2**20:,.0f} MiB), {findings:,} findings")
    print(f"  grep -c -F -f ({n_patterns} patterns): {g_wall:6.2f} s")
    print(
        f"  shadowscan scan (parse, match, aggregate): {s_wall:6.2f} s, peak RSS {s_rss:,.0f} MiB"
    )
    ratio = s_wall / g_wall
    verdict = "ok" if ratio <= target and s_rss < 400 else "OVER TARGET"
    print(
        f"  ratio shadowscan/grep: {ratio:.2f}x (target <= {target:g}x, RSS < 400 MiB): {verdict}"
    )
    log.unlink()
    return {"grep_s": g_wall, "scan_s": s_wall, "ratio": ratio, "rss_mib": s_rss}


def app_ids() -> list[str]:
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "from shadowscan.signatures import load_catalogue as l;"
            "print('\\n'.join(a for s in l().active() for a in s.app_ids))",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return [a for a in out.stdout.splitlines() if a]


def bench_matching(hosts: int, repeat: int) -> float:
    """Match ``hosts`` distinct hosts against the whole catalogue (fresh matcher, no cache)."""
    code = f"""
import random, time, polars as pl
from shadowscan.api import build_matcher
from shadowscan.schema import conform
rng = random.Random(7)
m = build_matcher()
ai = sorted({{d.removeprefix('*.') for s in m.services.values() for d in s.domains if '*' not in d.removeprefix('*.')}})
words = ['mail', 'cdn', 'api', 'www', 'static', 'img', 'app', 'login', 'eu', 'us']
hosts = set()
while len(hosts) < {hosts}:
    if rng.random() < 0.1:
        hosts.add(rng.choice(words) + str(rng.randrange(100)) + '.' + rng.choice(ai))
    else:
        hosts.add(rng.choice(words) + str(rng.randrange(10**6)) + '.example' + str(rng.randrange(500)) + '.com')
frame = conform(pl.DataFrame({{'host': sorted(hosts), 'url': None, 'line_no': range(len(hosts))}}))
best = 1e9
for _ in range({repeat}):
    m = build_matcher()
    t = time.perf_counter()
    out = m.match_frame(frame)
    best = min(best, time.perf_counter() - t)
print(best, out.height, len(m.services))
"""
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    seconds, matched, services = out.stdout.split()
    verdict = "ok" if float(seconds) < 1 else "OVER TARGET"
    print(
        f"matching {hosts:,} distinct hosts against {services} services: {float(seconds):.3f} s ({matched} matched; target < 1 s): {verdict}"
    )
    return float(seconds)


def bench_attribution(tmp: Path, lines: int, repeat: int, target: float = 2.0) -> dict[str, float]:
    """The same unauthenticated log scanned without attribution, then attributed to
    people through 100,000 DHCP leases and an asset inventory (every line is AI
    traffic, so every line is an event to attribute)."""
    folder = tmp / "churn"
    subprocess.run(
        [sys.executable, "-m", "bench.generate", "dhcp_churn", str(folder), str(lines)], check=True
    )
    base = [sys.executable, "-m", "shadowscan.cli", "scan", str(folder / "access.log")]
    base += ["--log-format", "squid", "-q", "-F", "ndjson"]
    plain = [*base, "--evidence-window", "0"]
    attributed = [
        *base,
        "--identity",
        f"kea_leases:{folder / 'kea-leases4.csv'}",
        "--identity",
        f"asset_inventory:{folder / 'assets.csv'}",
    ]
    p_wall, p_rss = best(plain, tmp / "plain.out", repeat)
    a_wall, a_rss = best(attributed, tmp / "attributed.out", repeat)
    named = sum(
        1
        for line in (tmp / "attributed.out").read_text(encoding="utf-8").splitlines()
        if json.loads(line)["attribution"] == "ip_lease+asset"
    )
    print(f"attribution, {lines:,} matched events, 100,000 leases: {named:,} findings attributed")
    print(f"  scan without attribution: {p_wall:6.2f} s, peak RSS {p_rss:,.0f} MiB")
    print(f"  scan with leases + assets: {a_wall:6.2f} s, peak RSS {a_rss:,.0f} MiB")
    ratio = a_wall / p_wall
    verdict = "ok" if ratio <= target else "OVER TARGET"
    print(f"  ratio attributed/plain: {ratio:.2f}x (target < {target:g}x): {verdict}")
    shutil.rmtree(folder, ignore_errors=True)
    return {"plain_s": p_wall, "attributed_s": a_wall, "ratio": ratio}


def bench_dask(tmp: Path, lines: int, repeat: int, workers: int = 2) -> dict[str, float]:
    """The same generated Squid log scanned by the local engine and by --engine dask on a
    local cluster of ``workers`` processes (cluster start-up included: it is part of what
    a user waits for)."""
    log = tmp / "dask-squid.log"
    subprocess.run(
        [sys.executable, "-m", "bench.generate", "squid", str(log), str(lines)], check=True
    )
    base = [
        sys.executable,
        "-m",
        "shadowscan.cli",
        "scan",
        str(log),
        "-f",
        "squid",
        "-q",
        "-F",
        "ndjson",
    ]
    l_wall, l_rss = best(base, tmp / "local.out", repeat)
    d_wall, d_rss = best(
        [*base, "--engine", "dask", "--dask-workers", str(workers)], tmp / "dask.out", repeat
    )
    same = (tmp / "local.out").read_bytes() == (tmp / "dask.out").read_bytes()
    print(
        f"dask engine, squid {lines:,} lines ({log.stat().st_size / 2**20:,.0f} MiB), {workers} local workers"
    )
    print(f"  local engine: {l_wall:6.2f} s, peak RSS {l_rss:,.0f} MiB")
    print(f"  dask engine:  {d_wall:6.2f} s (driver peak RSS {d_rss:,.0f} MiB)")
    print(f"  ratio dask/local: {d_wall / l_wall:.2f}x; identical findings: {same}")
    log.unlink()
    return {"local_s": l_wall, "dask_s": d_wall}


def main() -> None:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__)
    parser.add_argument("--lines", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--formats",
        nargs="*",
        default=["squid", "bind", "panos", "attribution", "dask"],
        help="generated logs to time",
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="shadowscan-bench-"))
    try:
        print(f"cores: {os.cpu_count()}, python {sys.version.split()[0]}")
        bench_matching(10_000, args.repeat)
        for fmt in args.formats:
            if fmt == "panos":  # firewalls: App-IDs too, and a looser target (issue: 4x)
                bench_format(
                    tmp, fmt, args.lines, args.repeat, target=4.0, extra_patterns=app_ids()
                )
            elif fmt == "attribution":
                bench_attribution(tmp, args.lines, args.repeat)
            elif fmt == "dask":
                bench_dask(tmp, args.lines, args.repeat)
            else:
                bench_format(tmp, fmt, args.lines, args.repeat)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
