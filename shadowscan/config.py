"""The configuration file: every ``scan`` option as a YAML key, so that a cron line or a
systemd unit is just ``shadowscan scan --config /etc/shadowscan.yaml``.

A key is the option's name with ``_`` for ``-`` (``--log-format`` is ``log_format``),
plus ``inputs`` for the PATHS argument. Repeatable options are YAML lists. Precedence:
the command line, then the file, then the built-in defaults; a list option given on the
command line *replaces* the file's list (``--send`` once drops every ``send`` of the
file), so one run can be redirected without editing the file.

Relative paths in the file are relative to the file's directory, not to wherever cron
happens to start: a config and its policy can move together. Secrets are never values
(a config file ends up in backups, tickets and repositories): the HEC token stays in
``SHADOWSCAN_HEC_TOKEN_FILE``.
"""

from __future__ import annotations

import difflib
import glob
import os
import types
import urllib.parse
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from shadowscan.errors import UsageError

#: Environment variable naming the config file when ``--config`` is not given.
CONFIG_ENV = "SHADOWSCAN_CONFIG"
#: Looked for in the working directory when neither ``--config`` nor the variable is set.
DEFAULT_NAME = "shadowscan.yaml"
#: Config keys whose ``scan`` parameter has another name (the PATHS argument).
PARAM_FOR_KEY: Mapping[str, str] = {"inputs": "paths"}
KEY_FOR_PARAM: Mapping[str, str] = {param: key for key, param in PARAM_FOR_KEY.items()}
#: ``fail_on`` values that are not severities.
FAIL_ON_EVENTS = ("new-service",)
#: Words that mark a key as a secret (refused with where the secret goes instead).
_SECRET_WORDS = ("token", "password", "passwd", "secret", "credential", "apikey", "api_key")
#: ``--send`` URL options that name files, resolved like every other path in the file.
_URL_FILE_OPTIONS = ("cert_file", "key_file")


class Config(BaseModel):
    """The ``scan`` options a config file sets; a key the file leaves out is ``None``
    (and not in ``model_fields_set``), so the command's own default applies."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    inputs: list[str] | None = None
    log_format: str | None = None
    mapping: Path | None = None
    signatures: list[Path] | None = None
    output: Path | None = None
    output_format: str | None = None
    events: bool | None = None
    since: str | None = None
    until: str | None = None
    dns_suffix: list[str] | None = None
    timezone: str | None = None
    identity: list[str] | None = None
    directory: list[str] | None = None
    sites: Path | None = None
    lease_time: str | None = None
    session_time: str | None = None
    evidence_window: str | None = None
    policy: Path | None = None
    upload_threshold: str | None = None
    fail_on: str | None = None
    min_severity: str | None = None
    send: list[str] | None = None
    send_format: str | None = None
    spool_dir: Path | None = None
    ca_file: Path | None = None
    group_by: str | None = None
    pseudonymize: Path | None = None
    pseudonymize_ips: bool | None = None
    stats_json: Path | None = None
    quiet: bool | None = None
    progress: bool | None = None
    debug: bool | None = None
    state: Path | None = None
    retain_days: int | None = Field(default=None, ge=1)
    engine: str | None = None
    scheduler: str | None = None
    dask_workers: int | None = Field(default=None, ge=1)

    _source: str = PrivateAttr(default="")
    _lines: dict[tuple[str | int, ...], int] = PrivateAttr(default_factory=dict)
    #: The values as the file wrote them, before paths were resolved (for messages).
    _written: dict[str, Any] = PrivateAttr(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _relative_to_the_file(cls, data: Any, info: ValidationInfo) -> Any:
        """Paths become :class:`Path`; with a ``base`` in the context (the file's
        directory), relative ones are joined to it and ``~`` is expanded."""
        if not isinstance(data, dict):
            return data
        base = (info.context or {}).get("base")
        return {key: _resolve(key, value, base) for key, value in data.items()}

    def where(self, key: str, index: int | None = None) -> str:
        """``FILE:LINE`` of ``key`` (or of its ``index``-th item) in the file it came from."""
        line = self._lines.get((key, index)) if index is not None else None
        return f"{self._source}:{line or self._lines.get((key,), 1)}"

    def given(self) -> dict[str, Any]:
        """The keys the file sets, with their values."""
        return {
            key: getattr(self, key) for key in Config.model_fields if key in self.model_fields_set
        }


def shape(annotation: Any) -> tuple[type, bool]:
    """``(item type, is a list)`` of a type hint: ``list[Path] | None`` -> ``(Path, True)``.

    One place reads type hints, for the config keys and the CLI's options alike, so the
    test that compares them compares like with like."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                raise TypeError(f"{annotation!r}: one type or None expected")
            annotation = args[0]
        elif origin is list:
            item, _ = shape(get_args(annotation)[0])
            return item, True
        elif isinstance(annotation, type):
            return annotation, False
        else:
            raise TypeError(f"{annotation!r}: not a type a config key can have")


#: Every key's ``(item type, is a list)``.
KEY_SHAPES: Mapping[str, tuple[type, bool]] = {
    key: shape(field.annotation) for key, field in Config.model_fields.items()
}

_EXPECTED: dict[type, tuple[str, str]] = {
    str: ("text", "texts"),
    Path: ("a path", "paths"),
    bool: ("true or false", "true or false values"),
    int: ("a whole number", "whole numbers"),
}


def _expected(key: str, item: bool = False) -> str:
    kind, is_list = KEY_SHAPES[key]
    one, many = _EXPECTED[kind]
    return f"a list of {many} (one `- item` per line)" if is_list and not item else one


# --- finding and reading -----------------------------------------------------------------


def find_config(
    explicit: Path | None,
    *,
    environ: Mapping[str, str] = os.environ,
    cwd: Path | None = None,
) -> Path | None:
    """The config file to use: ``explicit`` (``--config``), else ``$SHADOWSCAN_CONFIG``,
    else ``./shadowscan.yaml`` when there is one, else ``None``.

    A file named explicitly (option or variable) that is not there is an error rather
    than silently running without the settings it holds.
    """
    if explicit is not None:
        return _must_exist(explicit, f"--config {explicit}", "check the path")
    named = environ.get(CONFIG_ENV, "")
    if named:
        return _must_exist(Path(named), f"{CONFIG_ENV}={named}", "fix the variable or unset it")
    candidate = (cwd or Path.cwd()) / DEFAULT_NAME
    return candidate if candidate.is_file() else None


def _must_exist(path: Path, what: str, fix: str) -> Path:
    if path.is_dir():
        raise UsageError(f"{what}: is a directory, not a config file: {fix}")
    if not path.is_file():
        raise UsageError(f"{what}: no such file: {fix}")
    return path


class ConfigError(UsageError):
    """A config file is invalid; ``problems`` holds each as ``FILE:LINE: what: what to do``."""

    def __init__(self, problems: list[str]) -> None:
        many = f"{len(problems)} problems: " + "; ".join(problems)
        super().__init__(problems[0] if len(problems) == 1 else many)
        self.problems = problems


class _Loader(yaml.SafeLoader):
    """Safe YAML that leaves dates as text (``since: 2024-05-01`` is an option value)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_config(path: Path) -> Config:
    """Read and check ``path``: YAML syntax, known keys, value types; relative paths
    resolved against the file's directory.

    Raises :class:`ConfigError` (exit 2) listing every problem, each located by line.
    """
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{source}: no such config file: check --config or {CONFIG_ENV}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{source}: cannot read the config file: {exc}") from None
    loader = _Loader(text)
    try:
        return _read(loader, source, Path(os.path.abspath(path)).parent)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        problem = getattr(exc, "problem", None) or exc
        raise ConfigError(
            [
                f"{where}: invalid YAML: {problem}: check the indentation, and quote values "
                "holding ': ' or ' #'"
            ]
        ) from None
    finally:
        loader.dispose()


def _read(loader: _Loader, source: str, base: Path) -> Config:
    node = loader.get_single_node()
    if node is None:
        empty = Config()
        empty._source = source
        return empty
    if not isinstance(node, yaml.MappingNode):
        raise ConfigError(
            [
                f"{source}:{node.start_mark.line + 1}: the config file is a mapping of option "
                "names to values (`log_format: squid`); see docs/shadowscan.yaml"
            ]
        )
    problems: list[tuple[int, str]] = []
    lines: dict[tuple[str | int, ...], int] = {}
    data: dict[str, Any] = {}

    def problem(line: int, message: str) -> None:
        problems.append((line, f"{source}:{line}: {message}"))

    for key_node, value_node in node.value:
        line = key_node.start_mark.line + 1
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            problem(line, f"{key!r}: option names are text, like `log_format`")
            continue
        if key == "<<":
            problem(line, "merge keys (<<) are not supported here: write the keys out")
            continue
        refusal = _refuse_key(key)
        if refusal:
            problem(line, f"{key}: {refusal}")
            continue
        if (key,) in lines:
            problem(line, f"{key}: given twice (first on line {lines[(key,)]}): keep one")
            continue
        lines[(key,)] = line
        if isinstance(value_node, yaml.SequenceNode):
            for index, item in enumerate(value_node.value):
                lines[(key, index)] = item.start_mark.line + 1
        value = _value(loader, key, value_node)
        if value is None:
            problem(line, f"{key}: no value: give one, or delete the line to keep the default")
            continue
        blanks = [
            (lines.get((key, i), line), f"{key}[{i}]" if isinstance(value, list) else key)
            for i, item in enumerate(value if isinstance(value, list) else [value])
            if isinstance(item, str) and not item.strip()
        ]
        for blank_line, where in blanks:
            problem(blank_line, f"{where}: empty text: give a value, or delete it")
        if not blanks:
            data[key] = value

    config: Config | None = None
    try:
        config = Config.model_validate(data, context={"base": base})
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err["loc"])
            key = str(loc[0]) if loc else ""
            item = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else None
            item_line = lines.get((key, item)) if item is not None else None
            problem(item_line or lines.get((key,), 1), _explain(key, item, err))
    if problems or config is None:
        raise ConfigError([message for _, message in sorted(problems)])
    config._source = source
    config._lines = lines
    config._written = data
    return config


def _refuse_key(key: str) -> str:
    """Why ``key`` cannot be in a config file, or ``""`` when it is a known key."""
    if key in Config.model_fields:
        return ""
    folded = key.casefold().replace("-", "_")
    if any(word in folded for word in _SECRET_WORDS):
        return (
            "secrets never go in the config file (it is copied into backups, tickets and "
            "repositories): put the HEC token in a file only the job's user can read "
            "(chmod 600) and name it in the environment variable SHADOWSCAN_HEC_TOKEN_FILE; "
            "delete this key"
        )
    if folded.lstrip("_") == "config":
        return "a config file cannot name another one: delete this key"
    spelled = folded.lstrip("_")
    if spelled in Config.model_fields:
        return f"unknown key: write {spelled!r} (option names with _ instead of -, no --)"
    close = difflib.get_close_matches(spelled, list(Config.model_fields), n=1, cutoff=0.6)
    if close:
        return f"unknown key: did you mean {close[0]!r}?"
    return (
        "unknown key: keys are the `scan` options' names with _ for - "
        f"(known: {', '.join(Config.model_fields)})"
    )


def _value(loader: _Loader, key: str, node: yaml.Node) -> Any:
    """The Python value of ``node``; for text keys, numbers keep their YAML spelling
    (``upload_threshold: 1000000``, ``evidence_window: 0``)."""
    value = loader.construct_object(node, deep=True)
    kind, is_list = KEY_SHAPES[key]
    if kind not in (str, Path):
        return value
    if is_list and isinstance(node, yaml.SequenceNode) and isinstance(value, list):
        return [_spelling(item, text) for item, text in zip(node.value, value, strict=True)]
    return _spelling(node, value)


def _spelling(node: yaml.Node, value: Any) -> Any:
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    return node.value if is_number and isinstance(node, yaml.ScalarNode) else value


def _explain(key: str, index: int | None, err: Any) -> str:
    """A pydantic error as ``key: what is wrong: what to write``."""
    value = err.get("input")
    where = f"{key}[{index}]" if index is not None else key
    if err["type"] == "greater_than_equal":
        return f"{where}: {value!r} is too small: use {err['ctx']['ge']} or more"
    kind, is_list = KEY_SHAPES[key]
    expected = _expected(key, item=index is not None)
    if isinstance(value, bool):
        got = f"{str(value).lower()} (quote it if you meant text)"
    elif isinstance(value, str | Path):
        got = f"text {str(value)!r}"
        if is_list and index is None:
            got += f" (write a list, even of one: `{key}: [{value}]`)"
        elif kind in (bool, int):
            got += " (remove the quotes)"
    elif isinstance(value, dict):
        got = "a mapping"
    elif isinstance(value, list):
        got = "a list"
    else:
        got = f"{type(value).__name__} {value!r}"
    return f"{where}: expected {expected}, got {got}"


# --- relative paths ------------------------------------------------------------------------


def _resolve(key: str, value: Any, base: Path | None) -> Any:
    """``value`` of ``key`` with its paths made :class:`Path` and resolved against
    ``base``; anything of the wrong type is left for validation to report."""
    if key not in KEY_SHAPES:
        return value
    kind, is_list = KEY_SHAPES[key]
    if kind is Path:
        one: Callable[[Path | None, str], Any] = _path
    elif key in _TEXT_RESOLVERS and base is not None:
        one = _TEXT_RESOLVERS[key]
    else:
        return value
    if is_list:
        if not isinstance(value, list):
            return value
        return [one(base, v) if isinstance(v, str) else v for v in value]
    return one(base, value) if isinstance(value, str) else value


def _path(base: Path | None, text: str) -> Path:
    return Path(_join(base, text))


def _join(base: Path | None, text: str) -> str:
    """``text`` relative to ``base`` (``~`` expanded); a glob's base is escaped so that
    only the pattern the file wrote is a pattern."""
    if base is None:
        return text
    expanded = os.path.expanduser(text)
    if os.path.isabs(expanded):
        return expanded
    prefix = glob.escape(str(base)) if glob.has_magic(expanded) else str(base)
    return os.path.join(prefix, expanded)


def _input(base: Path, text: str) -> str:
    return text if text == "-" else _join(base, text)


def _spec(registry_name: str) -> Any:
    """A resolver for ``[TYPE:]FILE``: the path is resolved, the TYPE kept."""

    def resolve(base: Path, text: str) -> str:
        from shadowscan.reference import split_spec

        type_name, path = split_spec(text, _registry(registry_name))
        resolved = _join(base, path)
        return f"{type_name}:{resolved}" if type_name else resolved

    return resolve


def _registry(name: str) -> Any:
    if name == "identity":
        from shadowscan.identity import IDENTITY_READERS

        return IDENTITY_READERS
    from shadowscan.directory import DIRECTORY_READERS

    return DIRECTORY_READERS


def _send_url(base: Path, url: str) -> str:
    """A ``--send`` URL with relative ``cert_file``/``key_file`` resolved; otherwise
    unchanged, character for character."""
    try:
        parts = urllib.parse.urlsplit(url)
        pairs = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    except ValueError:
        return url  # open_transport reports it
    resolved = [(k, _join(base, v) if k in _URL_FILE_OPTIONS and v else v) for k, v in pairs]
    if resolved == pairs:
        return url
    query = urllib.parse.urlencode(resolved, safe="/")
    return urllib.parse.urlunsplit(parts._replace(query=query))


_TEXT_RESOLVERS = {
    "inputs": _input,
    "identity": _spec("identity"),
    "directory": _spec("directory"),
    "send": _send_url,
}


# --- the command line over the file ----------------------------------------------------------


def merge(
    params: dict[str, Any], given_on_command_line: set[str], config: Config
) -> dict[str, Any]:
    """``params`` (the ``scan`` parameters by name, as the command received them) with
    the file's values for every parameter not given on the command line.

    Precedence: command line, then file, then default. A list given on the command line
    replaces the file's list (it does not add to it). ``given_on_command_line`` holds
    parameter names (``paths`` for the ``inputs`` key).
    """
    merged = dict(params)
    for key, value in config.given().items():
        param = PARAM_FOR_KEY.get(key, key)
        if param not in given_on_command_line:
            merged[param] = value
    return merged


# --- the full check -------------------------------------------------------------------------

#: Reports a problem at a key (and list item) of the file.
Problem = Callable[..., None]

_MUST_EXIST = ("mapping", "sites", "policy", "ca_file", "pseudonymize")
_DURATIONS = ("lease_time", "session_time", "evidence_window")


def check_config(path: Path) -> list[str]:
    """Every problem with the config file at ``path``, each as ``FILE:LINE: ...``; an
    empty list means a scan run with it will start.

    On top of :func:`load_config`: the files it names exist, the policy and signatures
    load, ``send`` URLs parse (nothing connects), durations, sizes, times, severities and
    format names are valid, and the state and output directories are writable (run it as
    the user the job runs as).
    """
    try:
        config = load_config(path)
    except ConfigError as exc:
        return exc.problems
    except UsageError as exc:
        return [str(exc)]
    located: list[tuple[int, str]] = []  # in this file, sorted by line
    elsewhere: list[str] = []  # in the policy and signature files, as they report them

    def problem(key: str, message: str, index: int | None = None) -> None:
        where = config.where(key, index)
        located.append((int(where.rpartition(":")[2]), f"{where}: {message}"))

    _check_files(config, problem)
    _check_values(config, problem)
    overlays = _check_signatures(config, problem, elsewhere)
    _check_policy(config, overlays, problem, elsewhere)
    _check_send(config, problem)
    _check_writable(config, problem)
    _check_combinations(config, problem)
    return [message for _, message in sorted(located, key=lambda pair: pair[0])] + elsewhere


def _check_files(config: Config, problem: Problem) -> None:
    for key in _MUST_EXIST:
        value = getattr(config, key)
        if value is not None and not value.is_file():
            what = "is a directory, not a file" if value.is_dir() else "no such file"
            problem(key, f"{key}: {value}: {what}: check the path")
    for index, raw in enumerate(config.inputs or ()):
        if raw == "-":
            continue
        if glob.has_magic(raw) and not os.path.exists(raw):
            if not glob.glob(raw, recursive=True):
                problem("inputs", f"inputs: {raw}: the pattern matches no file now", index)
        elif not os.path.exists(raw):
            problem("inputs", f"inputs: {raw}: no such file or directory", index)
    for index, overlay in enumerate(config.signatures or ()):
        if not overlay.exists():
            problem("signatures", f"signatures: {overlay}: no such file or directory", index)
    from shadowscan.reference import split_spec

    for key in ("identity", "directory"):
        registry = _registry(key)
        written = config._written.get(key) or []
        for index, spec in enumerate(getattr(config, key) or ()):
            type_name, file = split_spec(spec, registry)
            if Path(file).is_file():
                continue
            head, sep, _ = str(written[index] if index < len(written) else spec).partition(":")
            hint = "check the path"
            if not type_name and sep and head.isidentifier():
                hint = f"check the path, or the type: {head!r} is none of {', '.join(registry.names())}"
            problem(key, f"{key}: {file}: no such file: {hint}", index)


def _check_values(config: Config, problem: Problem) -> None:
    from shadowscan.outputs import SINKS
    from shadowscan.parsers import PARSERS
    from shadowscan.risk import check_severity
    from shadowscan.rollup import GROUPINGS
    from shadowscan.timeparse import parse_duration, parse_size, parse_time

    def attempt(key: str, check: Callable[..., object], *args: Any, **kwargs: Any) -> None:
        try:
            check(*args, **kwargs)
        except UsageError as exc:
            message = str(exc)
            problem(key, message if message.startswith(key) else f"{key}: {message}")

    for key in _DURATIONS:
        if (value := getattr(config, key)) is not None:
            attempt(key, parse_duration, value, option=key)
    if config.upload_threshold is not None:
        attempt("upload_threshold", parse_size, config.upload_threshold, option="upload_threshold")
    for key in ("since", "until"):
        if (value := getattr(config, key)) is not None:
            attempt(key, parse_time, value, option=key)
    if config.min_severity is not None:
        attempt("min_severity", check_severity, config.min_severity)
    if config.fail_on is not None and config.fail_on not in FAIL_ON_EVENTS:
        attempt("fail_on", _check_fail_on, config.fail_on)
    formats = ["auto", *PARSERS.names()]
    if config.log_format is not None and config.log_format not in formats:
        problem("log_format", _choice("log_format", config.log_format, formats))
    for key in ("output_format", "send_format"):
        if (value := getattr(config, key)) is not None and value not in SINKS:
            problem(key, _choice(key, value, SINKS.names()))
    if config.send_format is not None and config.send_format in SINKS:
        attempt("send_format", _check_send_format, config.send_format)
    if config.group_by is not None and config.group_by not in GROUPINGS:
        problem("group_by", _choice("group_by", config.group_by, list(GROUPINGS)))
    if config.timezone is not None and not _is_time_zone(config.timezone):
        problem(
            "timezone",
            f"timezone {config.timezone!r}: not a time zone: use an IANA name such as "
            "Europe/London, or UTC",
        )
    if config.pseudonymize is not None and config.pseudonymize.is_file():
        from shadowscan.pseudonymize import Pseudonymizer

        attempt("pseudonymize", Pseudonymizer.from_key_file, config.pseudonymize)


def _check_combinations(config: Config, problem: Problem) -> None:
    """Keys that mean nothing without another one (as ``scan`` refuses them, when the
    command line does not add what is missing)."""
    if config.state is None:
        if config.fail_on in FAIL_ON_EVENTS:
            problem(
                "fail_on", f"fail_on: {config.fail_on} needs `state:` (first-seen dates live there)"
            )
        if config.retain_days is not None:
            problem("retain_days", "retain_days prunes the history in the state: add `state:`")
    if config.pseudonymize_ips and config.pseudonymize is None:
        problem("pseudonymize_ips", "pseudonymize_ips needs `pseudonymize:` (the key file)")
    if config.events:
        if config.group_by not in (None, "finding"):
            problem("group_by", "group_by: events are listed, not grouped: drop one of the two")
        if config.min_severity is not None:
            problem("min_severity", "min_severity filters findings: drop it, or `events:`")


def _check_fail_on(value: str) -> None:
    from shadowscan.risk import check_severity

    try:
        check_severity(value)
    except UsageError as exc:
        raise UsageError(f"{exc}, or {' or '.join(FAIL_ON_EVENTS)}") from None


def _check_send_format(name: str) -> None:
    """Only formats that write one record per line can be sent: render nothing with it."""
    import polars as pl

    from shadowscan.schema import FINDING_SCHEMA
    from shadowscan.transports import render_messages

    render_messages(pl.DataFrame(schema=FINDING_SCHEMA), name, kind="findings")


def _choice(key: str, value: str, known: list[str]) -> str:
    close = difflib.get_close_matches(value, known, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"{key} {value!r}: unknown: {hint}known: {', '.join(known)}"


def _is_time_zone(name: str) -> bool:
    import datetime as dt

    import polars as pl

    try:
        pl.Series([dt.datetime(2024, 1, 1)]).dt.replace_time_zone(name)
    except pl.exceptions.PolarsError:
        return False
    return bool(name.strip())


def _check_signatures(config: Config, problem: Problem, problems: list[str]) -> list[Path]:
    """Signature overlays that load; their problems join ``problems`` as they are
    (``FILE:service: ...``, located in the signature file itself)."""
    from shadowscan.errors import ShadowscanError
    from shadowscan.signatures import load_directory

    good: list[Path] = []
    for index, overlay in enumerate(config.signatures or ()):
        if not overlay.exists():
            continue
        try:
            _, errors = load_directory(overlay, collect_errors=True)
        except ShadowscanError as exc:
            problem("signatures", f"signatures: {overlay}: {exc}", index)
            continue
        problems.extend(errors)
        if not errors:
            good.append(overlay)
    return good


def _check_policy(
    config: Config, overlays: list[Path], problem: Problem, problems: list[str]
) -> None:
    """The policy's own problems, located in the policy file (``POLICY:LINE: ...``)."""
    if config.policy is None or not config.policy.is_file():
        return
    from shadowscan.errors import ShadowscanError
    from shadowscan.policy import PolicyError, load_policy
    from shadowscan.signatures import load_catalogue

    try:
        load_policy(config.policy, load_catalogue(overlays))
    except PolicyError as exc:
        problems.extend(exc.problems)
    except ShadowscanError as exc:
        problem("policy", f"policy: {exc}")


def _check_send(config: Config, problem: Problem) -> None:
    """Each URL opens as ``scan`` opens it (URL, options, TLS files, HEC token), without
    connecting."""
    from shadowscan.errors import ShadowscanError
    from shadowscan.transports import open_transport

    ca_file = config.ca_file if config.ca_file is not None and config.ca_file.is_file() else None
    for index, url in enumerate(config.send or ()):
        try:
            open_transport(url, ca_file=ca_file).close()
        except ShadowscanError as exc:
            message = str(exc).removeprefix("--send ")
            if "://" not in message.partition(" ")[0]:  # the message does not name the URL
                message = f"{_bare(url)}: {message}"
            problem("send", f"send: {message}", index)


def _bare(url: str) -> str:
    """``url`` without user info or query, where a misplaced secret would be."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    host = parts.netloc.rpartition("@")[2]
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


def _check_writable(config: Config, problem: Problem) -> None:
    """Where the run writes: the state database (and its lock and WAL beside it), the
    outputs, the spool. Missing directories are fine if they can be created."""
    if config.state is not None:
        if config.state.is_dir():
            problem("state", f"state: {config.state}: is a directory: name the database file")
        elif config.state.exists() and not os.access(config.state, os.R_OK | os.W_OK):
            problem("state", f"state: {config.state}: {_not_writable('file')}")
        else:
            _creatable(config, "state", config.state.parent, problem)
    for key in ("output", "stats_json"):
        target = getattr(config, key)
        if target is None:
            continue
        if target.is_dir():
            problem(key, f"{key}: {target}: is a directory: name a file")
        elif target.exists() and not os.access(target, os.W_OK):
            problem(key, f"{key}: {target}: {_not_writable('file')}")
        else:
            _creatable(config, key, target.parent, problem, must_exist=True)
    if config.spool_dir is not None:
        _creatable(config, "spool_dir", config.spool_dir, problem)


def _creatable(
    config: Config, key: str, directory: Path, problem: Problem, *, must_exist: bool = False
) -> None:
    """``directory`` is writable, or (unless ``must_exist``) its nearest existing
    ancestor is, so the run can create it."""
    existing = directory
    while not existing.exists() and not must_exist and existing != existing.parent:
        existing = existing.parent
    if not existing.exists():
        problem(key, f"{key}: directory {directory} does not exist: create it")
    elif not existing.is_dir():
        problem(key, f"{key}: {existing} is not a directory")
    elif not os.access(existing, os.W_OK | os.X_OK):
        problem(key, f"{key}: directory {existing}: {_not_writable('directory')}")


def _not_writable(what: str) -> str:
    return (
        f"this user cannot write the {what}: run the check as the user the job runs as, "
        "or change its owner (systemd: StateDirectory=shadowscan)"
    )
