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


def interpolated(rows, recall, key):
    """hnswlib's QPS (key) at this recall, linear between the sweep's points; None outside them."""
    points = sorted((row["recall"], row[key]) for row in rows)
    for (r0, q0), (r1, q1) in zip(points, points[1:]):
        if r0 <= recall <= r1:
            return q0 if r1 == r0 else q0 + (q1 - q0) * (recall - r0) / (r1 - r0)
    if len(points) == 1 and points[0][0] == recall:
        return points[0][1]
    return None


def ratios_to_hnswlib(report, hnswlib_rows, min_recall=0.97):
    """Each Lucene sweep row's QPS over hnswlib's QPS at the same recall (interpolated over ef)."""
    phases = {}
    streaming = report.get("streaming") or []
    if streaming:
        # The first policy's shard after its churn: segments and exact-search buffer as the job keeps them.
        phases["live_shard"] = streaming[0].get("quiet_sweep", [])
        if streaming[0].get("quiet_sweep_batched"):
            phases["live_shard_batched"] = streaming[0]["quiet_sweep_batched"]
    if report.get("force_merged"):
        phases["force_merged"] = report["force_merged"].get("sweep", [])
    result = {"method": "QPS of a Lucene row / hnswlib's QPS at the same recall@k, interpolated "
                        "linearly between hnswlib's ef points; null where the recall is outside them"}
    for phase, rows in phases.items():
        out = []
        for row in rows:
            h_cpu = interpolated(hnswlib_rows, row["recall"], "cpu_qps")
            h_wall = interpolated(hnswlib_rows, row["recall"], "qps")
            out.append({
                "candidates": row["candidates"], "segments": row.get("segments"), "recall": row["recall"],
                "cpu_qps": row["cpu_qps"], "qps": row["qps"],
                "hnswlib_cpu_qps": None if h_cpu is None else round(h_cpu),
                "hnswlib_qps": None if h_wall is None else round(h_wall),
                "ratio_cpu": None if h_cpu is None else round(row["cpu_qps"] / h_cpu, 3),
                "ratio_wall": None if h_wall is None else round(row["qps"] / h_wall, 3),
            })
        result[phase] = out
    live = [row for phase in ("live_shard", "live_shard_batched") for row in result.get(phase, [])
            if row["ratio_cpu"] is not None and row["recall"] >= min_recall]
    if live:
        best = dict(max(live, key=lambda row: row["ratio_cpu"]))
        best["min_recall"] = min_recall
        result["live_shard_best"] = best
    return result


def fmt(value, digits=0):
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


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
    hnswlib_rows = [row for row in peers if row["library"].startswith("hnswlib")]
    if hnswlib_rows:
        report["ratio_to_hnswlib"] = ratios_to_hnswlib(report, hnswlib_rows)
    with open(args.report, "w") as f:
        json.dump(report, f, indent=2)
    print("\n| peer (1 thread, one query per call) | ef | build s | QPS (wall) | QPS (CPU) | recall@%d |" % k)
    print("|---|---:|---:|---:|---:|---:|")
    for row in peers:
        print(f"| {row['library']} | {row['ef']} | {row['build_seconds']} | {row['qps']:,} | "
              f"{row['cpu_qps']:,} | {row['recall']:.3f} |")
    ratios = report.get("ratio_to_hnswlib")
    if ratios:
        print("\n| Lucene shard | candidates | segments | recall@%d | QPS (CPU) | hnswlib QPS (CPU) at that recall | ratio (CPU) | ratio (wall) |" % k)
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for phase in ("live_shard", "force_merged", "live_shard_batched"):
            for row in ratios.get(phase, []):
                print(f"| {phase} | {row['candidates']} | {row['segments']} | {row['recall']:.3f} | "
                      f"{row['cpu_qps']:,.0f} | {fmt(row['hnswlib_cpu_qps'])} | {fmt(row['ratio_cpu'], 2)} | "
                      f"{fmt(row['ratio_wall'], 2)} |")
        best = ratios.get("live_shard_best")
        if best:
            print(f"\nlive shard vs hnswlib at equal recall@{k} (>= {best['min_recall']}): "
                  f"{best['ratio_cpu']:.2f}x by CPU time, {best['ratio_wall']:.2f}x by wall clock "
                  f"(candidates {best['candidates']}, recall {best['recall']:.3f}, {best['segments']} segments)")


if __name__ == "__main__":
    main()
