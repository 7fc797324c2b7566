package dev.similarity.flink.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.similarity.embedding.EmbeddingModelDescriptor;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code scripts/embed-catalogue --products N}: embeds the demo catalogue's products 0 .. N-1 with the
 * committed model into the cache that {@code --embedded-events} reads ({@link CatalogueEmbeddings}),
 * and measures the two rates that bound a benchmark of N products: making the variant pictures (one
 * thread, PNG encoded) and embedding the catalogue (products/s, images made alongside).
 * {@code --fresh} computes them even when cached.
 */
public final class EmbedCatalogue {

    private EmbedCatalogue() {}

    public static void main(String[] args) throws Exception {
        int products = 100_000;
        Path work = Path.of("work");
        Path reportFile = null;
        boolean fresh = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--products" -> products = Integer.parseInt(args[++i]);
                case "--work" -> work = Path.of(args[++i]);
                case "--report" -> reportFile = Path.of(args[++i]);
                case "--fresh" -> fresh = true;
                default -> throw new IllegalArgumentException("unknown argument '" + args[i]
                        + "'\nusage: scripts/embed-catalogue [--products N] [--work DIR] [--fresh] [--report FILE]");
            }
        }
        DemoCatalogue catalogue = new DemoCatalogue();
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("products", products);

        // Variant pictures: products 70,000 .. 70,000 + N - 1, each made and PNG-encoded on one thread.
        // CPU time of this thread as well as wall time: on a shared machine the wall rate says how busy it was.
        java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
        int variants = products;
        long bytes = 0;
        long t0 = System.nanoTime();
        long cpu0 = threads.getCurrentThreadCpuTime();
        for (int n = DemoCatalogue.SOURCE_IMAGES; n < DemoCatalogue.SOURCE_IMAGES + variants; n++) {
            bytes += catalogue.png(n).length;
        }
        double variantS = (System.nanoTime() - t0) / 1e9;
        double variantCpuS = (threads.getCurrentThreadCpuTime() - cpu0) / 1e9;
        report.put("variant_images", variants);
        report.put("variant_images_wall_s", Math.round(variantS * 10) / 10.0);
        report.put("variant_images_per_s", Math.round(variants / variantS));
        report.put("variant_images_per_cpu_s", Math.round(variants / variantCpuS));
        report.put("variant_png_mean_bytes", Math.round((double) bytes / variants));
        report.put("load_average_before_embedding", java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        System.out.printf("made %,d variant pictures in %.1f s (%.1f s of CPU): %,.0f/s, %,.0f per CPU second, %,d bytes each on average%n",
                variants, variantS, variantCpuS, variants / variantS, variants / variantCpuS, bytes / variants);

        Path cache = work.resolve("embeddings");
        Path modelDir = EmbeddingModelDescriptor.findCommitted(Path.of("")).orElseThrow(
                () -> new IllegalStateException("no models/*/model.json found from " + Path.of("").toAbsolutePath()));
        if (fresh && Files.isDirectory(cache)) {
            String n = Integer.toString(products);
            try (var files = Files.list(cache)) {
                for (Path f : files.filter(p -> p.getFileName().toString().endsWith("-" + n + ".npy")).toList()) {
                    Files.delete(f);
                }
            }
        }
        try (CatalogueEmbeddings embeddings = CatalogueEmbeddings.load(catalogue, modelDir, products, cache, true)) {
            report.putAll(embeddings.report());
        }
        report.put("load_average_after", java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        report.put("cores", Runtime.getRuntime().availableProcessors());
        String json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(report);
        System.out.println(json);
        if (reportFile != null) {
            if (reportFile.getParent() != null) Files.createDirectories(reportFile.getParent());
            Files.writeString(reportFile, json);
        }
    }
}
