#!/usr/bin/python3
"""All-pairs top-k peers for scripts/bench-bootstrap: every product's k most similar others, computed
on the vectors the indexer itself produced (vectors.npy, one L2-normalised row per product), the way
batch systems do it:

- exact: brute force on BLAS (numpy), the ground truth of every recall below;
- hnswlib and FAISS (IndexHNSWFlat): build an HNSW index of all N vectors, query every one of them;
- Spark MLlib BucketedRandomProjectionLSH.approxSimilarityJoin (bench-peers' SparkLshJoin, a JVM of
  its own): bucket length and hash tables tried cheapest first until recall@k reaches the target or
  the time budget is spent. The join runs on --spark-queries sampled products against all N (all N:
  the full self-join) and its wall time is extrapolated linearly to N queries when sampled.

Adds "peers" ({"spark_lsh", "hnswlib", "faiss"}: each with wall_s and recall_at_10 and its parameters)
and "exact_all_pairs_s" to the JSON report the Java benchmark wrote.
"""
import argparse
import json
import os
import shlex
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hnsw_peers import recall_at_k  # noqa: E402  (one recall function for every peer)


def log(message):
    print(f"[bench-bootstrap peers] {message}", file=sys.stderr, flush=True)


def exact_top_k(vectors, k, chunk=2048):
    """Each row's k highest dot products with the other rows, best first (ties by lower id)."""
    n = len(vectors)
    top = np.empty((n, k), dtype=np.int64)
    for start in range(0, n, chunk):
        scores = vectors[start:start + chunk] @ vectors.T
        rows = np.arange(scores.shape[0])
        scores[rows, start + rows] = -np.inf
        part = np.argpartition(-scores, k, axis=1)[:, :k]
        order = np.lexsort((part, -np.take_along_axis(scores, part, axis=1)), axis=1)
        top[start:start + chunk] = np.take_along_axis(part, order, axis=1)
    return top


def without_self(found, k):
    """Rows of ids searched with k + 1; each row's own id dropped (or its last id), k ids kept."""
    rows = []
    for q, row in enumerate(found):
        ids = [int(x) for x in row if x >= 0 and x != q]
        rows.append(ids[:k])
    return rows


def hnswlib_all_pairs(vectors, truth, k, m, ef_construction, ef, threads):
    import hnswlib

    index = hnswlib.Index(space="ip", dim=vectors.shape[1])
    index.init_index(max_elements=len(vectors), M=m, ef_construction=ef_construction, random_seed=42)
    index.set_num_threads(threads)
    start = time.perf_counter()
    index.add_items(vectors, np.arange(len(vectors)))
    build = time.perf_counter() - start
    index.set_ef(max(ef, k + 1))
    start = time.perf_counter()
    labels, _ = index.knn_query(vectors, k=k + 1)
    query = time.perf_counter() - start
    recall = recall_at_k(without_self(labels, k), truth)
    return {"wall_s": round(build + query, 2), "recall_at_10": round(recall, 4), "build_s": round(build, 2),
            "query_s": round(query, 2), "M": m, "ef_construction": ef_construction, "ef": ef, "threads": threads,
            "library": ("hnswlib " + getattr(hnswlib, "__version__", "")).strip()}


def faiss_all_pairs(vectors, truth, k, m, ef_construction, ef, threads):
    import faiss

    faiss.omp_set_num_threads(threads)
    index = faiss.IndexHNSWFlat(vectors.shape[1], m, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = ef_construction
    start = time.perf_counter()
    index.add(vectors)
    build = time.perf_counter() - start
    index.hnsw.efSearch = max(ef, k + 1)
    start = time.perf_counter()
    _, labels = index.search(vectors, k + 1)
    query = time.perf_counter() - start
    recall = recall_at_k(without_self(labels, k), truth)
    return {"wall_s": round(build + query, 2), "recall_at_10": round(recall, 4), "build_s": round(build, 2),
            "query_s": round(query, 2), "M": m, "ef_construction": ef_construction, "ef": ef, "threads": threads,
            "library": "faiss IndexHNSWFlat " + faiss.__version__}


def read_found(path):
    """SparkLshJoin's output: per line "q,n1,...,nk" -> {q: [n1, ...]}."""
    found = {}
    with open(path) as f:
        for line in f:
            parts = [int(x) for x in line.strip().split(",") if x]
            if parts:
                found[parts[0]] = parts[1:]
    return found


def parse_grid(text):
    """"0.05:5,0.1:5" -> [(0.05, 5), (0.1, 5)]."""
    grid = []
    for item in text.split(","):
        bucket, tables = item.split(":")
        grid.append((float(bucket), int(tables)))
    return grid


def extrapolate(q1, s1, q2, s2, n):
    """Seconds for n queries from two timed joins (q1 queries in s1 s, q2 > q1 in s2 s): the fixed part
    (job start, planning, hashing the base) plus n times the cost of one more query. When the second
    join was not slower (noise), n / q2 times the second's seconds."""
    per_query = (s2 - s1) / (q2 - q1)
    if per_query <= 0:
        return s2 * n / q2, None, None
    fixed = max(0.0, s1 - per_query * q1)
    return fixed + per_query * n, fixed, per_query


def run_join(command, csv, queries_file, bucket, tables, k, out):
    """One SparkLshJoin process; returns its JSON line, the found rows by query and the process' seconds."""
    argv = shlex.split(command) + ["--vectors", csv, "--queries", queries_file, "--bucket-length", str(bucket),
                                   "--hash-tables", str(tables), "--k", str(k), "--out", out]
    start = time.perf_counter()
    run = subprocess.run(argv, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if run.returncode != 0:
        sys.stderr.write(run.stderr[-4000:])
        raise SystemExit(f"Spark LSH run failed (exit {run.returncode}): {' '.join(argv[:3])} ...")
    return json.loads(run.stdout.strip().splitlines()[-1]), read_found(out), seconds


def spark_lsh(vectors, truth, k, command, queries, grid, target, budget_s, work_dir, seed):
    """Tries the grid in order until recall@k >= target or the budget is spent; returns the report entry.

    With fewer queries than products, the chosen parameters are timed again on twice as many queries and
    wall_s is extrapolated from the two joins to all N products (see extrapolate)."""
    n = len(vectors)
    os.makedirs(work_dir, exist_ok=True)
    csv = os.path.join(work_dir, "vectors.csv")
    np.savetxt(csv, vectors, fmt="%.7g", delimiter=",")
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    sample = np.sort(order[:min(queries, n)])
    queries_file = os.path.join(work_dir, "queries.txt")
    np.savetxt(queries_file, sample, fmt="%d")
    full = len(sample) == n
    tried = []
    started = time.perf_counter()
    for bucket, tables in grid:
        if tried and time.perf_counter() - started > budget_s:
            log(f"Spark LSH: time budget of {budget_s:.0f} s spent; stopping the search for parameters")
            break
        log(f"Spark LSH: bucketLength={bucket}, numHashTables={tables}, {len(sample):,} queries x {n:,} products ...")
        stats, found, process_s = run_join(command, csv, queries_file, bucket, tables, k,
                                           os.path.join(work_dir, f"found-{bucket}-{tables}.csv"))
        recall = recall_at_k([found.get(int(q), []) for q in sample], truth[sample])
        entry = {"bucket_length": bucket, "num_hash_tables": tables, "recall_at_10": round(recall, 4),
                 "queries": len(sample), "join_s": stats["join_s"], "process_s": round(process_s, 2),
                 "candidate_pairs": stats["candidate_pairs"]}
        log(f"Spark LSH: recall@{k} {recall:.4f}, join {stats['join_s']:.1f} s for {len(sample):,} queries "
            f"({stats['candidate_pairs']:,} candidate pairs)")
        tried.append(entry)
        if recall >= target:
            break
    reached = [t for t in tried if t["recall_at_10"] >= target]
    best = reached[0] if reached else max(tried, key=lambda t: t["recall_at_10"])
    result = dict(best)
    if full:
        result.update({"wall_s": best["join_s"], "mode": "full self-join", "extrapolated": False,
                       "wall_s_note": f"join of all {n:,} products against all {n:,}"})
    else:
        q2 = min(n, 2 * len(sample))
        sample2 = np.sort(order[:q2])
        queries_file2 = os.path.join(work_dir, "queries-2.txt")
        np.savetxt(queries_file2, sample2, fmt="%d")
        log(f"Spark LSH: timing bucketLength={best['bucket_length']}, numHashTables={best['num_hash_tables']} "
            f"again on {q2:,} queries, to extrapolate to {n:,}")
        stats2, found2, _ = run_join(command, csv, queries_file2, best["bucket_length"], best["num_hash_tables"], k,
                                     os.path.join(work_dir, "found-second.csv"))
        wall, fixed, per_query = extrapolate(len(sample), best["join_s"], q2, stats2["join_s"], n)
        result.update({
            "wall_s": round(wall, 1), "mode": "sample", "extrapolated": True,
            "second_queries": q2, "second_join_s": stats2["join_s"],
            "second_recall_at_10": round(recall_at_k([found2.get(int(q), []) for q in sample2], truth[sample2]), 4),
            "fixed_s": None if fixed is None else round(fixed, 1),
            "per_query_s": None if per_query is None else round(per_query, 4),
            "wall_s_note": f"joins of {len(sample):,} and {q2:,} sampled queries against all {n:,} products, "
                           f"extrapolated to {n:,} queries: fixed part + N x per-query cost",
        })
        log(f"Spark LSH: {stats2['join_s']:.1f} s for {q2:,} queries; {wall:,.0f} s extrapolated to {n:,}")
    result.update({
        "target_recall": target,
        "reached_target": bool(reached),
        "master": stats.get("master"),
        "spark_version": stats.get("spark_version"),
        "tuning_s": round(time.perf_counter() - started, 1),
        "tried": tried,
    })
    return result


def summary_text(report):
    """The report side by side: the indexer's bootstrap and each peer's all-pairs top-k, same vectors."""
    n = report.get("products")
    lines = ["", "==== bootstrap: every product's top-10, same vectors ====",
             f"{'':44} {'wall s':>10} {'products/s':>11} {'recall@10':>10}"]

    def row(label, wall, recall):
        rate = f"{n / wall:,.0f}" if n and wall else ""
        lines.append(f"{label:44} {wall if wall is not None else '':>10} {rate:>11} {recall if recall is not None else '':>10}")

    row(f"indexer: stream, fetch+embed+index+publish", report.get("wall_s"), report.get("mean_overlap"))
    for name, peer in report.get("peers", {}).items():
        label = name
        if name == "spark_lsh":
            label += f" (bucket {peer['bucket_length']}, {peer['num_hash_tables']} tables)"
            if peer.get("extrapolated"):
                label += f" [{peer['queries']:,} q, scaled]"
        else:
            label += f" (M {peer['M']}, ef {peer['ef']}, {peer['threads']} threads)"
        row(label, peer.get("wall_s"), peer.get("recall_at_10"))
    if "exact_all_pairs_s" in report:
        row("exact brute force (numpy BLAS)", report["exact_all_pairs_s"], 1.0)
    lines.append(f"indexer: {report.get('lists_published', '?')} lists published, peak heap "
                 f"{report.get('peak_heap_mb', '?')} MB; the peers compute lists only (vectors given, nothing fetched, "
                 f"embedded or published)")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vectors", help="N x d float32 .npy, one row per product")
    parser.add_argument("--report", required=True, help="JSON report to add the peers to")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--max-conn", type=int, default=16)
    parser.add_argument("--beam-width", type=int, default=100)
    parser.add_argument("--ef", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--spark-command", help="the SparkLshJoin command line (no Spark peer without it)")
    parser.add_argument("--spark-queries", type=int, default=200)
    parser.add_argument("--spark-grid", default="0.05:5,0.1:5,0.2:5,0.4:3,1.0:3")
    parser.add_argument("--spark-target", type=float, default=0.95)
    parser.add_argument("--spark-budget-s", type=float, default=1800)
    parser.add_argument("--work-dir", default=None)
    parser.add_argument("--summary-only", action="store_true", help="print the report's summary and exit")
    args = parser.parse_args()
    if args.summary_only:
        with open(args.report) as f:
            print(summary_text(json.load(f)), end="")
        return

    vectors = np.ascontiguousarray(np.load(args.vectors), dtype=np.float32)
    n, k = len(vectors), args.k
    log(f"{n:,} x {vectors.shape[1]} vectors, k={k}")
    start = time.perf_counter()
    truth = exact_top_k(vectors, k)
    exact_s = time.perf_counter() - start
    log(f"exact all-pairs top-{k} (numpy BLAS): {exact_s:.1f} s")

    peers = {}
    for name, runner in (("hnswlib", hnswlib_all_pairs), ("faiss", faiss_all_pairs)):
        peers[name] = runner(vectors, truth, k, args.max_conn, args.beam_width, args.ef, args.threads)
        log(f"{name}: build {peers[name]['build_s']} s + query {peers[name]['query_s']} s, "
            f"recall@{k} {peers[name]['recall_at_10']}")
    if args.spark_command:
        peers["spark_lsh"] = spark_lsh(vectors, truth, k, args.spark_command, args.spark_queries,
                                       parse_grid(args.spark_grid), args.spark_target, args.spark_budget_s,
                                       args.work_dir or os.path.dirname(os.path.abspath(args.vectors)), 42)

    with open(args.report) as f:
        report = json.load(f)
    report["exact_all_pairs_s"] = round(exact_s, 2)
    report["peers"] = {key: peers[key] for key in ("spark_lsh", "hnswlib", "faiss") if key in peers}
    with open(args.report, "w") as f:
        json.dump(report, f, indent=2)
    print(summary_text(report), end="")


if __name__ == "__main__":
    main()
