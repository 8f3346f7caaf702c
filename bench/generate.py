"""Deterministic (seeded) synthetic logs for the benchmarks, generated with vectorised
polars expressions so that 5,000,000 lines take seconds, not minutes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

#: AI hosts the generator sprinkles in (about 3% of lines), the rest is ordinary browsing.
AI_HOSTS = [
    "chatgpt.com",
    "api.openai.com",
    "claude.ai",
    "api.anthropic.com",
    "gemini.google.com",
    "copilot.microsoft.com",
    "www.perplexity.ai",
    "huggingface.co",
    "chat.mistral.ai",
    "chat.deepseek.com",
    "api.githubcopilot.com",
    "poe.com",
    "www.midjourney.com",
]


def _choice(rng: np.random.Generator, values: list[str], n: int) -> pl.Series:
    idx = rng.integers(0, len(values), n)
    return pl.Series(values).gather(idx)


def squid(path: Path, lines: int, seed: int = 42, ai_share: float = 0.03) -> Path:
    """A Squid native access.log with ``lines`` lines."""
    rng = np.random.default_rng(seed)
    other_hosts = [f"www.site{i}.example.com" for i in range(5000)] + [
        f"cdn{i}.static.example.net" for i in range(500)
    ]
    batch = 1_000_000
    start = 1_730_707_200.0
    with open(path, "wb") as fh:
        for offset in range(0, lines, batch):
            n = min(batch, lines - offset)
            ts = start + (offset + np.arange(n)) * 0.017 + rng.random(n) * 0.01
            is_ai = rng.random(n) < ai_share
            hosts = pl.Series(
                np.where(
                    is_ai,
                    _choice(rng, AI_HOSTS, n).to_numpy(),
                    _choice(rng, other_hosts, n).to_numpy(),
                )
            )
            method = _choice(rng, ["GET", "GET", "GET", "POST", "CONNECT"], n)
            frame = pl.DataFrame(
                {
                    "ts": pl.Series(ts).round(3),
                    "elapsed": rng.integers(1, 5000, n),
                    "a": rng.integers(0, 2, n),  # about 3,000 clients, as in a mid-sized network
                    "b": rng.integers(0, 12, n),
                    "c": rng.integers(1, 126, n),
                    "status": _choice(
                        rng,
                        [
                            "TCP_MISS/200",
                            "TCP_MISS/200",
                            "TCP_TUNNEL/200",
                            "TCP_HIT/200",
                            "TCP_MISS/304",
                            "TCP_DENIED/403",
                        ],
                        n,
                    ),
                    "bytes": rng.integers(200, 500_000, n),
                    "method": method,
                    "host": hosts,
                    "path": rng.integers(0, 100_000, n),
                    "user": _choice(rng, ["-", "-", *[f"user{i:04d}" for i in range(2000)]], n),
                    "peer_c": rng.integers(0, 256, n),
                    "peer_d": rng.integers(1, 255, n),
                    "mime": _choice(rng, ["text/html", "application/json", "image/png", "-"], n),
                }
            )
            url = (
                pl.when(pl.col("method") == "CONNECT")
                .then(pl.format("{}:443", "host"))
                .otherwise(pl.format("https://{}/api/v1/resource/{}/index.html", "host", "path"))
            )
            out = frame.select(
                pl.format(
                    "{} {} 10.{}.{}.{} {} {} {} {} {} HIER_DIRECT/93.184.{}.{} {}",
                    pl.col("ts").cast(pl.String).str.pad_end(14, "0"),
                    pl.col("elapsed").cast(pl.String).str.pad_start(6, " "),
                    "a",
                    "b",
                    "c",
                    "status",
                    "bytes",
                    "method",
                    url,
                    "user",
                    "peer_c",
                    "peer_d",
                    "mime",
                ).alias("line")
            )
            fh.write(("\n".join(out["line"].to_list()) + "\n").encode())
    return path


def bind(path: Path, lines: int, seed: int = 43, ai_share: float = 0.03) -> Path:
    """A BIND 9 query log (``queries: info: client ...``) with ``lines`` lines."""
    rng = np.random.default_rng(seed)
    other_hosts = [f"www.site{i}.example.com" for i in range(5000)] + [
        f"cdn{i}.static.example.net" for i in range(500)
    ]
    months = ["Nov"]
    batch = 1_000_000
    start = 1_730_707_200.0
    with open(path, "wb") as fh:
        for offset in range(0, lines, batch):
            n = min(batch, lines - offset)
            ts = pl.Series(start + (offset + np.arange(n)) * 0.017).cast(pl.Float64)
            stamp = (
                (ts * 1_000_000)
                .cast(pl.Int64)
                .cast(pl.Datetime("us"))
                .dt.strftime("%d-" + months[0] + "-%Y %H:%M:%S%.3f")
            )
            is_ai = rng.random(n) < ai_share
            hosts = pl.Series(
                np.where(
                    is_ai,
                    _choice(rng, AI_HOSTS, n).to_numpy(),
                    _choice(rng, other_hosts, n).to_numpy(),
                )
            )
            frame = pl.DataFrame(
                {
                    "stamp": stamp,
                    "obj": _choice(
                        rng,
                        [
                            format(int(v), "x")
                            for v in rng.integers(0x7F0000000000, 0x7FFFFFFFFFFF, 4096)
                        ],
                        n,
                    ),
                    "a": rng.integers(0, 2, n),  # about 3,000 clients, as in a mid-sized network
                    "b": rng.integers(0, 12, n),
                    "c": rng.integers(1, 126, n),
                    "port": rng.integers(1024, 65535, n),
                    "host": hosts,
                    "qtype": _choice(rng, ["A", "A", "AAAA", "HTTPS"], n),
                }
            )
            out = frame.select(
                pl.format(
                    "{} queries: info: client @0x{} 10.{}.{}.{}#{} ({}): query: {} IN {} +E(0)K (10.0.0.53)",
                    "stamp",
                    "obj",
                    "a",
                    "b",
                    "c",
                    "port",
                    "host",
                    "host",
                    "qtype",
                ).alias("line")
            )
            fh.write(("\n".join(out["line"].to_list()) + "\n").encode())
    return path


#: PAN-OS App-IDs the generator uses; a few name AI applications.
APP_IDS = [
    "web-browsing",
    "ssl",
    "dns",
    "google-base",
    "ms-office365",
    "slack-base",
    "zoom",
    "quic",
]
AI_APP_IDS = ["openai-chatgpt", "openai-api", "claude-base", "github-copilot"]


def panos(path: Path, lines: int, seed: int = 44, ai_share: float = 0.03) -> Path:
    """A PAN-OS TRAFFIC log (syslog CSV) with hundreds of thousands of distinct
    destination addresses, as an internet-facing firewall sees."""
    rng = np.random.default_rng(seed)
    batch = 1_000_000
    start = 1_730_707_200.0
    with open(path, "wb") as fh:
        for offset in range(0, lines, batch):
            n = min(batch, lines - offset)
            ts = pl.Series(start + (offset + np.arange(n)) * 0.017)
            stamp = (ts * 1_000_000).cast(pl.Int64).cast(pl.Datetime("us"))
            is_ai = rng.random(n) < ai_share
            app = pl.Series(
                np.where(
                    is_ai,
                    _choice(rng, AI_APP_IDS, n).to_numpy(),
                    _choice(rng, APP_IDS, n).to_numpy(),
                )
            )
            frame = pl.DataFrame(
                {
                    "syslog": stamp.dt.strftime("%b %e %H:%M:%S"),
                    "when": stamp.dt.strftime("%Y/%m/%d %H:%M:%S"),
                    "a": rng.integers(0, 2, n),
                    "b": rng.integers(0, 12, n),
                    "c": rng.integers(1, 126, n),
                    # ~500,000 distinct destinations
                    "d1": rng.integers(1, 224, n),
                    "d2": rng.integers(0, 256, n),
                    "d3": rng.integers(0, 10, n),
                    "d4": rng.integers(1, 255, n),
                    "user": _choice(rng, ["", *[f"corp\\user{i:04d}" for i in range(2000)]], n),
                    "app": app,
                    "session": rng.integers(1, 10**7, n),
                    "sport": rng.integers(1024, 65535, n),
                    "dport": _choice(rng, ["443", "443", "80", "53"], n),
                    "proto": _choice(rng, ["tcp", "tcp", "udp"], n),
                    "action": _choice(rng, ["allow"] * 9 + ["deny"], n),
                    "sent": rng.integers(60, 200_000, n),
                    "recv": rng.integers(60, 2_000_000, n),
                    "elapsed": rng.integers(0, 600, n),
                }
            )
            out = frame.select(
                pl.format(
                    "{} PA-3220 1,{},012801012345,TRAFFIC,end,2561,{},10.{}.{}.{},{}.{}.{}.{},203.0.113.5,0.0.0.0,"
                    "allow-outbound,{},,{},vsys1,trust,untrust,ethernet1/2,ethernet1/1,log-fwd,{},{},1,{},{},0,0,"
                    "0x400053,{},{},{},{},{},20,{},{},any,0,7350000000000,0x0,10.0.0.0-10.255.255.255,"
                    "United States,0,10,10",
                    "syslog",
                    "when",
                    "when",
                    "a",
                    "b",
                    "c",
                    "d1",
                    "d2",
                    "d3",
                    "d4",
                    "user",
                    "app",
                    "when",
                    "session",
                    "sport",
                    "dport",
                    "proto",
                    "action",
                    pl.col("sent") + pl.col("recv"),
                    "sent",
                    "recv",
                    "when",
                    "elapsed",
                ).alias("line")
            )
            fh.write(("\n".join(out["line"].to_list()) + "\n").encode())
    return path


def dhcp_churn(folder: Path, lines: int, leases: int = 100_000, seed: int = 45) -> Path:
    """Attribution at scale: an unauthenticated Squid log where every line is AI traffic
    (``lines`` matched events over 30 days from 3,000 addresses), a Kea lease file in
    which each address passes through ~``leases / 3000`` devices (``leases`` leases), and
    an asset inventory naming each device's owner (2,000 people)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    start, span = 1_763_510_400, 30 * 86_400  # 2025-11-19, 30 days
    ips = [f"10.{a}.{b}.{c}" for a in range(2) for b in range(12) for c in range(1, 126)]
    per_ip = -(-leases // len(ips))
    length = span // per_ip
    lease = (
        pl.DataFrame({"n": np.arange(len(ips) * per_ip)})
        .with_columns(
            pl.Series(ips).gather(pl.Series(np.arange(len(ips) * per_ip) // per_ip)).alias("ip"),
            (pl.col("n") % per_ip).alias("k"),
        )
        .head(leases)
    )
    macs = [
        f"00:1a:{n >> 24 & 255:02x}:{n >> 16 & 255:02x}:{n >> 8 & 255:02x}:{n & 255:02x}"
        for n in range(lease.height)
    ]
    lease = lease.with_columns(
        pl.Series("mac", macs),
        (start + pl.col("k") * length + length).alias("expire"),
    )
    lease.select(
        pl.col("ip").alias("address"),
        pl.col("mac").alias("hwaddr"),
        pl.lit(None, pl.String).alias("client_id"),
        pl.lit(length).alias("valid_lifetime"),
        "expire",
        pl.lit(1).alias("subnet_id"),
        pl.lit(0).alias("fqdn_fwd"),
        pl.lit(0).alias("fqdn_rev"),
        pl.format("host-{}", "n").alias("hostname"),
        pl.lit(0).alias("state"),
        pl.lit(None, pl.String).alias("user_context"),
    ).write_csv(folder / "kea-leases4.csv")
    lease.select(
        pl.format("host-{}", "n").alias("hostname"),
        "mac",
        pl.format("user{}", (pl.col("n") * 7919) % 2000).alias("owner"),
    ).write_csv(folder / "assets.csv")
    batch = 1_000_000
    with open(folder / "access.log", "wb") as fh:
        for offset in range(0, lines, batch):
            n = min(batch, lines - offset)
            ts = start + (offset + np.arange(n)) * (span / lines)
            frame = pl.DataFrame(
                {
                    "ts": pl.Series(ts).round(3),
                    "ip": _choice(rng, ips, n),
                    "host": _choice(rng, AI_HOSTS, n),
                    "bytes": rng.integers(200, 500_000, n),
                }
            )
            out = frame.select(
                pl.format(
                    "{}    120 {} TCP_TUNNEL/200 {} CONNECT {}:443 - HIER_DIRECT/104.18.32.47 -",
                    pl.col("ts").cast(pl.String).str.pad_end(14, "0"),
                    "ip",
                    "bytes",
                    "host",
                ).alias("line")
            )
            fh.write(("\n".join(out["line"].to_list()) + "\n").encode())
    return folder


def main() -> None:
    """``python -m bench.generate squid PATH LINES``: run in a child process so the
    benchmark's parent stays small (a child's peak RSS counts its parent's at fork)."""
    import sys

    kind, path, lines = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    {"squid": squid, "bind": bind, "panos": panos, "dhcp_churn": dhcp_churn}[kind](path, lines)


if __name__ == "__main__":
    main()
