"""trailsight on Apache Spark: replay a whole trail bucket, one (account, region) per task.

CloudTrail Insights are computed per account and region, and CloudTrail's S3 layout is
partitioned that way (``AWSLogs/[o-id/]<account>/CloudTrail/<region>/...``, and the account and
region are in every log file's name), so a replay splits into independent units with no shared
state. :func:`replay`:

1. lists the trail files under a root with Spark's own file listing (any Hadoop file system:
   ``s3a://``, ``hdfs://``, ``abfss://``, ``gs://``, local), applying the command's skip rules;
2. reads them with Spark (``binaryFile``, so S3 credentials are Hadoop's S3A settings) or, with
   ``read="direct"``, lets each task read them from a file system every executor mounts;
3. hash-partitions the files by (account, region) and sorts each partition by account, region
   and delivery time, so that a task streams through one account-region after another, in
   time order, with the detector's state carried from file to file (a busy account-region over
   years is never loaded at once: a task holds one Arrow batch of files and the detector);
4. runs :class:`trailsight.TrailReplay` on each account-region, which counts files in
   ``trailsight detect``'s order, and returns one row per Insights record (and one summary row
   per account-region).

The records equal ``trailsight detect``'s on the same files, byte for byte; :func:`ordered`
sorts them into the command's output order. Files whose names carry no account and region
(exports, JSON lines) are replayed together in one task; that is exact as long as their
account-regions have no CloudTrail-named files too.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, Iterator, List, Literal, Mapping, Optional, Tuple, Union

import trailsight

if TYPE_CHECKING:  # pragma: no cover
    import pandas
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["RECORD_SCHEMA", "collect_json_lines", "list_files", "ordered", "replay", "write_json_lines"]

#: The rows :func:`replay` returns. ``kind`` is ``insight`` (``record`` is the Insights record's
#: JSON line) or ``summary`` (``record`` is a JSON object with the account-region's file count,
#: detector counters, errors and open insights). ``seq`` numbers an account-region's records in
#: the order its detector emitted them.
RECORD_SCHEMA = (
    "kind string, account string, region string, seq long, event_time string, "
    "event_time_s long, state string, event_source string, event_name string, "
    "insight_type string, error_code string, record string"
)

_FILES_SCHEMA = "path string, account string, region string, delivered string"

#: Error lines kept per account-region in its summary row (all are counted).
_SUMMARY_ERRORS = 100


def list_files(spark: "SparkSession", root: Union[str, List[str]]) -> "DataFrame":
    """The trail files under ``root`` (one URI or several): ``path``, ``account``, ``region``
    (from CloudTrail's file name, null for other files) and ``delivered`` (the delivery time in
    the name, ``YYYY-MM-DDTHH:MM:00Z``, null for other files). Digests, aggregated files, hidden
    files and non-trail names are left out, as ``trailsight detect`` leaves them out."""
    return spark.createDataFrame(_list(spark, root), _FILES_SCHEMA)


def _list(spark: "SparkSession", root: Union[str, List[str]]) -> List[Tuple[str, Optional[str], Optional[str], Optional[str]]]:
    """Lists with Spark's file index (parallel listing, any Hadoop file system) on the driver:
    names only, no file is opened; the name rules are the engine's."""
    roots = [root] if isinstance(root, str) else list(root)
    qualified = [_qualified(spark, r) for r in roots]
    found = (
        spark.read.format("binaryFile").option("recursiveFileLookup", "true").load(roots).inputFiles()
    )
    files = []
    for path in sorted(found):
        if trailsight.skip_reason(_relative(_normal(path), qualified)) is not None:
            continue
        names = trailsight.account_region(path)
        files.append(
            (
                path,
                names[0] if names else None,
                names[1] if names else None,
                trailsight.delivery_time(path),
            )
        )
    return files


def replay(
    spark: "SparkSession",
    root: Union[str, List[str]],
    config: Union[Mapping[str, Any], str, None] = None,
    *,
    read: Literal["spark", "direct"] = "spark",
    partitions: Optional[int] = None,
    files_per_batch: int = 32,
    **settings: Any,
) -> "DataFrame":
    """Replays every trail file under ``root`` on the cluster; returns a DataFrame of
    :data:`RECORD_SCHEMA` rows (lazy: nothing runs until an action).

    ``config`` and ``settings`` are the detector's settings, as for :class:`trailsight.Detector`
    (checked here, on the driver); ``max_document_mib=N`` among them caps each file once
    decompressed, as ``--max-document-mib`` does (default 1,024; a file over it is skipped and
    listed in its account-region's summary row, under ``skipped`` and ``errors``). ``read="spark"`` reads file contents through Spark's data
    source (S3A credentials and all); ``read="direct"`` hands tasks the paths only and lets the
    engine read them, for ``file:`` paths every executor can open (a shared mount, ``/dbfs``),
    which saves moving contents through Spark's shuffle. ``partitions`` is the number of tasks
    (default: the number of account-regions). Each task receives ``files_per_batch`` files at a
    time: this bounds a task's memory to that many files plus the detector's state.
    """
    if read not in ("spark", "direct"):
        raise ValueError(f"read must be 'spark' or 'direct', not {read!r}")
    if files_per_batch < 1:
        raise ValueError("files_per_batch must be at least 1")
    # Fail on the driver, with the real message, rather than in every task.
    trailsight.Detector(config, **settings)
    config_json = json.dumps(_config_mapping(config))
    settings_json = json.dumps(settings)

    from pyspark.sql import functions

    listed = _list(spark, root)
    if not listed:
        return spark.createDataFrame([], RECORD_SCHEMA)
    slices = partitions or len({(account, region) for _, account, region, _ in listed})
    if read == "spark":
        # The roots are read again rather than the listed files named one by one: Spark checks
        # named files one at a time on the driver (88 s for 10,000 files here, against 11 s to
        # read them all). A broadcast semi-join on the listed paths then keeps only the files the
        # command reads. The account, region and delivery time are read from the path column by
        # Spark expressions (the engine's rules, spelled in SQL), so contents stay in the JVM
        # until the replay; the engine checks the resulting order as it counts.
        roots = [root] if isinstance(root, str) else list(root)
        contents = (
            spark.read.format("binaryFile").option("recursiveFileLookup", "true").load(roots)
        )
        keep = spark.createDataFrame([(_normal(p),) for p, _, _, _ in listed], "path string")
        files = contents.select("path", "content").join(
            functions.broadcast(keep), "path", "left_semi"
        ).select("path", "content", *_name_columns())
    else:
        files = spark.createDataFrame(listed, _FILES_SCHEMA).withColumn(
            "content", functions.lit(None).cast("binary")
        )
    # A batch is this many whole files; the setting is read when the job runs.
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(files_per_batch))
    arranged = files.repartition(slices, "account", "region").sortWithinPartitions(
        "account", "region", functions.col("delivered").asc_nulls_first(), "path"
    )

    def run(batches: Iterator["pandas.DataFrame"]) -> Iterator["pandas.DataFrame"]:
        return _run_partition(batches, config_json, settings_json)

    return arranged.mapInPandas(run, RECORD_SCHEMA)


def _name_columns() -> List[Any]:
    """``account``, ``region`` and ``delivered`` of the ``path`` column, as
    :func:`trailsight.account_region` and :func:`trailsight.delivery_time` give them
    (``python/tests/test_spark.py`` checks that they agree)."""
    from pyspark.sql import functions as f

    name = f.element_at(f.split(f.col("path"), "/"), -1)
    parts = f.split(name, "_")
    cloudtrail = (
        (f.size(parts) >= 3)
        & (parts.getItem(1) == "CloudTrail")
        & (parts.getItem(0) != "")
        & (parts.getItem(2) != "")
    )
    stamp = f.regexp_extract(name, r"(?:^|_)(\d{8}T\d{4}Z)(?:_|$)", 1)
    # Text operations, not timestamps, so that the session time zone plays no part; the parse
    # only rejects impossible dates, as the engine does.
    valid = f.try_to_timestamp(stamp, f.lit("yyyyMMdd'T'HHmm'Z'")).isNotNull()
    delivered = f.concat(
        stamp.substr(1, 4), f.lit("-"), stamp.substr(5, 2), f.lit("-"), stamp.substr(7, 2),
        f.lit("T"), stamp.substr(10, 2), f.lit(":"), stamp.substr(12, 2), f.lit(":00Z"),
    )
    return [
        f.when(cloudtrail, parts.getItem(0)).alias("account"),
        f.when(cloudtrail, parts.getItem(2)).alias("region"),
        f.when(valid, delivered).alias("delivered"),
    ]


def ordered(records: "DataFrame") -> "DataFrame":
    """The insight rows of :func:`replay` in ``trailsight detect``'s output order: by
    ``eventTime``, account, region, event source, event name, insight type, error code, End
    before Start, and the detector's own order among equal keys."""
    from pyspark.sql import functions as f

    return records.filter(f.col("kind") == "insight").orderBy(
        "event_time_s",
        f.col("account").asc_nulls_first(),
        "region",
        "event_source",
        "event_name",
        "insight_type",
        f.col("error_code").asc_nulls_first(),
        "state",
        "seq",
    )


def collect_json_lines(records: "DataFrame") -> List[str]:
    """The Insights records as JSON lines, in the command's order, on the driver: the same
    lines ``trailsight detect`` prints for the same files."""
    return [row.record for row in ordered(records).select("record").collect()]


def write_json_lines(records: "DataFrame", path: str) -> None:
    """Writes the Insights records as one text file of JSON lines under ``path`` (a directory,
    as Spark writes), in the command's order."""
    ordered(records).select("record").coalesce(1).write.mode("overwrite").text(path)


def _run_partition(
    batches: Iterator["pandas.DataFrame"], config_json: str, settings_json: str
) -> Iterator["pandas.DataFrame"]:
    """One task: account-regions one after another, each file counted in order."""
    import pandas

    config = json.loads(config_json)
    settings = json.loads(settings_json)
    columns = [c.split()[0] for c in RECORD_SCHEMA.split(", ")]
    current: Optional[Tuple[Optional[str], Optional[str]]] = None
    replay: Optional[trailsight.TrailReplay] = None

    def drain(key: Tuple[Optional[str], Optional[str]], final: bool) -> pandas.DataFrame:
        assert replay is not None
        rows: List[Tuple[Any, ...]] = []
        open_insights = replay.finish() if final else []
        for seq, insight in replay.take_insights():
            rows.append(
                (
                    "insight",
                    key[0],
                    key[1],
                    seq,
                    insight.event_time,
                    insight.sort_key[0],
                    insight.state,
                    insight.event_source,
                    insight.event_name,
                    insight.insight_type,
                    insight.error_code,
                    insight.json,
                )
            )
        if final:
            errors = replay.errors
            summary = {
                "files": replay.files,
                "skipped": replay.skipped,
                "stats": replay.stats,
                "open": open_insights,
                "errors": errors[:_SUMMARY_ERRORS],
                "error_count": len(errors),
            }
            rows.append(
                ("summary", key[0], key[1], None, None, None, None, None, None, None, None,
                 json.dumps(summary))
            )
        return pandas.DataFrame(rows, columns=columns)

    for batch in batches:
        for account, region, path, content in zip(
            batch["account"], batch["region"], batch["path"], batch["content"]
        ):
            key = (_none(account), _none(region))
            if key != current:
                if replay is not None and current is not None:
                    yield drain(current, final=True)
                current, replay = key, trailsight.TrailReplay(config, **settings)
            assert replay is not None
            data = None if content is None else bytes(content)
            replay.add(path if data is not None else _local(path), data)
        if replay is not None and current is not None:
            yield drain(current, final=False)
    if replay is not None and current is not None:
        yield drain(current, final=True)


def _none(value: Any) -> Optional[str]:
    # pandas gives None or NaN for a null string column.
    return value if isinstance(value, str) else None


def _local(path: str) -> str:
    """A ``file:`` URI as a local path, for ``read="direct"``."""
    from urllib.parse import unquote, urlparse

    if path.startswith("file:"):
        return unquote(urlparse(path).path)
    if path.startswith("dbfs:/"):
        return "/dbfs/" + path[len("dbfs:/"):].lstrip("/")
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", path):
        raise trailsight.TrailsightError(
            f"{path}: read='direct' needs files every executor can open; use read='spark'"
        )
    return path


def _qualified(spark: "SparkSession", root: str) -> str:
    """``root`` as Spark will print its files' paths (``file:/...``, ``s3a://...``)."""
    try:
        jvm: Any = spark._jvm
        path = jvm.org.apache.hadoop.fs.Path(root)
        fs = path.getFileSystem(spark._jsc.hadoopConfiguration())
        return _normal(str(fs.makeQualified(path).toString())).rstrip("/")
    except Exception:  # Spark Connect has no JVM gateway: fall back to the full path.
        return _normal(root).rstrip("/")


def _normal(path: str) -> str:
    """One spelling for the two Spark uses: the file index's URIs (``file:///x``,
    percent-encoded) and Hadoop paths (``file:/x``)."""
    from urllib.parse import unquote

    path = unquote(path)
    return "file:/" + path[len("file:///"):] if path.startswith("file:///") else path


def _relative(path: str, roots: List[str]) -> str:
    """``path`` relative to the root it was found under, for the command's skip rules, which
    look at the folders below the walked root only."""
    for root in roots:
        if path.startswith(root + "/"):
            return path[len(root) + 1:]
    return path


def _config_mapping(config: Union[Mapping[str, Any], str, None]) -> Any:
    # TOML text stays text; the workers parse it as the driver did.
    return config if config is None or isinstance(config, str) else dict(config)
