package dev.similarity.flink.demo;

import org.junit.jupiter.api.Test;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Runs the Python tests of scripts/bench-bootstrap's peers (bench/python/test_all_pairs_peers.py: exact
 * top-k, recall@k, hnswlib and FAISS on 500 vectors) with the interpreter Debian's python3-hnswlib and
 * python3-faiss serve; skipped where they are not installed (scripts/test installs them).
 */
class AllPairsPeersPythonTest {

    private static final String PYTHON = "/usr/bin/python3";

    @Test
    void recallOfThePeersIsComputedAgainstTheExactTopK() throws Exception {
        assumeTrue(run(new File("."), PYTHON, "-c", "import numpy, hnswlib, faiss") == 0,
                "python3-numpy, python3-hnswlib and python3-faiss are not installed");
        File dir = new File("python");
        ProcessBuilder builder = new ProcessBuilder(PYTHON, "-m", "unittest", "-v", "test_all_pairs_peers").directory(dir).redirectErrorStream(true);
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(5, TimeUnit.MINUTES)).isTrue();
        assertThat(process.exitValue()).as(output).isZero();
        assertThat(output).containsPattern("test_a_wrong_neighbour_lowers_recall .*\\.\\.\\. ok");
    }

    private static int run(File dir, String... command) throws Exception {
        Process process = new ProcessBuilder(command).directory(dir).redirectErrorStream(true).start();
        process.getInputStream().readAllBytes();
        return process.waitFor();
    }
}
