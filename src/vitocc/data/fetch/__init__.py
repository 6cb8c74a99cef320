"""Fetching the real data: resumable HTTP downloads (`download`), byte-range reads of remote zips
(`remote_zip`), verified extraction (`extract`), and the known data sets (`datasets`)."""

from vitocc.data.fetch.datasets import DATASETS, DONE_MARKER, dataset_info, fetch_dataset

__all__ = ["DATASETS", "DONE_MARKER", "dataset_info", "fetch_dataset"]
