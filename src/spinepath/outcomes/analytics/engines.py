"""Where the analytics SQL runs: embedded DuckDB, or Apache Spark for registries that outgrow one
machine. Both take the same DuckDB-dialect text from :mod:`spinepath.outcomes.analytics.sql`;
Spark gets it transpiled by sqlglot.

The caller owns the connection or session and passes it in (as with population screening), so
this module never decides where data lives or how big a cluster is.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Protocol

import sqlglot
from sqlglot import exp

from spinepath.errors import InputError
from spinepath.outcomes.dataset import SCHEMAS, Dataset


class Engine(Protocol):
    """The three things the analytics need from a SQL engine."""

    name: str

    def create(self, name: str, sql: str) -> None:
        """Materialise ``sql`` (DuckDB dialect) as relation ``name`` for later statements."""

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        """Run ``sql`` (DuckDB dialect) and return every row."""


class DuckDBEngine:
    """Runs on a DuckDB connection; the dataset tables become views (Parquet) or registered
    Arrow tables, never copies."""

    name = "duckdb"

    def __init__(self, con: Any, data: Dataset | Path) -> None:
        self.con = con
        con.execute("SET enable_progress_bar = false")
        if isinstance(data, Path):
            for table in SCHEMAS:
                path = str(data / f"{table}.parquet").replace("'", "''")
                con.execute(f"CREATE OR REPLACE TEMP VIEW {table} AS SELECT * FROM read_parquet('{path}')")
        else:
            for table, arrow in data.tables().items():
                con.register(table, arrow)

    def create(self, name: str, sql: str) -> None:
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}")

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return list(self.con.execute(sql).fetchall())


def to_spark_sql(sql: str) -> str:
    """The DuckDB-dialect text as Spark SQL.

    sqlglot maps ``quantile_cont(x, q)`` to ``PERCENTILE_CONT(x, q)``, which Spark rejects (and
    its ordered-set form to an approximate percentile); Spark's exact ``percentile(x, q)`` is the
    same linear interpolation as DuckDB's ``quantile_cont``, so that is what we write.
    """

    def fix(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.PercentileCont) and node.expression is not None:
            return exp.Anonymous(this="PERCENTILE", expressions=[node.this, node.expression])
        return node

    tree = sqlglot.parse_one(sql, read="duckdb")
    return tree.transform(fix).sql(dialect="spark")


class SparkEngine:
    """Runs on a SparkSession. Relations become cached temporary views."""

    name = "spark"

    def __init__(self, spark: Any, data: Dataset | Path) -> None:
        self.spark = spark
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if not isinstance(data, Path):
            # Spark reads files; an in-memory dataset (e.g. from a clinic database) is written once.
            self._tmp = tempfile.TemporaryDirectory(prefix="spinepath-spark-")
            data.write(Path(self._tmp.name))
            data = Path(self._tmp.name)
        for table in SCHEMAS:
            spark.read.parquet(str(data / f"{table}.parquet")).createOrReplaceTempView(table)
        self._cached: list[Any] = []

    def create(self, name: str, sql: str) -> None:
        df = self.spark.sql(to_spark_sql(sql)).cache()
        df.createOrReplaceTempView(name)
        self._cached.append(df)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self.spark.sql(to_spark_sql(sql)).collect()]

    def close(self) -> None:
        for df in self._cached:
            df.unpersist()
        self._cached.clear()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


def local_spark_session(cores: int = 2, app_name: str = "spinepath-outcomes", memory: str = "4g") -> Any:
    """A local-mode SparkSession (``local[cores]``) with quiet logs and no web UI.

    Needs the optional ``pyspark`` package (``pip install spinepath[spark]``) and Java 17.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise InputError("--engine spark needs PySpark: pip install 'spinepath[spark]' (and Java 17)",
                         field="engine") from None
    try:
        spark = (SparkSession.builder.master(f"local[{cores}]").appName(app_name)
                 .config("spark.ui.enabled", "false")
                 .config("spark.driver.memory", memory)
                 .config("spark.sql.shuffle.partitions", str(cores))
                 .config("spark.default.parallelism", str(cores))
                 .config("spark.ui.showConsoleProgress", "false")
                 .config("spark.sql.session.timeZone", "UTC")
                 .config("spark.sql.ansi.enabled", "true")
                 .config("spark.driver.extraJavaOptions", "-Dlog4j2.level=ERROR")
                 .getOrCreate())
    except Exception as e:  # Java missing or the JVM failed to start
        raise InputError(f"cannot start Spark in local mode ({type(e).__name__}: {str(e).splitlines()[0][:200]}); "
                         "it needs Java 17", field="engine") from None
    spark.sparkContext.setLogLevel("ERROR")
    return spark
