"""The config file: one key per `scan` option (checked against the command itself),
discovery, relative paths, command line over file, located errors, the full check."""

from __future__ import annotations

import functools
import os
import typing
from pathlib import Path
from typing import Any

import pytest
import trustme
import typer
import yaml
from hypothesis import given
from hypothesis import strategies as st

import shadowscan.cli
from shadowscan.config import (
    CONFIG_ENV,
    KEY_FOR_PARAM,
    KEY_SHAPES,
    Config,
    ConfigError,
    check_config,
    find_config,
    load_config,
    merge,
    shape,
)
from shadowscan.errors import ExitStatus, UsageError

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "docs" / "shadowscan.yaml"
IDENTITY = ROOT / "sample_identity"


@functools.cache
def scan_params() -> dict[str, Any]:
    """The `scan` command's parameters by config key (``config`` itself is no key)."""
    command = typer.main.get_command(shadowscan.cli.app)
    assert isinstance(command, typer.core.TyperGroup)
    return {
        KEY_FOR_PARAM.get(p.name, p.name): p
        for p in command.commands["scan"].params
        if p.name and p.name != "config"
    }


@functools.cache
def scan_hints() -> dict[str, Any]:
    return typing.get_type_hints(shadowscan.cli.scan)


def write(tmp_path: Path, text: str, name: str = "shadowscan.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.exit_status == ExitStatus.USAGE
    return info.value.problems


# --- every option has its key ---------------------------------------------------------------


def test_every_scan_option_has_a_key_and_every_key_an_option() -> None:
    options, keys = set(scan_params()), set(Config.model_fields)
    assert not options - keys, f"scan options without a config key: {sorted(options - keys)}"
    assert not keys - options, f"config keys no scan option has: {sorted(keys - options)}"


@pytest.mark.parametrize("key", sorted(scan_params()))
def test_key_has_the_option_type_and_accepts_its_default(key: str) -> None:
    param = scan_params()[key]
    kind, is_list = shape(scan_hints()[param.name])
    assert KEY_SHAPES[key] == (kind, is_list)
    assert is_list == bool(param.multiple or param.nargs == -1)
    if param.default is not None:
        assert getattr(Config.model_validate({key: param.default}), key) == param.default


# --- finding the file -------------------------------------------------------------------------


def test_discovery_order(tmp_path: Path) -> None:
    explicit = write(tmp_path, "quiet: true\n", "explicit.yaml")
    from_env = write(tmp_path, "quiet: true\n", "env.yaml")
    local = write(tmp_path, "quiet: true\n")
    env = {CONFIG_ENV: str(from_env)}
    assert find_config(explicit, environ=env, cwd=tmp_path) == explicit
    assert find_config(None, environ=env, cwd=tmp_path) == from_env
    assert find_config(None, environ={CONFIG_ENV: ""}, cwd=tmp_path) == local
    local.unlink()
    assert find_config(None, environ={}, cwd=tmp_path) is None


def test_discovery_uses_the_working_directory(tmp_path: Path, monkeypatch: Any) -> None:
    local = write(tmp_path, "quiet: true\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    assert find_config(None) == tmp_path / local.name


def test_a_named_file_that_is_missing_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "quiet: true\n")  # not used when a file is named
    with pytest.raises(UsageError, match=r"^--config .*nope\.yaml: no such file"):
        find_config(tmp_path / "nope.yaml", environ={}, cwd=tmp_path)
    env = {CONFIG_ENV: str(tmp_path / "gone.yaml")}
    with pytest.raises(UsageError, match=rf"^{CONFIG_ENV}=.*gone\.yaml: no such file: fix"):
        find_config(None, environ=env, cwd=tmp_path)
    with pytest.raises(UsageError, match="is a directory"):
        find_config(tmp_path, environ={}, cwd=tmp_path)


# --- paths relative to the file ---------------------------------------------------------------


def test_relative_paths_resolve_against_the_files_directory(
    tmp_path: Path, monkeypatch: Any
) -> None:
    etc = tmp_path / "etc"
    etc.mkdir()
    monkeypatch.chdir(tmp_path)  # not where they resolve
    path = write(
        etc,
        """\
inputs: [logs/access.log, "logs/*.log.gz", "-", /var/log/squid/access.log]
identity: [dhcpd_leases:leases/dhcpd.leases, assets.csv, "/srv/x:y.csv"]
directory: [ldif:ad.ldif]
signatures: [sigs, /opt/sigs]
policy: policy.yaml
sites: ../sites.csv
state: state/shadowscan.duckdb
send:
  - syslog+tls://siem:6514?cert_file=tls/client.pem&key_file=/k.pem
  - hec+https://splunk:8088?index=main
""",
    )
    config = load_config(Path("etc/shadowscan.yaml"))
    assert config.inputs == [
        f"{etc}/logs/access.log",
        f"{etc}/logs/*.log.gz",
        "-",
        "/var/log/squid/access.log",
    ]
    assert config.identity == [
        f"dhcpd_leases:{etc}/leases/dhcpd.leases",
        f"{etc}/assets.csv",
        "/srv/x:y.csv",
    ]
    assert config.directory == [f"ldif:{etc}/ad.ldif"]
    assert config.signatures == [etc / "sigs", Path("/opt/sigs")]
    assert config.policy == etc / "policy.yaml"
    assert config.sites == etc / ".." / "sites.csv"
    assert config.state == etc / "state" / "shadowscan.duckdb"
    assert config.send == [
        f"syslog+tls://siem:6514?cert_file={etc}/tls/client.pem&key_file=/k.pem",
        "hec+https://splunk:8088?index=main",
    ]
    assert path.is_file()


@pytest.mark.parametrize("key", sorted(k for k, (kind, _) in KEY_SHAPES.items() if kind is Path))
def test_every_path_key_resolves(tmp_path: Path, key: str) -> None:
    _, is_list = KEY_SHAPES[key]
    value = "[rel/file]" if is_list else "rel/file"
    config = load_config(write(tmp_path, f"{key}: {value}\n"))
    expected = tmp_path / "rel" / "file"
    assert getattr(config, key) == ([expected] if is_list else expected)


def test_home_is_expanded(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    config = load_config(write(tmp_path, "pseudonymize: ~/secure/shadowscan.key\n"))
    assert config.pseudonymize == tmp_path / "home" / "secure" / "shadowscan.key"


def test_glob_base_is_escaped(tmp_path: Path) -> None:
    odd = tmp_path / "[prod]"
    odd.mkdir()
    (odd / "a.log").write_text("x\n")
    config = load_config(write(odd, "inputs: ['*.log']\n"))
    assert config.inputs is not None
    assert config.inputs == [f"{tmp_path}/[[]prod]/*.log"]


# --- the command line over the file ------------------------------------------------------------


def test_merge_command_line_over_file_over_defaults(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            "inputs: [/logs]\nsend: [syslog+tcp://a:514, syslog+tcp://b:514]\n"
            "fail_on: high\nquiet: true\nidentity: [/id/leases]\n",
        )
    )
    defaults = {
        "paths": None,
        "send": None,
        "fail_on": None,
        "quiet": False,
        "timezone": "UTC",
        "identity": None,
    }
    params = {**defaults, "send": ["syslog+tcp://c:514"], "quiet": False, "paths": ["/other"]}
    merged = merge(params, {"send", "quiet", "paths"}, config)
    assert merged == {
        "paths": ["/other"],  # given: replaces the file's inputs
        "send": ["syslog+tcp://c:514"],  # a list given replaces the file's list
        "fail_on": "high",  # from the file
        "quiet": False,  # given explicitly (--no-quiet wins over the file)
        "timezone": "UTC",  # neither: the default
        "identity": ["/id/leases"],
    }
    assert params["fail_on"] is None  # not modified in place
    assert merge(defaults, set(), config)["paths"] == ["/logs"]


def test_merge_with_an_empty_file_changes_nothing(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "# nothing yet\n"))
    params = {"paths": ["x"], "quiet": True}
    assert merge(params, set(), config) == params
    assert config.given() == {}


# --- located errors -----------------------------------------------------------------------------


def test_unknown_keys_get_the_closest_name(tmp_path: Path) -> None:
    path = write(tmp_path, "quiet: true\nfial_on: high\nlog-format: squid\nfrobnicate: 3\n")
    problems = problems_of(path)
    assert problems[0] == f"{path}:2: fial_on: unknown key: did you mean 'fail_on'?"
    assert problems[1].startswith(f"{path}:3: log-format: unknown key: write 'log_format'")
    assert problems[2].startswith(f"{path}:4: frobnicate: unknown key: keys are")
    assert "retain_days" in problems[2]
    assert len(problems) == 3


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("quiet: true\nretain_days: '30'\n", 2, "retain_days: expected a whole number, got text"),
        ("retain_days: 0\n", 1, "retain_days: 0 is too small: use 1 or more"),
        ("retain_days: yes\n", 1, "retain_days: expected a whole number, got true"),
        ("quiet: 'yes'\n", 1, "quiet: expected true or false, got text 'yes'"),
        ("send: syslog+tcp://a:514\n", 1, "send: expected a list of texts"),
        (
            "signatures: sigs\n",
            1,
            "got text 'sigs' (write a list, even of one: `signatures: [sigs]`)",
        ),
        ("output: [a, b]\n", 1, "output: expected a path, got a list"),
        ("identity:\n  - a.leases\n  - {x: 1}\n", 3, "identity[1]: expected text, got a mapping"),
        ("signatures:\n  - ok\n  - [nested]\n", 3, "signatures[1]: expected a path, got a list"),
        ("output:\n", 1, "output: no value: give one, or delete the line"),
        ("inputs: ['a', '  ']\n", 1, "inputs[1]: empty text"),
        ("fail_on: no\n", 1, "fail_on: expected text, got false (quote it"),
        ("quiet: true\nquiet: false\n", 2, "quiet: given twice (first on line 1): keep one"),
        ("config: /etc/other.yaml\n", 1, "config: a config file cannot name another one"),
        ("quiet: true\n  bad indent: x\n", 2, "invalid YAML"),
        ("- quiet\n", 1, "the config file is a mapping of option names to values"),
    ],
)
def test_errors_name_file_line_what_and_what_to_do(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    path = write(tmp_path, text)
    problems = problems_of(path)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{path}:{line}: ")
    assert message in problems[0]


@pytest.mark.parametrize("key", ["hec_token", "HEC_TOKEN", "splunk-token", "syslog_password"])
def test_secrets_are_refused_with_where_they_go(tmp_path: Path, key: str) -> None:
    path = write(tmp_path, f"quiet: true\n{key}: 0123-abcd\n")
    problems = problems_of(path)
    assert len(problems) == 1
    assert problems[0].startswith(f"{path}:2: {key}: secrets never go in the config file")
    assert "SHADOWSCAN_HEC_TOKEN_FILE" in problems[0]
    assert "0123-abcd" not in problems[0]


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, "quiet: 1\nfial_on: high\nhec_token: x\nretain_days: -1\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert [p.split(": ")[0] for p in info.value.problems] == [f"{path}:{n}" for n in (1, 2, 3, 4)]
    assert str(info.value).startswith("4 problems: ")


def test_numbers_and_dates_in_text_keys_keep_their_spelling(tmp_path: Path) -> None:
    config = load_config(
        write(tmp_path, "upload_threshold: 1000000\nevidence_window: 0\nsince: 2024-05-01\n")
    )
    assert (config.upload_threshold, config.evidence_window) == ("1000000", "0")
    assert config.since == "2024-05-01"
    assert config.where("since") == f"{tmp_path / 'shadowscan.yaml'}:3"


def test_a_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such config file"):
        load_config(tmp_path / "absent.yaml")
    assert check_config(tmp_path / "absent.yaml")[0].endswith(
        f"no such config file: check --config or {CONFIG_ENV}"
    )


# --- the full check ------------------------------------------------------------------------------


@pytest.fixture
def ca_file(tmp_path: Path) -> Path:
    path = tmp_path / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(path))
    return path


def sample_copy(tmp_path: Path, ca_file: Path) -> dict[str, Any]:
    """The example with every path pointing at the repository's samples (the example's
    own paths are a server's)."""
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    samples = {
        "inputs": [
            str(ROOT / "sample_logs" / "squid" / "access.log"),
            str(ROOT / "sample_logs" / "bind" / "named-queries.log*"),
        ],
        "identity": [
            f"dhcpd_leases:{IDENTITY / 'dhcpd_leases' / 'dhcpd.leases'}",
            f"windows_logon:{IDENTITY / 'windows_logon' / 'winlogbeat.ndjson'}",
            f"asset_inventory:{IDENTITY / 'asset_inventory' / 'cmdb.csv'}",
        ],
        "directory": [f"ldif:{IDENTITY / 'directory' / 'ldif' / 'ad-staff.ldif'}"],
        "sites": str(IDENTITY / "sites.csv"),
        "policy": str(ROOT / "docs" / "policy-example.yaml"),
        "signatures": [str(ROOT / "signatures" / "openai.yaml")],
        "state": str(tmp_path / "var" / "state.duckdb"),
        "output": str(tmp_path / "findings.ndjson"),
        "stats_json": str(tmp_path / "stats.json"),
        "ca_file": str(ca_file),
        "spool_dir": str(tmp_path / "var" / "spool"),
    }
    paths = {"inputs", "identity", "directory"} | {
        k for k, (kind, _) in KEY_SHAPES.items() if kind is Path
    }
    assert set(data) & paths == set(samples), "point every path of the example at a sample"
    return {**data, **samples}


def test_the_example_loads_and_says_what_the_readme_promises() -> None:
    config = load_config(EXAMPLE)
    assert config.inputs is not None
    assert any(p.startswith("/var/log/squid/") for p in config.inputs)
    assert any("named" in p for p in config.inputs)
    assert config.identity and config.directory and config.policy and config.state
    assert config.send is not None
    assert {url.split("://")[0] for url in config.send} == {"syslog+tls", "hec+https"}
    assert config.fail_on == "high"
    assert config.retain_days is not None


def test_the_example_checks_clean_on_samples(
    tmp_path: Path, ca_file: Path, monkeypatch: Any
) -> None:
    monkeypatch.setenv("SHADOWSCAN_HEC_TOKEN", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0")
    monkeypatch.delenv("SHADOWSCAN_HEC_TOKEN_FILE", raising=False)
    path = write(tmp_path, yaml.safe_dump(sample_copy(tmp_path, ca_file)))
    assert check_config(path) == []


def test_check_reports_a_hec_url_without_a_token(
    tmp_path: Path, ca_file: Path, monkeypatch: Any
) -> None:
    monkeypatch.delenv("SHADOWSCAN_HEC_TOKEN", raising=False)
    monkeypatch.delenv("SHADOWSCAN_HEC_TOKEN_FILE", raising=False)
    data = sample_copy(tmp_path, ca_file)
    path = write(tmp_path, yaml.safe_dump({"send": data["send"], "ca_file": data["ca_file"]}))
    problems = check_config(path)
    assert len(problems) == 1
    assert problems[0].startswith(f"{path}:4: send: hec+https://splunk.corp.example.com:8088: ")
    assert "SHADOWSCAN_HEC_TOKEN_FILE" in problems[0]


def test_check_reports_each_problem_at_its_line(tmp_path: Path) -> None:
    not_a_dir = write(tmp_path, "", "plain-file")
    policy = write(tmp_path, "default: forbidden\n", "policy.yaml")
    path = write(
        tmp_path,
        f"""\
inputs: [missing.log, "nothing-*.log", "-"]
identity: [dhcp:leases.txt]
policy: {policy.name}
lease_time: 12 hours
upload_threshold: lots
since: last tuesday
fail_on: new-service
min_severity: severe
log_format: sqiud
send_format: parquet
group_by: team
timezone: Mars/Olympus
send: ["syslog+tls://siem:6514?verify=0", "ftp://x"]
ca_file: ca.pem
state: {not_a_dir.name}/sub/state.duckdb
output: nodir/out.ndjson
""",
    )
    problems = check_config(path)
    expected = [
        (1, "inputs: "),
        (1, "the pattern matches no file now"),
        (2, "identity: "),
        (4, "lease_time '12 hours': use a duration"),
        (5, "upload_threshold 'lots': use a size"),
        (6, "since 'last tuesday'"),
        (8, "min_severity: unknown severity 'severe'"),
        (9, "log_format 'sqiud': unknown: did you mean 'squid'?"),
        (10, "send_format: --send cannot carry parquet"),
        (11, "group_by 'team'"),
        (12, "timezone 'Mars/Olympus': not a time zone"),
        (13, "send: syslog+tls://siem:6514?verify=0: unknown option 'verify'"),
        (13, "send: ftp://x: unknown destination type"),
        (14, "ca_file: "),
        (15, "plain-file is not a directory"),
        (16, "output: directory "),
    ]
    located = [p for p in problems if p.startswith(f"{path}:")]
    for line, text in expected:
        assert any(p.startswith(f"{path}:{line}: ") and text in p for p in located), (
            line,
            text,
            problems,
        )
    assert "or the type: 'dhcp' is none of asa_vpn, " in next(
        p for p in located if ": identity: " in p
    )
    # the policy's own problem, located in the policy file
    assert any(p.startswith(f"{policy}:1: default: 'forbidden' is not one of") for p in problems)
    assert not any(f"{path}:7:" in p for p in problems)  # fail_on: new-service is valid
    assert not any(f"{path}:3:" in p for p in problems)  # the policy file exists


def test_check_reports_directories_this_user_cannot_write(tmp_path: Path, monkeypatch: Any) -> None:
    readonly = tmp_path / "readonly"
    readonly.mkdir()
    readonly.chmod(0o500)
    if os.access(readonly, os.W_OK):  # root writes anywhere: make this directory an exception
        real_access = os.access

        def access(path: Any, mode: int, **kwargs: Any) -> bool:
            if Path(path) == readonly and mode & os.W_OK:
                return False
            return real_access(path, mode, **kwargs)

        monkeypatch.setattr(os, "access", access)
    path = write(tmp_path, f"state: {readonly}/shadowscan/state.duckdb\n")
    assert check_config(path) == [
        f"{path}:1: state: directory {readonly}: this user cannot write the directory: run "
        "the check as the user the job runs as, or change its owner "
        "(systemd: StateDirectory=shadowscan)"
    ]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("fail_on: new-service\n", 1, "fail_on: new-service needs `state:`"),
        ("quiet: true\nretain_days: 90\n", 2, "retain_days prunes the history in the state"),
        ("pseudonymize_ips: true\n", 1, "pseudonymize_ips needs `pseudonymize:`"),
        ("events: true\ngroup_by: department\n", 2, "group_by: events are listed"),
        ("events: true\nmin_severity: high\n", 2, "min_severity filters findings"),
    ],
)
def test_check_reports_keys_that_need_another(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    path = write(tmp_path, text)
    problems = check_config(path)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{path}:{line}: {message}")


def test_check_passes_load_errors_through(tmp_path: Path) -> None:
    path = write(tmp_path, "quiet: 1\n")
    assert check_config(path) == [f"{path}:1: quiet: expected true or false, got int 1"]


# --- round trip ------------------------------------------------------------------------------------

_TEXT = st.text(min_size=1, max_size=30).filter(lambda s: bool(s.strip()))
_ABSOLUTE = st.builds(lambda parts: "/" + "/".join(parts), st.lists(_TEXT, min_size=1, max_size=3))
_URL = st.builds(
    "{}://{}:{}?index={}".format,
    st.sampled_from(["syslog+tls", "syslog+tcp", "hec+https"]),
    st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z]{2,6})?", fullmatch=True),
    st.integers(1, 65535),
    st.from_regex(r"[a-z0-9_]{1,10}", fullmatch=True),
)
_SPECIAL: dict[str, st.SearchStrategy[Any]] = {
    "inputs": st.lists(st.one_of(st.just("-"), _ABSOLUTE), max_size=4),
    "identity": st.lists(st.one_of(_ABSOLUTE, _ABSOLUTE.map("dhcpd_leases:{}".format))),
    "directory": st.lists(st.one_of(_ABSOLUTE, _ABSOLUTE.map("ldif:{}".format))),
    "send": st.lists(_URL, max_size=3),
}


def _strategy(key: str) -> st.SearchStrategy[Any]:
    """Valid values of ``key`` (paths absolute: relative ones are resolved, tested above)."""
    if key in _SPECIAL:
        return _SPECIAL[key]
    kind, is_list = KEY_SHAPES[key]
    one: st.SearchStrategy[Any] = {
        str: _TEXT,
        Path: _ABSOLUTE,
        bool: st.booleans(),
        int: st.integers(1, 100_000),
    }[kind]
    return st.lists(one, max_size=4) if is_list else one


@given(st.fixed_dictionaries({}, optional={key: _strategy(key) for key in Config.model_fields}))
def test_valid_values_written_as_yaml_load_back_the_same(data: dict[str, Any]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "shadowscan.yaml"
        path.write_text(yaml.safe_dump(data), encoding="utf-8")
        config = load_config(path)
    expected = {
        key: [Path(v) for v in value]
        if KEY_SHAPES[key] == (Path, True)
        else Path(value)
        if KEY_SHAPES[key][0] is Path
        else value
        for key, value in data.items()
    }
    assert config.given() == expected
