package dev.similarity.peers;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SparkLshJoinTest {

    private static final int N = 500;
    private static final int DIMS = 16;
    private static final int K = 10;
    private static SparkSession spark;
    private static List<float[]> vectors;

    @BeforeAll
    static void start() {
        spark = SparkSession.builder().master("local[1]").appName("test").config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "1").getOrCreate();
        vectors = unitVectors(N, DIMS, 7);
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    @Test
    void buckets_wider_than_the_data_find_the_exact_top_k_of_every_product() {
        Dataset<Row> base = SparkLshJoin.frame(spark, vectors, null);
        SparkLshJoin.Result result = SparkLshJoin.topK(base, base, 100.0, 16, 2.0, K, 42);
        for (int q = 0; q < N; q++) {
            assertThat(result.neighbours().get(q)).as("product %d", q).containsExactlyElementsOf(exactTopK(q));
        }
        assertThat(result.candidatePairs()).isGreaterThan((long) (0.99 * N * (N - 1)));
    }

    @Test
    void narrow_buckets_miss_neighbours_and_never_list_the_query_itself() {
        Dataset<Row> base = SparkLshJoin.frame(spark, vectors, null);
        SparkLshJoin.Result result = SparkLshJoin.topK(base, base, 0.01, 1, 2.0, K, 42);
        long hits = 0;
        for (int q = 0; q < N; q++) {
            List<Integer> found = result.neighbours().getOrDefault(q, List.of());
            assertThat(found).doesNotContain(q).hasSizeLessThanOrEqualTo(K);
            hits += found.stream().filter(exactTopK(q)::contains).count();
        }
        assertThat(hits).isLessThan((long) N * K / 2);
    }

    @Test
    void a_malformed_vector_file_names_its_line() throws Exception {
        Path file = Files.createTempFile("vectors", ".csv");
        Files.writeString(file, "0.1,0.2\n0.3\n");
        assertThatThrownBy(() -> SparkLshJoin.readVectors(file)).hasMessageContaining("line 2 has 1 values");
    }

    @Test
    void the_command_writes_each_query_nearest_first(@TempDir Path dir) throws Exception {
        Path csv = dir.resolve("v.csv");
        List<String> lines = new ArrayList<>();
        for (float[] v : vectors) {
            StringBuilder line = new StringBuilder();
            for (int j = 0; j < v.length; j++) line.append(j == 0 ? "" : ",").append(v[j]);
            lines.add(line.toString());
        }
        Files.write(csv, lines);
        Files.writeString(dir.resolve("q.txt"), "3\n17\n");
        SparkLshJoin.run(spark, SparkLshJoin.parse(new String[] {"--vectors", csv.toString(), "--queries", dir.resolve("q.txt").toString(),
                "--bucket-length", "100", "--hash-tables", "16", "--out", dir.resolve("found.csv").toString()}));
        List<String> found = Files.readAllLines(dir.resolve("found.csv"));
        assertThat(found).hasSize(2);
        assertThat(found.get(1)).startsWith("17," + exactTopK(17).get(0) + ",");
        assertThat(found.get(1).split(",")).hasSize(K + 1);
    }

    private static List<Integer> exactTopK(int q) {
        return IntStream.range(0, N).filter(i -> i != q).boxed()
                .sorted(Comparator.comparingDouble((Integer i) -> -dot(vectors.get(q), vectors.get(i))).thenComparing(i -> i))
                .limit(K).toList();
    }

    private static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += (double) a[i] * b[i];
        return s;
    }

    private static List<float[]> unitVectors(int n, int dims, long seed) {
        Random random = new Random(seed);
        List<float[]> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            float[] v = new float[dims];
            double norm = 0;
            for (int j = 0; j < dims; j++) {
                v[j] = (float) random.nextGaussian();
                norm += v[j] * v[j];
            }
            for (int j = 0; j < dims; j++) v[j] /= (float) Math.sqrt(norm);
            out.add(v);
        }
        return out;
    }
}
