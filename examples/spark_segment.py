"""Segment a text file with PySpark (local mode here; the same code runs on a cluster).

    python3 examples/spark_segment.py INPUT OUTPUT [--mode pipe|udf] [--workers N] [--fenci PATH]

OUTPUT gets one line of space-separated words per line of INPUT, in INPUT's order, exactly what
`fenci segment --model default < INPUT` writes.

--mode pipe: each partition's lines go through one `fenci segment` process (RDD.pipe), which
  keeps their order; the binary must be on every executor (--fenci names it).
--mode udf: a pandas UDF over the Python package (`pip install ./python` on every executor); one
  fenci.Segmenter per partition, cutting Arrow batches of lines.
Either way the partitions are segmented at once and written as part files (part-00000, part-00001,
...; each in its lines' order), which are then joined in their order into OUTPUT: the input's
order kept, and no more than a block of lines in memory anywhere.
"""

import argparse
import os
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

# Spark's Python workers must run this Python (the one fenci and pandas are installed in).
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)

from pyspark.sql import SparkSession  # noqa: E402


def segment_pipe(spark, input_path, parts_dir, workers, fenci):
    # --threads 1: Spark already runs `workers` partitions, one process each, at once.
    cmd = f"{shlex.quote(fenci)} segment --model default --threads 1"
    lines = spark.sparkContext.textFile(input_path, minPartitions=workers)
    lines.pipe(cmd, checkCode=True).saveAsTextFile(parts_dir)


def segment_udf(spark, input_path, parts_dir):
    import pandas as pd
    from pyspark.sql.functions import pandas_udf

    @pandas_udf("string")
    def cut(batches: Iterator[pd.Series]) -> Iterator[pd.Series]:
        import fenci

        seg = fenci.Segmenter(model="default", threads=1)  # once per partition
        for lines in batches:
            yield pd.Series([" ".join(words) for words in seg.cut_batch(lines.tolist())])

    df = spark.read.text(input_path)  # one column, "value"; partitions in file order
    df.select(cut("value")).write.text(parts_dir)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--mode", choices=["pipe", "udf"], default="pipe")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="local[N] (default: all cores)")
    default_fenci = (
        os.environ.get("FENCI_BIN")
        or shutil.which("fenci")
        or str(Path(__file__).resolve().parents[1] / "target/release/fenci")
    )
    ap.add_argument("--fenci", default=default_fenci, help=f"the fenci binary (default: {default_fenci})")
    args = ap.parse_args()
    if args.mode == "pipe" and not os.access(args.fenci, os.X_OK):
        sys.exit(f"{args.fenci}: no fenci binary there (cargo build --release, or --fenci PATH)")

    spark = (
        SparkSession.builder.master(f"local[{args.workers}]")
        .appName("fenci-segment")
        .config("spark.ui.enabled", "false")
        # Split files of a few MB across the workers too (Spark's default packs up to 4 MB into
        # one partition); large files are split in 128 MB pieces either way.
        .config("spark.sql.files.openCostInBytes", str(256 * 1024))
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    try:
        start = time.perf_counter()
        input_path = str(Path(args.input).resolve())
        output = Path(args.output).resolve()
        with tempfile.TemporaryDirectory(dir=output.parent) as tmp:
            parts_dir = str(Path(tmp) / "parts")
            if args.mode == "pipe":
                segment_pipe(spark, input_path, parts_dir, args.workers, str(Path(args.fenci).resolve()))
            else:
                segment_udf(spark, input_path, parts_dir)
            n = 0
            with open(output, "wb") as out:
                for part in sorted(Path(parts_dir).glob("part-*")):  # part-00000, part-00001, ...
                    with open(part, "rb") as f:
                        for line in f:
                            out.write(line)
                            n += 1
        secs = time.perf_counter() - start
    finally:
        spark.stop()
    print(f"spark {args.mode}, {args.workers} workers: {n} lines in {secs:.1f} s, {n / secs:.0f} lines/s")


if __name__ == "__main__":
    main()
