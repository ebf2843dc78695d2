"""Typed stubs of the compiled engine module (Rust, PyO3). See the package docstring."""

from datetime import datetime
from os import PathLike
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

__version__: str

#: A document: a record as a dict, or JSON text or bytes in any supported format, plain or gzip.
Document = Union[Mapping[str, Any], Sequence[Any], str, bytes, bytearray]
#: Detector settings: the ``--config`` TOML keys (``-`` or ``_``) as a dict, or TOML text.
Config = Union[Mapping[str, Any], str, None]
SortKey = Tuple[int, bool, str, str, str, str, int, bool, str, bool]

class TrailsightError(Exception):
    """Base class of trailsight's errors."""

class ConfigError(TrailsightError):
    """An invalid detector configuration."""

class SnapshotError(TrailsightError):
    """Bytes that are not a detector snapshot this version can restore."""

class OrderError(TrailsightError):
    """Files handed to a TrailReplay out of counting order."""

class Insight:
    """One Insights record, as the engine built it. Compares equal to the same record."""

    @property
    def json(self) -> str:
        """The record as one line of JSON, byte for byte what ``trailsight detect`` prints."""
    def to_dict(self) -> Dict[str, Any]:
        """The record as a dict (parsed from ``json``)."""
    @property
    def event_time(self) -> str:
        """``eventTime``, ``YYYY-MM-DDTHH:MM:00Z``."""
    @property
    def state(self) -> str:
        """``Start`` or ``End``."""
    @property
    def account(self) -> Optional[str]:
        """``recipientAccountId``, or None."""
    @property
    def region(self) -> str:
        """``awsRegion``."""
    @property
    def event_source(self) -> str:
        """``insightDetails.eventSource``."""
    @property
    def event_name(self) -> str:
        """``insightDetails.eventName``."""
    @property
    def insight_type(self) -> str:
        """``ApiCallRateInsight`` or ``ApiErrorRateInsight``."""
    @property
    def error_code(self) -> Optional[str]:
        """``insightDetails.errorCode`` of an error-rate insight, or None."""
    @property
    def event_id(self) -> str:
        """``eventID``."""
    @property
    def shared_event_id(self) -> str:
        """``sharedEventID``, the same on a Start and its End."""
    @property
    def sort_key(self) -> SortKey:
        """A tuple that sorts records in ``trailsight detect``'s output order (use a stable
        sort, as the command does)."""

class Detector:
    """The streaming detector: count events, advance the event-time clock, take records out,
    checkpoint and restore. Pickles through its snapshot.

    ``config`` is a dict of the ``--config`` TOML keys or TOML text; keyword settings win over
    it, as the command's flags win over its file (``sensitivity=0.7``,
    ``allowed_lateness_minutes=30``, ``event_categories=["Management", "Data"]``, ...).
    Raises ConfigError for an invalid configuration. ``max_document_mib`` (1 to 16,777,216,
    else ValueError) caps what ``observe`` and ``observe_file`` read, once decompressed, as
    ``--max-document-mib`` does; it is not part of the snapshot, and pickling keeps it.
    """

    def __init__(
        self, config: Config = None, *, max_document_mib: int = 1024, **settings: Any
    ) -> None: ...
    def observe(self, data: Document) -> Dict[str, Any]:
        """Counts the events of one document; returns ``format``, ``counted``, ``insights``
        (Insights records found in the input, set aside), ``errors``, and ``skipped``
        (``"too large"`` when the document is over ``max_document_mib`` once decompressed and
        was not read, else None)."""
    def observe_file(self, path: Union[str, PathLike[str]]) -> Dict[str, Any]:
        """Reads a file (plain or gzip) and counts its events, as ``observe`` does."""
    def advance(self) -> List[Insight]:
        """Decides every minute now more than the allowed lateness behind the newest event of
        its account and region; returns the records that became known, in output order."""
    def advance_to(self, watermark: Union[str, datetime, int]) -> List[Insight]:
        """Like ``advance``, and also decides every minute before ``watermark`` (RFC 3339
        text, an aware datetime, or epoch seconds) in every account and region."""
    def finish(self) -> Tuple[List[Insight], List[Dict[str, Any]]]:
        """Decides every minute up to the newest event (end of input); returns the records
        and the insights still open."""
    def open_insights(self) -> List[Dict[str, Any]]:
        """The insights started and not ended."""
    @property
    def stats(self) -> Dict[str, Any]:
        """Counters of everything the detector saw and did."""
    @property
    def state_size(self) -> Dict[str, int]:
        """Partitions, series, open insights, strings and approximate bytes held."""
    @property
    def newest_minute(self) -> Optional[str]:
        """The newest event minute seen, or None."""
    def snapshot(self) -> bytes:
        """The whole state, versioned; the same state always gives the same bytes."""
    @staticmethod
    def restore(data: bytes, max_document_mib: int = 1024) -> "Detector":
        """A detector from ``snapshot()`` bytes; raises SnapshotError on anything else."""

class TrailReplay:
    """Counts trail files into one detector in ``trailsight detect``'s order.

    Hand files over with ``add`` sorted by delivery time (``delivery_time(name)``), files
    without one first, in any order within a minute; then ``finish``. ``take_insights`` takes
    the records decided so far, so a long replay streams. Raises OrderError on files out of
    that order.
    """

    def __init__(
        self,
        config: Config = None,
        *,
        detector: Optional[Detector] = None,
        max_document_mib: Optional[int] = None,
        **settings: Any,
    ) -> None:
        """A replay with a new detector (same arguments as ``Detector``), or continuing from
        the state of ``detector`` (a copy, through its snapshot). Files over
        ``max_document_mib`` once decompressed are skipped (default: ``detector``'s, else
        1,024)."""
    def add(self, path: str, data: Optional[bytes] = None) -> None:
        """One file: its path (for the order and messages, and to read it without ``data``)
        and optionally its bytes, plain or gzip. A file over ``max_document_mib`` is listed in
        ``errors`` and counted in ``skipped`` when its turn comes, not in ``files``."""
    def take_insights(self) -> List[Tuple[int, Insight]]:
        """Records decided since the last call, with their sequence numbers in this replay."""
    def finish(self) -> List[Dict[str, Any]]:
        """Counts what is still held, decides every remaining minute; returns the open
        insights. Take the last records with ``take_insights`` afterwards."""
    @property
    def files(self) -> int:
        """Files counted so far."""
    @property
    def skipped(self) -> Dict[str, int]:
        """Files not read, by reason (``too large``)."""
    @property
    def errors(self) -> List[str]:
        """Read and record errors, one line each, prefixed by the file."""
    @property
    def stats(self) -> Dict[str, Any]:
        """The detector's counters."""

class Run:
    """The result of ``run_paths`` (``trailsight.run``)."""

    @property
    def insights(self) -> List[Insight]:
        """The records, in ``trailsight detect``'s output order."""
    @property
    def json_lines(self) -> List[str]:
        """The records as JSON lines, byte for byte ``trailsight detect``'s stdout."""
    @property
    def open(self) -> List[Dict[str, Any]]:
        """Insights started and not ended at the end of the input."""
    @property
    def stats(self) -> Dict[str, Any]:
        """The detector's counters."""
    @property
    def files(self) -> int:
        """Files read."""
    @property
    def skipped(self) -> Dict[str, int]:
        """Files found and not read, by reason (``digest``, ..., ``too large``)."""
    @property
    def errors(self) -> List[str]:
        """Paths that could not be listed or read, and bad records, one line each."""

def run_paths(
    paths: Sequence[Union[str, PathLike[str]]],
    config: Config = None,
    *,
    max_document_mib: int = 1024,
    **settings: Any,
) -> Run:
    """Runs the detector over files and directories as ``trailsight detect`` does."""

def delivery_time(name: str) -> Optional[str]:
    """The delivery time in a CloudTrail file name (or path), ``YYYY-MM-DDTHH:MM:00Z``."""

def account_region(name: str) -> Optional[Tuple[str, str]]:
    """The (account, region) in a CloudTrail log file name (or path)."""

def skip_reason(relative: str) -> Optional[str]:
    """Why ``trailsight detect`` skips a file at this path relative to the walked directory
    (``digest``, ``aggregated``, ``not a trail file``, ``hidden``), or None."""
