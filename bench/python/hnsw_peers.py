#!/usr/bin/python3
"""HNSW peers for scripts/bench-index: hnswlib and FAISS on the vectors the Java benchmark exported.

Reads base.npy, queries.npy and truth.npy (exact top-k rows) from --export-dir, builds each library's
HNSW index with the same M and efConstruction as the Lucene run, searches one query per call on one
thread for each ef, and adds a "peers" list to the Java benchmark's JSON report.
"""
import argparse
import json
import sys
import time

import numpy as np


def log(message):
    print(f"[bench-index peers] {message}", file=sys.stderr, flush=True)


def recall_at_k(found, truth):
    """Mean fraction of each row's true neighbours (truth: rows of k ids) that the found row names.

    found: a sequence of id sequences, one per truth row, nearest first; a row may be shorter than k
    (what a search did not return counts as missed); ids beyond k are ignored.
    """
    truth = np.asarray(truth)
    if len(found) != len(truth):
        raise ValueError(f"{len(found)} found rows for {len(truth)} truth rows")
    k = truth.shape[1]
    hits = sum(len(set(int(x) for x in list(f)[:k]) & set(int(x) for x in t)) for f, t in zip(found, truth))
    return hits / truth.size


def measure(search_one, queries, truth, k):
    """QPS by wall clock and by this thread's CPU time, and recall@k, one query per call."""
    found = np.empty((len(queries), k), dtype=np.int64)
    wall0, cpu0 = time.perf_counter(), time.thread_time()
    for i, q in enumerate(queries):
        found[i] = search_one(q)
    wall, cpu = time.perf_counter() - wall0, time.thread_time() - cpu0
    return {
        "qps": round(len(queries) / wall),
        "cpu_qps": round(len(queries) / cpu),
        "recall": round(recall_at_k(found, truth), 4),
    }


def hnswlib_runs(base, queries, truth, k, m, ef_construction, efs):
    import hnswlib

    index = hnswlib.Index(space="ip", dim=base.shape[1])
    index.init_index(max_elements=len(base), M=m, ef_construction=ef_construction, random_seed=42)
    index.set_num_threads(1)
    start = time.perf_counter()
    index.add_items(base, np.arange(len(base)))
    build = time.perf_counter() - start
    log(f"hnswlib built in {build:.1f} s")
    rows = []
    for ef in efs:
        index.set_ef(max(ef, k))
        row = {"library": ("hnswlib " + getattr(hnswlib, "__version__", "")).strip(), "ef": ef,
               "build_seconds": round(build, 2)}
        row.update(measure(lambda q: index.knn_query(q, k=k)[0][0], queries, truth, k))
        log(f"hnswlib ef={ef}: {row['qps']:,} QPS ({row['cpu_qps']:,} by CPU), recall {row['recall']}")
        rows.append(row)
    return rows


def faiss_runs(base, queries, truth, k, m, ef_construction, efs):
    import faiss

    faiss.omp_set_num_threads(1)
    index = faiss.IndexHNSWFlat(base.shape[1], m, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = ef_construction
    start = time.perf_counter()
    index.add(base)
    build = time.perf_counter() - start
    log(f"FAISS built in {build:.1f} s")
    rows = []
    for ef in efs:
        index.hnsw.efSearch = max(ef, k)
        row = {"library": "faiss IndexHNSWFlat " + faiss.__version__, "ef": ef,
               "build_seconds": round(build, 2)}
        row.update(measure(lambda q: index.search(q.reshape(1, -1), k)[1][0], queries, truth, k))
        log(f"FAISS ef={ef}: {row['qps']:,} QPS ({row['cpu_qps']:,} by CPU), recall {row['recall']}")
        rows.append(row)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--export-dir", required=True)
    parser.add_argument("--report", required=True)
    parser.add_argument("--sweep", default="10,20,50,100,200")
    parser.add_argument("--max-conn", type=int, default=16)
    parser.add_argument("--beam-width", type=int, default=100)
    parser.add_argument("--libraries", default="hnswlib,faiss")
    args = parser.parse_args()

    base = np.ascontiguousarray(np.load(f"{args.export_dir}/base.npy"), dtype=np.float32)
    queries = np.ascontiguousarray(np.load(f"{args.export_dir}/queries.npy"), dtype=np.float32)
    truth = np.load(f"{args.export_dir}/truth.npy")
    k = truth.shape[1]
    efs = [int(x) for x in args.sweep.split(",")]
    log(f"{len(base):,} x {base.shape[1]} base, {len(queries):,} queries, k={k}, M={args.max_conn}, "
        f"efConstruction={args.beam_width}")

    peers = []
    for library in args.libraries.split(","):
        runner = {"hnswlib": hnswlib_runs, "faiss": faiss_runs}.get(library)
        if runner is None:
            sys.exit(f"unknown library '{library}' in --libraries; use hnswlib and/or faiss")
        try:
            peers += runner(base, queries, truth, k, args.max_conn, args.beam_width, efs)
        except ImportError as e:
            log(f"skipping {library}: {e} (install python3-hnswlib / python3-faiss)")

    with open(args.report) as f:
        report = json.load(f)
    report["peers"] = peers
    with open(args.report, "w") as f:
        json.dump(report, f, indent=2)
    print("\n| peer (1 thread, one query per call) | ef | build s | QPS (wall) | QPS (CPU) | recall@%d |" % k)
    print("|---|---:|---:|---:|---:|---:|")
    for row in peers:
        print(f"| {row['library']} | {row['ef']} | {row['build_seconds']} | {row['qps']:,} | "
              f"{row['cpu_qps']:,} | {row['recall']:.3f} |")


if __name__ == "__main__":
    main()
