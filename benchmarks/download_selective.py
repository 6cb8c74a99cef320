"""Bytes and requests of `vitocc download` in full and selective mode, over real HTTP on 127.0.0.1.

Builds a box archive in the real layout (5 classes x 6 models, 24 views per model like the
real data, 4096 points), ZIP64 like the real one, serves it with the tests' HTTP server and
fetches it whole, one class, and two models of one class.

Run: python benchmarks/download_selective.py
"""

from __future__ import annotations

import importlib.util
import sys
import tempfile
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1] / "tests"
CLASSES = {"02691156": "airplane", "02958343": "car", "03001627": "chair", "04256520": "sofa", "04379243": "table"}


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    sys.path.insert(0, str(TESTS / "data"))
    from http_server import FaultyServer

    from vitocc.data.fetch import DATASETS, fetch_dataset
    from vitocc.data.fetch.download import RetryPolicy

    conftest = _load("_bench_conftest", TESTS / "conftest.py")
    zip_tree = _load("_bench_test_download", TESTS / "data" / "test_download.py").zip_tree
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        src = conftest.write_box_dataset(base / "src" / "ShapeNet", CLASSES, models_per_class=6, n_points=4096,
                                         n_views=24)
        data = zip_tree(src, base / "dataset_small_v1.1.zip")
        print(f"archive: {len(data)} bytes, {len(CLASSES)} classes x 6 models, 24 views each")
        cases = [("full download", {}), ("one class (chair)", {"categories": ["chair"]}),
                 ("chair, --max-models 2", {"categories": ["chair"], "max_models": 2})]
        for label, kwargs in cases:
            with FaultyServer() as server:
                server.put("/dataset_small_v1.1.zip", data)
                start = time.perf_counter()
                summary = fetch_dataset(DATASETS["shapenet"], base / label.replace(" ", "_"),
                                        url=server.url("/dataset_small_v1.1.zip"), retry=RetryPolicy(),
                                        merge_gap=4096, **kwargs)
                seconds = time.perf_counter() - start
                print(f"{label:24s} {server.bytes_sent:9d} bytes sent ({server.bytes_sent / len(data):6.1%}) "
                      f"in {len(server.statuses('GET'))} GETs, {summary.files_written} files, {seconds:.2f} s")


if __name__ == "__main__":
    main()
