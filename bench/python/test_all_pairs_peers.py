#!/usr/bin/python3
"""Tests of the peers' recall on 500 vectors: run with /usr/bin/python3 -m unittest (from bench/python)."""
import os
import sys
import unittest

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import all_pairs_peers as peers  # noqa: E402
from hnsw_peers import recall_at_k  # noqa: E402


def unit_vectors(n=500, d=16, seed=3):
    v = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


class RecallTest(unittest.TestCase):

    def setUp(self):
        self.vectors = unit_vectors()
        self.truth = peers.exact_top_k(self.vectors, 10)

    def test_exact_top_k_excludes_the_product_and_ranks_by_dot_product(self):
        q = 7
        scores = self.vectors @ self.vectors[q]
        scores[q] = -np.inf
        self.assertEqual(list(np.argsort(-scores)[:10]), list(self.truth[q]))
        self.assertTrue(all(q != x for x in self.truth[q]))

    def test_the_truth_itself_has_recall_one(self):
        self.assertEqual(1.0, recall_at_k(list(self.truth), self.truth))

    def test_a_wrong_neighbour_lowers_recall(self):
        found = [list(row) for row in self.truth]
        outsider = next(x for x in range(500) if x not in found[0] and x != 0)
        found[0][3] = outsider
        self.assertAlmostEqual(1 - 1 / 5000, recall_at_k(found, self.truth))

    def test_a_short_row_counts_its_missing_neighbours_as_missed(self):
        found = [list(row) for row in self.truth]
        found[1] = found[1][:5]
        self.assertAlmostEqual(1 - 5 / 5000, recall_at_k(found, self.truth))

    def test_the_query_itself_is_dropped_from_a_k_plus_one_search(self):
        found = np.array([[0, 5, 6], [2, 1, 3]])
        self.assertEqual([[5, 6], [2, 3]], peers.without_self(found, 2))

    def test_hnswlib_and_faiss_find_nearly_all_exact_neighbours(self):
        for runner in (peers.hnswlib_all_pairs, peers.faiss_all_pairs):
            result = runner(self.vectors, self.truth, 10, 16, 100, 50, 1)
            self.assertGreaterEqual(result["recall_at_10"], 0.95, result)

    def test_spark_found_lines_are_read_per_query(self):
        path = os.path.join(os.environ.get("TMPDIR", "/tmp"), "found-test.csv")
        with open(path, "w") as f:
            f.write("3,1,2\n4\n")
        self.assertEqual({3: [1, 2], 4: []}, peers.read_found(path))
        os.remove(path)

    def test_grid_is_parsed_in_order(self):
        self.assertEqual([(0.05, 5), (1.0, 3)], peers.parse_grid("0.05:5,1.0:3"))


class ExtrapolationTest(unittest.TestCase):

    def test_fixed_cost_is_paid_once_and_the_per_query_cost_n_times(self):
        wall, fixed, per_query = peers.extrapolate(100, 60.0, 200, 80.0, 10_000)
        self.assertAlmostEqual(0.2, per_query)
        self.assertAlmostEqual(40.0, fixed)
        self.assertAlmostEqual(40.0 + 0.2 * 10_000, wall)

    def test_a_second_join_no_slower_is_scaled_in_proportion(self):
        wall, fixed, per_query = peers.extrapolate(100, 60.0, 200, 50.0, 1000)
        self.assertEqual((250.0, None, None), (wall, fixed, per_query))


class SummaryTest(unittest.TestCase):

    def test_summary_puts_the_indexer_and_each_peer_side_by_side(self):
        report = {"products": 1000, "wall_s": 10.0, "mean_overlap": 0.99, "lists_published": 5000, "peak_heap_mb": 900,
                  "exact_all_pairs_s": 0.5,
                  "peers": {"spark_lsh": {"wall_s": 2000.0, "recall_at_10": 0.95, "bucket_length": 0.2,
                                          "num_hash_tables": 5, "queries": 100, "extrapolated": True},
                            "hnswlib": {"wall_s": 1.0, "recall_at_10": 0.99, "M": 16, "ef": 50, "threads": 2}}}
        text = peers.summary_text(report)
        self.assertIn("indexer", text)
        self.assertRegex(text, r"spark_lsh \(bucket 0.2, 5 tables\) \[100 q, scaled\]\s+2000.0\s+0\s+0.95")
        self.assertRegex(text, r"hnswlib .*\s+1.0\s+1,000\s+0.99")


if __name__ == "__main__":
    unittest.main()
