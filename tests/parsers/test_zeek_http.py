"""Zeek http.log (TSV): header handling, fields, escapes, sniffing and properties; also the
shared Zeek TSV toolkit (containers, escapes, header blocks) in ``parsers/_zeek.py``."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.detect import detect_lines
from shadowscan.parsers import PARSERS, ParseContext
from shadowscan.parsers._zeek import ZeekLog, ZeekTsvParser
from shadowscan.parsers.zeek_http import ZeekHttpParser
from tests.parsers.props import NOISE, check_accounting

FIELDS = [
    "ts",
    "uid",
    "id.orig_h",
    "id.orig_p",
    "id.resp_h",
    "id.resp_p",
    "trans_depth",
    "method",
    "host",
    "uri",
    "referrer",
    "version",
    "user_agent",
    "request_body_len",
    "response_body_len",
    "status_code",
    "status_msg",
    "tags",
    "username",
    "resp_mime_types",
]
TYPES = [
    "time",
    "string",
    "addr",
    "port",
    "addr",
    "port",
    "count",
    "string",
    "string",
    "string",
    "string",
    "string",
    "string",
    "count",
    "count",
    "count",
    "string",
    "set[enum]",
    "string",
    "vector[string]",
]


def zeek_header(
    path: str = "http",
    fields: list[str] = FIELDS,
    types: list[str] = TYPES,
    sep: str = "\t",
    sep_escaped: str = "\\x09",
    unset: str = "-",
) -> list[str]:
    return [
        f"#separator {sep_escaped}",
        f"#set_separator{sep},",
        f"#empty_field{sep}(empty)",
        f"#unset_field{sep}{unset}",
        f"#path{sep}{path}",
        f"#open{sep}2024-11-04-08-00-00",
        "#fields" + sep + sep.join(fields),
        "#types" + sep + sep.join(types),
    ]


def record(**values: object) -> str:
    """One data line in FIELDS order; unspecified fields are unset."""
    base: dict[str, object] = {
        "ts": "1730707200.500000",
        "uid": "CAbCdEfGhIjKlMnOp1",
        "id.orig_h": "10.30.0.8",
        "id.orig_p": 50000,
        "id.resp_h": "198.51.100.7",
        "id.resp_p": 80,
        "trans_depth": 1,
        "tags": "(empty)",
        "request_body_len": 0,
        "response_body_len": 0,
    }
    base.update(values)
    return "\t".join(str(base.get(f, "-")) for f in FIELDS)


def parse_batches(
    batches: list[list[str]], parser_cls: type[ZeekTsvParser] = ZeekHttpParser
) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """Parse consecutive batches with one parser instance (as the engine does per file)."""
    parser = parser_cls(ParseContext("t"))
    events, rejected, skipped, offset = [], [], 0, 0
    for lines in batches:
        batch = pl.DataFrame(
            {
                "line_no": pl.Series(range(offset, offset + len(lines)), dtype=pl.UInt64),
                "line": pl.Series(lines, dtype=pl.String),
            }
        )
        out = parser.parse(batch)
        assert out.events.height + out.rejected.height + out.skipped == len(lines)
        events.append(out.events)
        rejected.append(out.rejected)
        skipped += out.skipped
        offset += len(lines)
    return pl.concat(events, how="diagonal_relaxed"), pl.concat(rejected), skipped


def parse_lines(lines: list[str]) -> pl.DataFrame:
    return parse_batches([lines])[0]


def test_fields() -> None:
    rows = parse_lines(
        [
            *zeek_header(),
            record(
                method="CONNECT",
                host="chatgpt.com:443",
                uri="chatgpt.com:443",
                **{"id.resp_h": "10.30.0.5", "id.resp_p": 3128},
                status_code=200,
                username="CORP\\x5cjdoe",
            ),
            record(
                ts="1730707201.250000",
                method="post",
                host="api.openai.com",
                uri="http://api.openai.com/v1/chat/completions?key=secret",
                user_agent="OpenAI/Python 1.54.3",
                request_body_len=18244,
                response_body_len=96310,
                status_code=200,
                username="jdoe",
            ),
            record(method="GET", host="Claude.AI.", uri="/new?x=1", status_code=302),
            record(method="CONNECT", host="gemini.google.com:443", status_code=403),
        ]
    ).to_dicts()
    connect, post, get, refused = rows
    assert connect["ts"] == dt.datetime(2024, 11, 4, 8, 0, 0, 500000, tzinfo=dt.UTC)
    assert (connect["host"], connect["url"], connect["user"], connect["method"]) == (
        "chatgpt.com",
        None,
        "CORP\\jdoe",
        "CONNECT",
    )
    assert (connect["dst_ip"], connect["dst_port"], connect["src_ip"], connect["src_port"]) == (
        "10.30.0.5",
        3128,
        "10.30.0.8",
        50000,
    )
    assert connect["zeek_uid"] == "CAbCdEfGhIjKlMnOp1"
    assert (post["url"], post["method"], post["bytes_out"], post["bytes_in"]) == (
        "http://api.openai.com/v1/chat/completions",
        "POST",
        18244,
        96310,
    )
    assert (post["user"], post["user_agent"], post["status"], post["action"]) == (
        "jdoe",
        "OpenAI/Python 1.54.3",
        200,
        "allowed",
    )
    assert (get["host"], get["url"], get["user"], get["user_agent"]) == (
        "claude.ai",
        "http://claude.ai/new",
        None,
        None,
    )
    assert refused["action"] == "blocked"


def test_url_forms() -> None:
    rows = parse_lines(
        [
            *zeek_header(),
            record(method="GET", host="intranet.example:8080", uri="/a/b"),
            record(method="GET", host="[2001:db8::1]:8080", uri="/x"),
            record(method="GET", host="-", uri="/no-host"),
            record(method="GET", host="proxy-sees-this.example", uri="http://chatgpt.com/c/1"),
            record(method="OPTIONS", host="api.openai.com", uri="*"),
            record(method="GET", host="api.openai.com", uri="-"),
            record(method="-", host="-", uri="-"),
        ]
    ).to_dicts()
    assert [r["host"] for r in rows] == [
        "intranet.example",
        "2001:db8::1",
        None,
        "chatgpt.com",
        "api.openai.com",
        "api.openai.com",
        None,
    ]
    assert [r["url"] for r in rows] == [
        "http://intranet.example:8080/a/b",
        "http://[2001:db8::1]:8080/x",
        None,
        "http://chatgpt.com/c/1",
        "http://api.openai.com/*",
        "http://api.openai.com/",
        None,
    ]
    assert rows[-1]["action"] == "unknown"
    assert rows[-1]["method"] is None


def test_escapes_and_markers() -> None:
    rows = parse_lines(
        [
            *zeek_header(),
            record(
                method="GET",
                host="chatgpt.com",
                uri="/caf\\xc3\\xa9/\\xff",
                user_agent="UA\\x09with tab",
                username="\\x2d",
            ),
            record(method="GET", host="chatgpt.com", uri="/", username="(empty)"),
        ]
    ).to_dicts()
    assert rows[0]["url"] == "http://chatgpt.com/café/ÿ"
    assert rows[0]["user_agent"] == "UA\twith tab"
    assert rows[0]["user"] == "-"  # a user literally named "-" (Zeek escapes it)
    assert rows[1]["user"] is None  # (empty)


def test_btest_baseline_masked_ts() -> None:
    lines = [
        '### BTest baseline data generated by btest-diff. Do not edit. Use "btest -U/-u" to update.',
        *zeek_header(),
        record(ts="XXXXXXXXXX.XXXXXX", method="GET", host="claude.ai", uri="/"),
        "#close XXXX-XX-XX-XX-XX-XX",
    ]
    events, rejected, skipped = parse_batches([lines])
    assert events.height == 1 and rejected.height == 0 and skipped == len(lines) - 1
    assert events["ts"][0] is None
    assert events["host"][0] == "claude.ai"
    assert detect_lines(lines).format == "zeek_http"


def test_header_state_carries_across_batches_and_resets() -> None:
    header = zeek_header()
    pipe_fields = ["ts", "uid", "id.orig_h", "host", "uri", "method", "username"]
    pipe_types = ["time", "string", "addr", "string", "string", "string", "string"]
    second = zeek_header(
        fields=pipe_fields, types=pipe_types, sep="|", sep_escaped="\\x7c", unset="NONE"
    )
    events, rejected, _ = parse_batches(
        [
            header[:5],
            [*header[5:], record(method="GET", host="chatgpt.com", uri="/")],
            [
                record(method="GET", host="claude.ai", uri="/"),
                *second,
                "1730707300.0|Cq|10.30.0.9|api.openai.com|/v1/models|GET|NONE",
                "1730707300.0|Cq|10.30.0.9|api.openai.com|/v1/models|GET|bob|extra",
                *zeek_header(path="dns", fields=["ts", "query"], types=["time", "string"]),
                "1730707300.0\tchatgpt.com",
            ],
        ]
    )
    assert events["host"].to_list() == ["chatgpt.com", "claude.ai", "api.openai.com"]
    assert events["user"][2] is None  # NONE is the unset marker of the second block
    assert events["src_port"][2] is None  # not in that block's #fields
    reasons = rejected.sort("line_no")["reason"].to_list()
    assert reasons == ["field count differs from #fields", "#path dns is not a Zeek http.log"]


def test_rejections() -> None:
    good = record(method="GET", host="chatgpt.com", uri="/")
    events, rejected, _ = parse_batches(
        [
            [
                good,  # before any header
                *zeek_header(path="http_eth1"),  # split stream: still http
                good,
                good.rsplit("\t", 3)[0],
                "not-a-time" + good[good.index("\t") :],
                good + "\textra",
            ]
        ]
    )
    assert events.height == 1
    assert rejected.sort("line_no")["reason"].to_list() == [
        "no #fields header before this line",
        "field count differs from #fields",
        "invalid ts",
        "field count differs from #fields",
    ]


def test_sniff_positive_and_negative() -> None:
    lines = [*zeek_header(), record(method="GET", host="chatgpt.com", uri="/")]
    assert detect_lines(lines).format == "zeek_http"
    cls = PARSERS.get("zeek_http")
    no_path = [ln for ln in lines if not ln.startswith("#path")]
    assert (sniff := cls.sniff(no_path)) is not None and sniff.score >= 0.6
    assert cls.sniff(zeek_header(path="ssl")) is None
    assert cls.sniff(zeek_header(path="dns", fields=["ts", "query"])) is None
    assert cls.sniff(['{"ts":1.0,"uid":"C1","id.orig_h":"10.0.0.1","trans_depth":1}']) is None
    assert (
        cls.sniff(["1730707200.000 1 10.0.0.1 TCP_MISS/200 10 GET http://a/ - DIRECT/- -"]) is None
    )


# --- the toolkit: containers and other types, for logs declared elsewhere ----------------


def _typed_frame(r: pl.DataFrame) -> pl.DataFrame:
    return r


def test_toolkit_types_and_containers() -> None:
    dns_log = ZeekLog(
        path="dns",
        types={
            "ts": "time",
            "query": "string",
            "answers": "vector[string]",
            "TTLs": "vector[interval]",
            "rejected": "bool",
            "trans_id": "count",
        },
        events=_typed_frame,
        markers=("query",),
    )

    class DnsTsv(ZeekTsvParser):
        name = "dns_test"
        log_type = "dns"
        summary = example = "test"
        log = dns_log

    fields = ["ts", "query", "answers", "TTLs", "rejected", "trans_id"]
    types = ["time", "string", "vector[string]", "vector[interval]", "bool", "count"]
    rows = parse_batches(
        [
            [
                *zeek_header(path="dns", fields=fields, types=types),
                "1730707200.0\tchatgpt.com\tchatgpt.com.cdn.example,a\\x2cb\t60.000000,30.5\tF\t4711",
                "1730707200.0\tclaude.ai\t(empty)\t(empty)\tT\t-",
                "1730707200.0\t-\t-\t-\t-\t-",
            ]
        ],
        DnsTsv,
    )[0].to_dicts()
    assert rows[0]["answers"] == ["chatgpt.com.cdn.example", "a,b"]
    assert rows[0]["TTLs"] == [60.0, 30.5]
    assert (rows[0]["rejected"], rows[0]["trans_id"]) == (False, 4711)
    assert (rows[1]["answers"], rows[1]["TTLs"], rows[1]["rejected"]) == ([], [], True)
    assert rows[2] == {
        "line_no": 10,
        "ts": dt.datetime(2024, 11, 4, 8, 0, tzinfo=dt.UTC),
        "query": None,
        "answers": None,
        "TTLs": None,
        "rejected": None,
        "trans_id": None,
    }


# --- properties ----------------------------------------------------------------------

hosts = st.sampled_from(["chatgpt.com", "api.openai.com", "claude.ai", "www.example.com", "-"])
users = st.sampled_from(["-", "jdoe", "(empty)", "CORP\\x5cjdoe"])
methods = st.sampled_from(["GET", "POST", "CONNECT", "-"])


@st.composite
def http_records(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    ts = draw(st.integers(946684800, 2_000_000_000)) + draw(st.integers(0, 999999)) / 1e6
    host, method, user = draw(hosts), draw(methods), draw(users)
    port = draw(st.integers(1, 65535))
    req, resp = draw(st.integers(0, 10**10)), draw(st.integers(0, 10**10))
    status = draw(st.one_of(st.just("-"), st.integers(100, 599)))
    line = record(
        ts=f"{ts:.6f}",
        host=host,
        method=method,
        uri="/p" if method != "CONNECT" else f"{host}:443",
        username=user,
        request_body_len=req,
        response_body_len=resp,
        status_code=status,
        **{"id.resp_p": port},
    )
    expected = {
        "host": None if host == "-" else host,
        "dst_port": port,
        "bytes_out": req,
        "bytes_in": resp,
        "status": None if status == "-" else status,
        "user": {"-": None, "(empty)": None, "CORP\\x5cjdoe": "CORP\\jdoe"}.get(user, user),
    }
    return line, expected


@given(st.lists(st.one_of(http_records().map(lambda t: t[0]), NOISE), max_size=40))
def test_never_raises_and_counts_every_line(lines: list[str]) -> None:
    check_accounting("zeek_http", [*zeek_header(), *lines])


@given(st.lists(st.one_of(http_records().map(lambda t: t[0]), NOISE), max_size=20))
def test_headerless_noise_is_accounted(lines: list[str]) -> None:
    check_accounting("zeek_http", lines)


@given(http_records())
def test_rendered_lines_round_trip(case: tuple[str, dict[str, object]]) -> None:
    line, expected = case
    row = parse_lines([*zeek_header(), line]).row(0, named=True)
    for key, value in expected.items():
        assert row[key] == value, key
