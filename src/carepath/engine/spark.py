"""Apache Spark backend: the same compiled Ibis expressions, run by PySpark.

The workspace's tables are handed to Spark as Parquet (written by DuckDB into a private
temporary folder, deleted afterwards); Spark runs the aggregate queries; the small
aggregates come back and the results are written to the workspace exactly as with DuckDB.
Local mode here; on a cluster set ``[spark] master`` in ``carepath.toml``.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from carepath.engine.compile import Source
from carepath.errors import CarepathError
from carepath.workspace import Workspace

DEFAULT_MASTER = "local[2]"
SHUFFLE_PARTITIONS = 4  # small aggregates: the default 200 partitions only add overhead


# Where the JVM Spark starts writes its own output: five lines of start-up notices
# ("Using Spark's default log4j profile", a native-hadoop warning...) printed before its log
# level could be set, among the compute's lines (a walkthrough). Read when Spark fails to
# start; Spark's own errors reach Carepath as exceptions.
JVM_LOG = Path(tempfile.gettempdir()) / f"carepath-spark-jvm-{os.getuid()}.log"
TAIL_LINES = 20


@contextmanager
def _jvm_output_to(path: Path) -> Iterator[Path]:
    """Standard output and error of processes started meanwhile (the JVM) go to ``path``
    (emptied first: its tail is this start's): the JVM inherits them when it starts, and
    keeps them for its life."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    try:
        with open(path, "wb") as log:
            os.dup2(log.fileno(), 1)
            os.dup2(log.fileno(), 2)
            yield path
    finally:
        for fd, copy in zip((1, 2), saved, strict=True):
            os.dup2(copy, fd)
            os.close(copy)


def _tail(path: Path) -> str:
    lines = path.read_text(errors="replace").splitlines()[-TAIL_LINES:]
    return f"The last lines Spark wrote ({path}):\n" + "\n".join(lines)


def _session(master: str):
    # Bind the driver to loopback: Carepath never listens on a public interface.
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    try:
        from py4j.protocol import Py4JError
        from pyspark.errors import PySparkException
        from pyspark.sql import SparkSession
    except ImportError:
        raise CarepathError("the Spark engine needs PySpark: pip install 'carepath[spark]'",
                            where="--engine spark") from None
    before = signal.getsignal(signal.SIGINT)
    builder = (SparkSession.builder.appName("carepath").master(master)
               .config("spark.ui.enabled", "false")
               .config("spark.sql.shuffle.partitions", str(SHUFFLE_PARTITIONS))
               .config("spark.driver.bindAddress", "127.0.0.1")
               .config("spark.sql.session.timeZone", "UTC")
               # Its progress bars drew over the compute's own lines (a walkthrough).
               .config("spark.ui.showConsoleProgress", "false"))
    with _jvm_output_to(JVM_LOG) as log:
        try:
            session = builder.getOrCreate()
        except (PySparkException, Py4JError) as exc:  # no Java, a bad master: in its log
            raise CarepathError(f"Spark did not start: {exc}\n{_tail(log)}",
                                where="--engine spark") from None
    if threading.current_thread() is threading.main_thread():
        # PySpark installs a Ctrl+C handler for its interactive shell: put back ours
        # (see _cancelled_on_interrupt).
        signal.signal(signal.SIGINT, before)
    return session


@contextmanager
def spark_source(ws: Workspace, tables: set[str]) -> Iterator[Source]:
    import ibis

    master = ws.config().get("spark", {}).get("master", DEFAULT_MASTER)
    spark = _session(master)
    spark.sparkContext.setLogLevel("ERROR")
    folder = Path(tempfile.mkdtemp(prefix="carepath-spark-"))
    try:
        with ws.connect(read_only=True) as con:
            # A table missing from the workspace is left out: the indicators needing it
            # fail naming it, as on DuckDB, and the others are computed.
            present = {r[0] for r in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'"
                ).fetchall()} & set(tables)
            for name in sorted(present):
                path = folder / f"{name}.parquet"
                con.execute(f"COPY \"{name}\" TO '{path}' (FORMAT parquet)")
        for name in sorted(present):
            spark.read.parquet(str(folder / f"{name}.parquet")).createOrReplaceTempView(name)
        backend = ibis.pyspark.connect(spark)
        with _cancelled_on_interrupt(spark) as interrupted:
            def table(name: str):
                if interrupted.is_set():  # no new work once Ctrl+C is pressed
                    raise KeyboardInterrupt
                return backend.table(name)

            try:
                yield Source(table=table, interrupted=interrupted.is_set)
            except Exception:
                if interrupted.is_set():  # the cancelled job's error: it was the Ctrl+C
                    raise KeyboardInterrupt from None
                raise
    finally:
        # The session outlives this compute: its views of these files go with them, or a
        # later compute lacking a table would read an earlier one's deleted copy.
        for name in sorted(tables):
            spark.catalog.dropTempView(name)
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def _cancelled_on_interrupt(spark) -> Iterator[threading.Event]:
    """Ctrl+C cancels Spark's jobs from another thread and then stops the compute. PySpark's
    own handler cancels them from inside the interrupted call to the JVM: a reentrant call
    that printed 170 lines of Python and Java errors and exited 1 (a hunt). A second Ctrl+C
    stops at once."""
    interrupted = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield interrupted  # signal handlers belong to the main thread
        return

    def on_interrupt(signum, frame) -> None:
        if interrupted.is_set():
            raise KeyboardInterrupt
        interrupted.set()
        threading.Thread(target=spark.sparkContext.cancelAllJobs, daemon=True).start()

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield interrupted
    finally:
        signal.signal(signal.SIGINT, previous)

