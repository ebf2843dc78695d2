"""trailsight: AWS CloudTrail Insights, computed offline, from Python.

The engine is the Rust library behind the ``trailsight`` command, compiled into this package:
the same files or records give the same Insights records, byte for byte, as
``trailsight detect``.

- :func:`detect` runs over files and directories (plain or gzip, any depth, ``AWSLogs/``
  trees included) and returns Insights records as dicts; :func:`run` returns everything (exact
  JSON lines, open insights, counters, errors).
- :func:`detect_records` runs over an iterable of records (dicts, JSON text or bytes).
- :class:`Detector` is the streaming detector: ``observe``, ``advance``, ``advance_to``,
  ``finish``, ``snapshot`` and ``Detector.restore``.
- :class:`TrailReplay` counts files into one detector in the command's order, streaming;
  :mod:`trailsight.spark` runs it per (account, region) on Apache Spark.

Settings are the keys of the command's ``--config`` TOML file (``sensitivity``,
``event_categories``, ``allowed_lateness_minutes``, ``overrides``, ...), given as keyword
arguments, as a dict, or as TOML text.

``max_document_mib`` (keyword, default 1,024, as the command's ``--max-document-mib``) caps
every document once decompressed, whatever reads it (:func:`detect`, :func:`run`,
:class:`Detector`, :class:`TrailReplay`, :mod:`trailsight.spark`): a file or bytes over it, a
gzip bomb for one, are not read but skipped and reported, so they cannot take all memory.
"""

from __future__ import annotations

import json
import os
from typing import Any, Iterable, List, Literal, Mapping, Optional, Union

from ._engine import (
    ConfigError,
    Detector,
    Insight,
    OrderError,
    Run,
    SnapshotError,
    TrailReplay,
    TrailsightError,
    __version__,
    account_region,
    delivery_time,
    run_paths,
    skip_reason,
)

__all__ = [
    "DEFAULT_MAX_DOCUMENT_MIB",
    "ConfigError",
    "Detector",
    "Insight",
    "OrderError",
    "Run",
    "SnapshotError",
    "TrailReplay",
    "TrailsightError",
    "__version__",
    "account_region",
    "delivery_time",
    "detect",
    "detect_records",
    "run",
    "skip_reason",
    "sort_insights",
]

#: The default of ``max_document_mib``, as the command's ``--max-document-mib``.
DEFAULT_MAX_DOCUMENT_MIB = 1024

PathLike = Union[str, "os.PathLike[str]"]
Output = Literal["dict", "json", "insight"]
Config = Union[Mapping[str, Any], str, None]
Record = Union[Mapping[str, Any], str, bytes, bytearray]


def run(
    paths: Union[PathLike, Iterable[PathLike]],
    config: Config = None,
    *,
    max_document_mib: int = DEFAULT_MAX_DOCUMENT_MIB,
    **settings: Any,
) -> Run:
    """Runs the detector over files and directories exactly as ``trailsight detect`` does.

    ``paths`` is one path or several; directories are walked at any depth (digests and
    aggregated files skipped). Unreadable paths and bad records do not stop the run: they are
    listed in ``Run.errors``. Files are read with the command's reader: in parallel, counted in
    its order, documents over 64 MiB in pieces; a single record over ``max_document_mib`` MiB
    ends its document with an error in ``Run.errors``. The records are in the command's output
    order.
    """
    if isinstance(paths, (str, bytes, os.PathLike)):
        paths = [paths]
    return run_paths(
        [_fspath(p) for p in paths], config, max_document_mib=max_document_mib, **settings
    )


def detect(
    paths: Union[PathLike, Iterable[PathLike]],
    config: Config = None,
    *,
    output: Output = "dict",
    strict: bool = False,
    max_document_mib: int = DEFAULT_MAX_DOCUMENT_MIB,
    **settings: Any,
) -> List[Any]:
    """The Insights records found in files and directories, in ``trailsight detect``'s order.

    ``output`` chooses dicts (default), JSON lines (``"json"``: exactly the command's output
    lines) or :class:`Insight` objects. With ``strict``, any unreadable path, bad record or file
    over ``max_document_mib`` raises :class:`TrailsightError` (the command's ``--strict``);
    otherwise they are skipped.
    """
    result = run(paths, config, max_document_mib=max_document_mib, **settings)
    if strict and result.errors:
        raise TrailsightError("; ".join(result.errors[:10]))
    return _as(result.insights, output)


def detect_records(
    records: Iterable[Record],
    config: Config = None,
    *,
    output: Output = "dict",
    strict: bool = False,
    advance_every: int = 10_000,
    max_document_mib: int = DEFAULT_MAX_DOCUMENT_MIB,
    **settings: Any,
) -> List[Any]:
    """The Insights records found in an iterable of records, in ``trailsight detect``'s order.

    Each item is a record as a dict, or a document as JSON text or bytes (a record, a
    ``{"Records": [...]}`` log file, JSON lines, EventBridge or CloudWatch Logs envelopes,
    gzip-compressed or not). The iterable is consumed as a stream: the detector advances after
    every ``advance_every`` items, as the command does after every file, so the result equals the
    command's on files holding the same items in the same chunks (one JSON lines file when the
    iterable has fewer items than ``advance_every``). An item larger than ``max_document_mib``
    MiB once decompressed is skipped and reported as an error.
    """
    if advance_every < 1:
        raise ValueError("advance_every must be at least 1")
    detector = Detector(config, max_document_mib=max_document_mib, **settings)
    insights: List[Insight] = []
    errors: List[str] = []
    pending = 0
    for index, record in enumerate(records):
        report = detector.observe(_document(record))
        if report["errors"]:
            errors.extend(f"item {index}: {e}" for e in report["errors"])
        pending += 1
        if pending == advance_every:
            insights.extend(detector.advance())
            pending = 0
    finished, _open = detector.finish()
    insights.extend(finished)
    if strict and errors:
        raise TrailsightError("; ".join(errors[:10]))
    return _as(sort_insights(insights), output)


def sort_insights(insights: Iterable[Insight]) -> List[Insight]:
    """Insights in ``trailsight detect``'s output order (``eventTime``, account, region, API,
    type, error code, End before Start); a stable sort, so records of one detector keep their
    order among equal keys, as in the command."""
    return sorted(insights, key=lambda insight: insight.sort_key)


def _document(record: Record) -> Union[str, bytes, bytearray]:
    if isinstance(record, (str, bytes, bytearray)):
        return record
    return json.dumps(record, separators=(",", ":"))


def _as(insights: List[Insight], output: Output) -> List[Any]:
    if output == "dict":
        return [insight.to_dict() for insight in insights]
    if output == "json":
        return [insight.json for insight in insights]
    if output == "insight":
        return list(insights)
    raise ValueError(f"output must be 'dict', 'json' or 'insight', not {output!r}")


def _fspath(path: Any) -> str:
    path = os.fspath(path)
    return path.decode() if isinstance(path, bytes) else path
