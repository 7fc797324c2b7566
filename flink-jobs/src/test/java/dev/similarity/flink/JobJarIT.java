package dev.similarity.flink;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarFile;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The job jar {@code mvn package} builds for a Flink cluster (target/flink-jobs-*-job.jar): the job and
 * everything it needs that a Flink 2.2 distribution lacks, and nothing else: no Flink runtime or API
 * classes (the cluster has them; two copies break class identity), no logging backend, no embedding
 * runtime (DJL and TensorFlow go in the cluster's lib/: a TaskManager that loads TensorFlow's natives in a
 * second class loader, as a job restart does, aborts), no harness.
 */
class JobJarIT {

    private static Path jobJar() throws IOException {
        try (Stream<Path> files = Files.list(Path.of("target"))) {
            return files.filter(p -> p.getFileName().toString().matches("flink-jobs-.*-job\\.jar")).findFirst()
                    .orElseThrow(() -> new AssertionError("no job jar in target/: run mvn package"));
        }
    }

    @Test
    void carriesTheJobAndItsLibraries() throws IOException {
        Path jar = jobJar();
        System.out.printf("job jar %s: %,d bytes%n", jar, Files.size(jar));
        try (JarFile file = new JarFile(jar.toFile())) {
            List<String> names = file.stream().map(e -> e.getName()).toList();
            assertThat(file.getManifest().getMainAttributes().getValue("Main-Class")).isEqualTo(SimilarityIndexerJob.class.getName());
            for (String required : List.of("dev/similarity/flink/SimilarityIndexerJob.class", "dev/similarity/flink/fetch/ImageFetcher.class",
                    "dev/similarity/embedding/ImageEmbedder.class", "dev/similarity/index/ShardIndex.class", "dev/similarity/schemas/CatalogueEvent.class",
                    "org/apache/flink/connector/kafka/sink/KafkaSink.class", "org/apache/kafka/clients/producer/KafkaProducer.class",
                    "org/apache/avro/Schema.class", "org/apache/lucene/index/IndexWriter.class",
                    "org/apache/hc/client5/http/impl/classic/CloseableHttpClient.class")) {
                assertThat(names).as("job jar entries").contains(required);
            }
            assertThat(names).as("Lucene's codecs are registered").contains("META-INF/services/org.apache.lucene.codecs.Codec");
        }
    }

    @Test
    void carriesNoFlinkRuntimeNoLoggingBackendAndNoHarness() throws IOException {
        try (JarFile file = new JarFile(jobJar().toFile())) {
            List<String> classes = file.stream().map(e -> e.getName()).filter(n -> n.endsWith(".class")).toList();
            List<String> forbidden = List.of(
                    "org/apache/flink/runtime/", "org/apache/flink/streaming/api/", "org/apache/flink/api/", "org/apache/flink/core/",
                    "org/apache/flink/configuration/", "org/apache/flink/client/", "org/apache/flink/state/rocksdb/", "org/rocksdb/",
                    "org/slf4j/", "org/apache/logging/",
                    // the embedding runtime is the cluster's: natives load once per JVM
                    "ai/djl/", "org/tensorflow/", "org/bytedeco/", "com/google/protobuf/", "com/sun/jna/",
                    "dev/similarity/flink/demo/", "dev/similarity/search/", "dev/similarity/kafka/local/",
                    "dev/similarity/embedding/training/", "dev/similarity/embedding/evaluation/", "dev/similarity/index/tools/");
            for (String prefix : forbidden) {
                assertThat(classes).as("classes under %s", prefix).noneMatch(n -> n.startsWith(prefix));
            }
        }
    }
}
