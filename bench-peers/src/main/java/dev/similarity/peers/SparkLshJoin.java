package dev.similarity.peers;

import org.apache.spark.ml.feature.BucketedRandomProjectionLSH;
import org.apache.spark.ml.feature.BucketedRandomProjectionLSHModel;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.row_number;

/**
 * The nightly-batch way of computing "similar products": Spark MLlib's
 * {@code BucketedRandomProjectionLSH.approxSimilarityJoin} of the query products against the whole
 * catalogue (Euclidean distance; on unit vectors its order is the dot product's), then each query's
 * k nearest other products by a window over the joined pairs, as Wehkamp's published pipeline does.
 *
 * <pre>
 * SparkLshJoin --vectors V.csv --queries Q.txt --bucket-length B --hash-tables T --out FOUND.csv
 *              [--k 10] [--threshold 2.0] [--master local[2]] [--seed 42]
 * </pre>
 * V.csv: one vector per line, comma-separated floats; the line number (from 0) is the product id.
 * Q.txt: query ids, one per line (all ids: the full self-join). FOUND.csv: per query "q,n1,...,nk"
 * (fewer when LSH found fewer candidates within the threshold), nearest first. The last line of
 * standard output is a JSON object: {@code load_s}, {@code join_s} (fit, hash, join, top-k and collect:
 * the work a nightly run repeats), {@code candidate_pairs}, {@code queries}, the parameters.
 */
public final class SparkLshJoin {

    private SparkLshJoin() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> a = parse(args);
        SparkSession spark = SparkSession.builder().master(a.getOrDefault("--master", "local[2]")).appName("lsh-all-pairs")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "8")
                .getOrCreate();
        spark.sparkContext().setLogLevel("WARN");
        try {
            System.out.println(json(run(spark, a)));
        } finally {
            spark.stop();
        }
    }

    /** Runs the command's work on {@code spark} with the parsed options; returns the JSON report's values. */
    static Map<String, Object> run(SparkSession spark, Map<String, String> a) throws IOException {
        Path vectors = Path.of(required(a, "--vectors"));
        Path queriesFile = Path.of(required(a, "--queries"));
        Path out = Path.of(required(a, "--out"));
        double bucketLength = Double.parseDouble(required(a, "--bucket-length"));
        int tables = Integer.parseInt(required(a, "--hash-tables"));
        int k = Integer.parseInt(a.getOrDefault("--k", "10"));
        double threshold = Double.parseDouble(a.getOrDefault("--threshold", "2.0"));
        long seed = Long.parseLong(a.getOrDefault("--seed", "42"));
        String master = spark.sparkContext().master();
        {
            long t0 = System.nanoTime();
            List<float[]> rows = readVectors(vectors);
            List<Integer> queryIds = Files.readAllLines(queriesFile).stream().map(String::trim)
                    .filter(s -> !s.isEmpty()).map(Integer::parseInt).collect(Collectors.toList());
            Dataset<Row> base = frame(spark, rows, null).cache();
            Dataset<Row> queries = frame(spark, rows, queryIds).cache();
            base.count();
            queries.count();
            double loadSeconds = (System.nanoTime() - t0) / 1e9;

            long t1 = System.nanoTime();
            Result result = topK(base, queries, bucketLength, tables, threshold, k, seed);
            double joinSeconds = (System.nanoTime() - t1) / 1e9;

            try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(out))) {
                for (int q : queryIds) {
                    List<Integer> found = result.neighbours().getOrDefault(q, List.of());
                    StringBuilder line = new StringBuilder(Integer.toString(q));
                    for (int n : found) line.append(',').append(n);
                    w.println(line);
                }
            }
            Map<String, Object> report = new LinkedHashMap<>();
            report.put("queries", queryIds.size());
            report.put("base", rows.size());
            report.put("bucket_length", bucketLength);
            report.put("num_hash_tables", tables);
            report.put("threshold", threshold);
            report.put("master", master);
            report.put("spark_version", spark.version());
            report.put("load_s", round(loadSeconds));
            report.put("join_s", round(joinSeconds));
            report.put("candidate_pairs", result.candidatePairs());
            return report;
        }
    }

    /** Each query's nearest other base rows (at most k, nearest first) and the number of candidate pairs. */
    public record Result(Map<Integer, List<Integer>> neighbours, long candidatePairs) {}

    /**
     * The approximate top-k of every row of {@code queries} among {@code base} (both with columns
     * {@code id} int and {@code features} vector), the query itself excluded.
     */
    public static Result topK(Dataset<Row> base, Dataset<Row> queries, double bucketLength, int tables,
                              double threshold, int k, long seed) {
        BucketedRandomProjectionLSHModel model = new BucketedRandomProjectionLSH()
                .setBucketLength(bucketLength).setNumHashTables(tables).setSeed(seed)
                .setInputCol("features").setOutputCol("hashes").fit(base);
        Dataset<Row> pairs = model.approxSimilarityJoin(queries, base, threshold, "distance")
                .select(col("datasetA.id").as("q"), col("datasetB.id").as("n"), col("distance"))
                .filter(col("q").notEqual(col("n")))
                .cache();
        long candidatePairs = pairs.count();
        List<Row> ranked = pairs
                .withColumn("rank", row_number().over(Window.partitionBy("q").orderBy(col("distance"), col("n"))))
                .filter(col("rank").leq(k))
                .select("q", "n", "rank")
                .collectAsList();
        pairs.unpersist();
        Map<Integer, TreeMap<Integer, Integer>> byRank = new HashMap<>();
        for (Row r : ranked) {
            byRank.computeIfAbsent(r.getInt(0), q -> new TreeMap<>()).put(r.getInt(2), r.getInt(1));
        }
        Map<Integer, List<Integer>> neighbours = new HashMap<>();
        byRank.forEach((q, ranks) -> neighbours.put(q, new ArrayList<>(ranks.values())));
        return new Result(neighbours, candidatePairs);
    }

    /** Rows {@code ids} (all when null) of {@code vectors} as a frame of (id int, features vector). */
    public static Dataset<Row> frame(SparkSession spark, List<float[]> vectors, List<Integer> ids) {
        StructType schema = new StructType()
                .add("id", DataTypes.IntegerType, false)
                .add("features", SQLDataTypes.VectorType(), false);
        List<Row> rows = new ArrayList<>();
        int n = ids == null ? vectors.size() : ids.size();
        for (int i = 0; i < n; i++) {
            int id = ids == null ? i : ids.get(i);
            float[] v = vectors.get(id);
            double[] d = new double[v.length];
            for (int j = 0; j < v.length; j++) d[j] = v[j];
            rows.add(RowFactory.create(id, Vectors.dense(d)));
        }
        return spark.createDataFrame(rows, schema);
    }

    /** One vector per line, comma-separated; fails with the line number on a malformed line. */
    public static List<float[]> readVectors(Path file) throws IOException {
        List<float[]> rows = new ArrayList<>();
        int dims = -1;
        int lineNo = 0;
        for (String line : Files.readAllLines(file)) {
            lineNo++;
            if (line.isBlank()) continue;
            String[] parts = line.split(",");
            if (dims < 0) dims = parts.length;
            if (parts.length != dims) {
                throw new IOException(file + " line " + lineNo + " has " + parts.length + " values; the first line has " + dims);
            }
            float[] v = new float[dims];
            for (int j = 0; j < dims; j++) v[j] = Float.parseFloat(parts[j]);
            rows.add(v);
        }
        return rows;
    }

    static Map<String, String> parse(String[] args) {
        Map<String, String> a = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("expected --option value pairs, got '" + args[i] + "'");
            }
            a.put(args[i], args[++i]);
        }
        return a;
    }

    private static String required(Map<String, String> a, String key) {
        String v = a.get(key);
        if (v == null) throw new IllegalArgumentException(key + " is required");
        return v;
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }

    private static String json(Map<String, Object> values) {
        return values.entrySet().stream()
                .map(e -> "\"" + e.getKey() + "\": " + (e.getValue() instanceof String s ? "\"" + s + "\"" : e.getValue()))
                .collect(Collectors.joining(", ", "{", "}"));
    }
}
