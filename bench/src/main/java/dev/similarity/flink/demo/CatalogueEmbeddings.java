package dev.similarity.flink.demo;

import dev.similarity.embedding.EmbeddingResult;
import dev.similarity.embedding.ImageEmbedder;
import dev.similarity.embedding.ImageEmbedderConfig;
import dev.similarity.index.tools.NpyFiles;
import dev.similarity.schemas.EmbeddingVectors;
import dev.similarity.schemas.ImageEmbedding;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The job model's embeddings of demo catalogue products 0 .. count-1 (and of the placeholder picture),
 * for catalogue events that carry their own embedding ({@code --embedded-events}): a benchmark then
 * drives millions of products through the job without it fetching or decoding an image.
 *
 * <p>Computed the way the job embeds: the products' PNGs through the embedding module's {@link
 * ImageEmbedder} on the job's model folder, in batches of {@value #BATCH}, while a second thread makes
 * the next batches' PNGs (variants beyond 70,000). Kept in a NumPy {@code .npy} file (float32, one row
 * per product, numpy/FAISS/hnswlib read it as it is) named after the model's qualified id and the
 * product count, so a later run with the same model and count reads it instead; rows are read back
 * one at a time, so a million products cost no heap. The file is written under a hidden name and moved
 * into place when complete.
 */
public final class CatalogueEmbeddings implements AutoCloseable {

    static final int BATCH = 512;
    /** Changes when the catalogue's variants change, so a cache of older pictures is not reused. */
    private static final String CATALOGUE_VERSION = "catalogue1";

    private final String modelId;
    private final NpyFiles.FloatRows rows;
    private final float[] placeholder;
    private final Path file;
    private final Map<String, Object> report;

    private CatalogueEmbeddings(String modelId, NpyFiles.FloatRows rows, float[] placeholder, Path file, Map<String, Object> report) {
        this.modelId = modelId;
        this.rows = rows;
        this.placeholder = placeholder;
        this.file = file;
        this.report = report;
    }

    /**
     * Reads the cached embeddings of products 0 .. count-1 from {@code cacheDir}, or computes and caches them.
     *
     * @param modelDir the job's model folder ({@code IndexerConfig.modelDir()})
     * @param progress print counts and rates every 5 s while computing
     */
    public static CatalogueEmbeddings load(DemoCatalogue catalogue, Path modelDir, int count, Path cacheDir, boolean progress)
            throws IOException, InterruptedException {
        if (count < 1) throw new IllegalArgumentException("count must be at least 1, was " + count);
        Files.createDirectories(cacheDir);
        try (ImageEmbedder embedder = ImageEmbedder.load(ImageEmbedderConfig.builder().modelDir(modelDir).maxBatchSize(BATCH).build())) {
            String modelId = embedder.modelId();
            Path file = cacheDir.resolve("embeddings-" + modelId.replaceAll("[^A-Za-z0-9@._-]", "_") + "-" + CATALOGUE_VERSION
                    + "-" + count + ".npy");
            Map<String, Object> report = new LinkedHashMap<>();
            report.put("embeddings_file", file.toString());
            report.put("embeddings_products", count);
            if (Files.isRegularFile(file)) {
                report.put("embeddings_cached", true);
            } else {
                report.put("embeddings_cached", false);
                report.putAll(compute(catalogue, embedder, count, file, progress));
            }
            NpyFiles.FloatRows rows = NpyFiles.floatRows(file);
            if (rows.rows() != count || rows.cols() != embedder.dimension()) {
                rows.close();
                throw new IOException(file + " holds " + rows.rows() + " x " + rows.cols() + " values, expected " + count + " x "
                        + embedder.dimension() + " for model " + modelId + "; delete it to compute it again");
            }
            float[] placeholder = embedder.embedBatch(List.of(catalogue.png(DemoCatalogue.PLACEHOLDER))).getFirst().vector();
            return new CatalogueEmbeddings(modelId, rows, placeholder, file, report);
        }
    }

    private static Map<String, Object> compute(DemoCatalogue catalogue, ImageEmbedder embedder, int count, Path file,
                                               boolean progress) throws IOException, InterruptedException {
        Path hidden = file.resolveSibling("." + file.getFileName() + ".part");
        BlockingQueue<List<byte[]>> batches = new ArrayBlockingQueue<>(4);
        AtomicLong generationNanos = new AtomicLong();
        AtomicReference<Throwable> generationFailure = new AtomicReference<>();
        // PNGs of the next batches are made while the model embeds this one.
        java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
        Thread images = Thread.ofPlatform().daemon().name("catalogue-embeddings-images").start(() -> {
            try {
                for (int start = 0; start < count; start += BATCH) {
                    long t0 = threads.getCurrentThreadCpuTime();
                    List<byte[]> batch = new ArrayList<>(BATCH);
                    for (int n = start; n < Math.min(count, start + BATCH); n++) batch.add(catalogue.png(n));
                    generationNanos.addAndGet(threads.getCurrentThreadCpuTime() - t0);
                    batches.put(batch);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Throwable e) {
                generationFailure.set(e);
                batches.offer(List.of());
            }
        });
        long startedAt = System.nanoTime();
        long cpuAtStart = processCpuNanos();
        long embedNanos = 0;
        long lastReport = startedAt;
        try (NpyFiles.FloatRowWriter out = NpyFiles.floatRowWriter(hidden, count, embedder.dimension())) {
            for (int done = 0; done < count; ) {
                List<byte[]> batch = batches.take();
                if (generationFailure.get() != null) {
                    throw new IllegalStateException("making the catalogue's images failed at product " + done, generationFailure.get());
                }
                long t0 = System.nanoTime();
                List<EmbeddingResult> results = embedder.embedBatch(batch);
                embedNanos += System.nanoTime() - t0;
                for (EmbeddingResult result : results) {
                    if (!result.isSuccess()) {
                        throw new IllegalStateException("product " + done + " of the demo catalogue did not embed: " + result.error().getMessage());
                    }
                    out.write(result.vector());
                    done++;
                }
                if (progress && System.nanoTime() - lastReport > 5_000_000_000L) {
                    lastReport = System.nanoTime();
                    System.out.printf("embedded %,d/%,d catalogue products, %,.0f products/s%n", done, count,
                            done / ((lastReport - startedAt) / 1e9));
                }
            }
        } finally {
            images.interrupt();
        }
        Files.move(hidden, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        double wallS = (System.nanoTime() - startedAt) / 1e9;
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("embeddings_wall_s", round(wallS));
        report.put("embeddings_products_per_s", round(count / wallS));
        double cpuS = (processCpuNanos() - cpuAtStart) / 1e9;
        // CPU seconds say what the work costs whatever else shares the machine; wall seconds depend on that.
        report.put("embeddings_cpu_s", round(cpuS));
        report.put("embeddings_products_per_cpu_s", round(count / cpuS));
        report.put("embeddings_model_wall_s", round(embedNanos / 1e9));
        report.put("embeddings_image_generation_cpu_s", round(generationNanos.get() / 1e9));
        if (progress) System.out.println("embedded the catalogue's " + count + " products into " + file + ": " + report);
        return report;
    }

    /** The qualified id of the model the vectors come from (modelId@version), as the events carry it. */
    public String modelId() {
        return modelId;
    }

    public int count() {
        return rows.rows();
    }

    public Path file() {
        return file;
    }

    /** How the vectors were had: the file, whether it was cached, and when computed the rates. */
    public Map<String, Object> report() {
        return report;
    }

    /** The embedding of image {@code n} (a product number below {@link #count()}, or {@link DemoCatalogue#PLACEHOLDER}). */
    public float[] vector(int n) {
        if (n == DemoCatalogue.PLACEHOLDER) return placeholder.clone();
        try {
            return rows.row(n);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** What a catalogue event of a product showing image {@code n} carries. */
    public ImageEmbedding event(int n) {
        if (n != DemoCatalogue.PLACEHOLDER && n >= count()) {
            throw new IllegalArgumentException("image " + n + " is beyond the " + count() + " embedded products; embed more with --products");
        }
        return EmbeddingVectors.of(modelId, vector(n));
    }

    /** CPU time of this JVM, all threads, ns (-1 where the platform does not say). */
    static long processCpuNanos() {
        return java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                instanceof com.sun.management.OperatingSystemMXBean os ? os.getProcessCpuTime() : -1;
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }

    @Override
    public void close() throws IOException {
        rows.close();
    }
}
