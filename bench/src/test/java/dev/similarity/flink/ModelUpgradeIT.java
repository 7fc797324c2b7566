package dev.similarity.flink;

import dev.similarity.embedding.EmbeddingModelDescriptor;
import dev.similarity.embedding.EmbeddingResult;
import dev.similarity.embedding.ImageEmbedder;
import dev.similarity.embedding.ImageEmbedderConfig;
import dev.similarity.flink.demo.CatalogueFeeder;
import dev.similarity.flink.demo.DemoCatalogue;
import dev.similarity.flink.demo.DemoImageServer;
import dev.similarity.flink.demo.DemoRun;
import dev.similarity.flink.demo.ListContract;
import dev.similarity.flink.demo.NeighbourListCollector;
import dev.similarity.flink.demo.NeighbourListCollector.Seen;
import dev.similarity.flink.index.ImageKeys;
import dev.similarity.index.snapshot.SnapshotStore;
import dev.similarity.kafka.local.LocalKafkaBroker;
import org.apache.flink.core.execution.SavepointFormatType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The model upgrade without downtime, end to end on a Kafka broker and Flink mini-clusters: 240
 * products indexed with model A (the committed Fashion-MNIST CNN), stop with a savepoint; while the
 * job is down 40 additions, 30 image changes and 20 removals arrive; the job resumes with model B (the
 * same network behind another preprocessing, so other vectors, under another id) and
 * {@code embedding.previous-model-dir} naming A. Read with read_committed: every product's records are
 * lists of A, then lists of B, never mixed; A's last lists before the switch are right for A's vectors of
 * the catalogue after the churn (the live events reached A while B re-embedded); the latest records are
 * lists of B, right for B's vectors, for every live product, and tombstones for the removed ones; no
 * update and no tombstone is committed twice; B's snapshots were staged beside A's, whose store
 * layout is unchanged. Resuming model A's state with only model B configured is refused with a
 * message naming the option; after the switch, a savepoint resumes with only model B, and B's state
 * (not A's) is what it restores.
 */
class ModelUpgradeIT {

    private static final int LOADED = 240;
    private static final int ADDED = 40;
    private static final int CHANGED = 30;
    private static final int REMOVED = 20;
    /** The image number a changed product shows after its change. */
    private static final int CHANGED_IMAGE_BASE = 1_000;

    @Test
    void listsStayOfThePreviousModelUntilTheNewIndexIsCompleteThenSwitchOnceToTheNewModel(@TempDir Path work) throws Exception {
        Path modelA = EmbeddingModelDescriptor.findCommitted(Path.of("")).orElseThrow();
        Path modelB = recentredCopy(modelA, work.resolve("model-b"));
        String idA = EmbeddingModelDescriptor.read(modelA).qualifiedId();
        String idB = EmbeddingModelDescriptor.read(modelB).qualifiedId();
        DemoCatalogue catalogue = new DemoCatalogue();
        Map<String, String> common = Map.of(IndexerOptions.SNAPSHOT_INTERVAL.key(), "1 s",
                IndexerOptions.CHECKPOINT_INTERVAL.key(), "1 s");
        long startedAt = System.currentTimeMillis();
        try (LocalKafkaBroker broker = LocalKafkaBroker.builder().dataDir(work.resolve("kafka")).port(0).build().start();
             DemoImageServer images = new DemoImageServer(catalogue, 0)) {
            // 1. Model A indexes the catalogue; stop with a savepoint.
            String savepointA;
            Map<String, String> withA = new HashMap<>(common);
            withA.put(IndexerOptions.MODEL_DIR.key(), modelA.toString());
            try (DemoRun run = new DemoRun(catalogue, images, broker.bootstrapServers(), work, "upgrade", -1, withA)) {
                var summary = run.feedAndMeasure(0, LOADED, 0, 180_000, false);
                assertThat(summary.get("products_with_list")).as("model A indexed the catalogue").isEqualTo(LOADED);
                savepointA = run.job().stopWithSavepoint(false, work.resolve("savepoints").toUri().toString(),
                        SavepointFormatType.CANONICAL).get(120, TimeUnit.SECONDS);
            }

            System.out.printf("model A indexed %d products, savepoint after %.1f s%n", LOADED, seconds(startedAt));
            // 2. The churn arrives while the job is down.
            Map<String, Integer> live = new TreeMap<>(); // product id -> image number
            Map<String, Long> versions = new HashMap<>();
            List<String> removed = new ArrayList<>();
            for (int n = 0; n < LOADED; n++) {
                live.put(catalogue.productId(n), n);
                versions.put(catalogue.productId(n), 1L);
            }
            String eventsTopic = "upgrade-catalogue-events";
            try (CatalogueFeeder feeder = new CatalogueFeeder(broker.bootstrapServers(), eventsTopic,
                    IndexerConfig.from(Map.of()).get(IndexerOptions.CATALOGUE_WIRE_FORMAT))) {
                for (int n = LOADED; n < LOADED + ADDED; n++) {
                    String id = catalogue.productId(n);
                    feeder.upsert(id, images.imageUrl(n, id), catalogue.category(n), 1, false);
                    live.put(id, n);
                    versions.put(id, 1L);
                }
                for (int i = 0; i < CHANGED; i++) {
                    String id = catalogue.productId(i);
                    int image = CHANGED_IMAGE_BASE + i;
                    feeder.upsert(id, images.imageUrl(image, id), catalogue.category(i), 2, true);
                    live.put(id, image);
                    versions.put(id, 2L);
                }
                for (int n = CHANGED; n < CHANGED + REMOVED; n++) {
                    String id = catalogue.productId(n);
                    feeder.remove(id, 2);
                    live.remove(id);
                    removed.add(id);
                }
                feeder.flush();
            }

            // 3. Model B alone on model A's state is refused, naming the option that upgrades.
            Map<String, String> onlyB = new HashMap<>(common);
            onlyB.put(IndexerOptions.MODEL_DIR.key(), modelB.toString());
            onlyB.put("execution.state-recovery.path", savepointA);
            onlyB.put("restart-strategy.type", "none");
            try (DemoRun refused = new DemoRun(catalogue, images, broker.bootstrapServers(), work, "upgrade", -1, onlyB)) {
                Throwable failure = jobFailure(refused);
                assertThat(failure).as("model B on model A's state").isNotNull();
                assertThat(causes(failure)).contains("holds embeddings of model '" + idA + "'")
                        .contains(IndexerOptions.PREVIOUS_MODEL_DIR.key());
            }

            System.out.printf("model B alone on model A's state refused after %.1f s%n", seconds(startedAt));
            // 4. The upgrade: A keeps serving while B re-embeds, then the switch.
            Map<String, String> upgrade = new HashMap<>(common);
            upgrade.put(IndexerOptions.MODEL_DIR.key(), modelB.toString());
            upgrade.put(IndexerOptions.PREVIOUS_MODEL_DIR.key(), modelA.toString());
            upgrade.put(IndexerOptions.UPGRADE_REEMBED_RATE.key(), "30");
            upgrade.put("execution.state-recovery.path", savepointA);
            Map<Integer, float[]> vectorsA = embed(modelA, catalogue, live.values());
            Map<Integer, float[]> vectorsB = embed(modelB, catalogue, live.values());
            String savepointB;
            long upgradeStartedAt = System.currentTimeMillis();
            try (DemoRun run = new DemoRun(catalogue, images, broker.bootstrapServers(), work, "upgrade", -1, upgrade)) {
                long deadline = System.currentTimeMillis() + 150_000;
                while (!switched(run.lists(), live.keySet(), removed, idB) && System.currentTimeMillis() < deadline) {
                    assertThat(run.job().getJobStatus().get(5, TimeUnit.SECONDS).isGloballyTerminalState()).as("job ended").isFalse();
                    Thread.sleep(500);
                }
                System.out.printf("every live product has a list of model B %.1f s after the upgrade began (%.1f s in all)%n",
                        seconds(upgradeStartedAt), seconds(startedAt));
                Thread.sleep(3_000); // anything a late duplicate would need to show up
                NeighbourListCollector lists = run.lists();
                assertThat(switched(lists, live.keySet(), removed, idB)).as("every live product has a list of " + idB
                        + " and every removed one a tombstone").isTrue();

                Map<String, Seen> lastOfA = new HashMap<>();
                List<String> mixed = new ArrayList<>();
                int tombstonesTwice = 0;
                for (String id : lists.keysSeen()) {
                    boolean sawB = false;
                    int tombstones = 0;
                    for (Seen seen : lists.history(id)) {
                        if (seen.list() == null) {
                            tombstones++;
                            if (!sawB) lastOfA.put(id, seen);
                            continue;
                        }
                        String model = seen.list().getModelId().toString();
                        if (model.equals(idB)) {
                            sawB = true;
                        } else if (model.equals(idA) && !sawB) {
                            lastOfA.put(id, seen);
                        } else {
                            mixed.add(id + ": " + model + " after " + idB);
                        }
                    }
                    if (tombstones > 1) tombstonesTwice++;
                }
                assertThat(mixed).as("lists of " + idA + " committed after a list of " + idB).isEmpty();
                // The switch publishes every live product's first list of B with one checkpoint's transactions.
                long[] firstListsOfB = live.keySet().stream().mapToLong(id -> lists.history(id).stream()
                        .filter(seen -> seen.list() != null && seen.list().getModelId().toString().equals(idB))
                        .mapToLong(Seen::visibleAt).min().orElseThrow()).sorted().toArray();
                System.out.printf("the first lists of B of the %d live products became visible within %d ms (median %d ms"
                        + " after the first)%n", firstListsOfB.length,
                        firstListsOfB[firstListsOfB.length - 1] - firstListsOfB[0], firstListsOfB[firstListsOfB.length / 2] - firstListsOfB[0]);
                // One commit, not one per checkpoint (1 s apart) as lists that missed the switch would come.
                assertThat(firstListsOfB[firstListsOfB.length - 1] - firstListsOfB[0]).as("ms between the first and the last"
                        + " product's first list of B").isLessThan(1_000);
                assertThat(lists.repeatedUpdates()).as("list updates committed twice").isEmpty();
                assertThat(tombstonesTwice).as("products with two tombstones").isZero();

                Map<String, Object> contractA = contract(run, live, versions, removed, vectorsA, lastOfA, catalogue);
                System.out.println("model A's last lists before the switch: " + contractA);
                assertThat(contractA).containsEntry("missing_lists", 0L).containsEntry("missing_tombstones", 0L)
                        .containsEntry("lists_naming_removed", 0L).containsEntry("lists_behind_current_version", 0L)
                        .containsEntry("lists_of_wrong_size", 0L);
                assertThat((Double) contractA.get("mean_overlap")).as(contractA.toString()).isGreaterThanOrEqualTo(0.95);

                Map<String, Object> contractB = contract(run, live, versions, removed, vectorsB, lists.latest(), catalogue);
                System.out.println("model B's lists after the switch: " + contractB);
                assertThat(contractB).containsEntry("missing_lists", 0L).containsEntry("missing_tombstones", 0L)
                        .containsEntry("lists_naming_removed", 0L).containsEntry("lists_behind_current_version", 0L)
                        .containsEntry("lists_of_wrong_size", 0L);
                assertThat((Double) contractB.get("mean_overlap")).as(contractB.toString()).isGreaterThanOrEqualTo(0.95);
                // The two models' lists differ: the check above would not pass with A's vectors by accident.
                Map<String, Object> bAgainstA = contract(run, live, versions, removed, vectorsA, lists.latest(), catalogue);
                System.out.println("model B's lists against model A's vectors: " + bAgainstA);
                assertThat((Double) bAgainstA.get("mean_overlap")).isLessThan((Double) contractB.get("mean_overlap"));

                // B's snapshots were staged beside A's; from the switch on B's are published where readers look.
                SnapshotStore staged = SnapshotStore.at(SimilarityIndexerJob.stagingSnapshotDir(run.config(), idB));
                SnapshotStore store = SnapshotStore.at(run.config().snapshotDir());
                int shards = run.config().get(IndexerOptions.SHARDS);
                long snapshotDeadline = System.currentTimeMillis() + 60_000;
                List<String> shardModels;
                do {
                    shardModels = new ArrayList<>();
                    for (int shard = 0; shard < shards; shard++) {
                        shardModels.add(store.latest(shard).map(m -> m.modelId()).orElse("none"));
                    }
                    if (shardModels.stream().allMatch(idB::equals)) break;
                    Thread.sleep(500);
                } while (System.currentTimeMillis() < snapshotDeadline);
                assertThat(shardModels).as("model of each shard's newest snapshot in the store").containsOnly(idB);
                for (int number = 0; number < shards; number++) {
                    int shard = number;
                    // A staged snapshot exists only if the shard had no batch pending at some checkpoint before the
                    // switch: B's re-embedded events are older than index.batch.backlog-lag, so they are batched, and
                    // the switch may come while the shard's only batch still runs. Whatever was staged is B's.
                    staged.latest(shard).ifPresent(m -> assertThat(m.modelId()).as("staged snapshot of shard " + shard).isEqualTo(idB));
                    long firstOfB = store.checkpoints(shard).stream().filter(id -> store.manifest(shard, id).modelId().equals(idB))
                            .findFirst().orElseThrow();
                    assertThat(store.checkpoints(shard).stream().filter(id -> id > firstOfB)
                            .map(id -> store.manifest(shard, id).modelId())).as("after B's first snapshot of shard " + shard)
                            .allMatch(idB::equals);
                }
                savepointB = run.job().stopWithSavepoint(false, work.resolve("savepoints").toUri().toString(),
                        SavepointFormatType.CANONICAL).get(120, TimeUnit.SECONDS);
            }

            // 5. After the switch, model B alone resumes B's state: a new product is listed among B's products.
            Map<String, String> afterSwitch = new HashMap<>(common);
            afterSwitch.put(IndexerOptions.MODEL_DIR.key(), modelB.toString());
            afterSwitch.put("execution.state-recovery.path", savepointB);
            try (DemoRun run = new DemoRun(catalogue, images, broker.bootstrapServers(), work, "upgrade", -1, afterSwitch)) {
                int n = LOADED + ADDED;
                String id = catalogue.productId(n);
                var summary = run.feedAndMeasure(n, 1, 0, 120_000, false);
                assertThat(summary.get("products_with_list")).as("the new product's list").isEqualTo(1);
                live.put(id, n);
                vectorsB.putAll(embed(modelB, catalogue, List.of(n)));
                Seen seen = run.lists().latest(id);
                assertThat(seen.list().getModelId().toString()).isEqualTo(idB);
                // Every product shows an image of its own here: the exact neighbours are products.
                List<String> ids = new ArrayList<>(live.keySet());
                float[][] vectors = ids.stream().map(p -> vectorsB.get(live.get(p))).toArray(float[][]::new);
                int k = run.config().get(IndexerOptions.NEIGHBOURS_K);
                java.util.Set<String> exact = new java.util.HashSet<>();
                for (int i : ListContract.exactTopK(vectors, ids.indexOf(id), k)) exact.add(ids.get(i));
                long hits = seen.list().getNeighbours().stream().filter(nb -> exact.contains(nb.getProductId().toString())).count();
                System.out.println("a product added after the restart with model B only: " + hits + " of its " + k
                        + " exact neighbours among model B's products");
                assertThat(hits).as("restored model B's index, not model A's").isGreaterThanOrEqualTo(k - 1);
            }
            System.out.printf("done after %.1f s%n", seconds(startedAt));
        }
    }

    private static double seconds(long since) {
        return (System.currentTimeMillis() - since) / 1000.0;
    }

    /** True when every live product's newest record is a list of {@code model} and every removed one's a tombstone. */
    private static boolean switched(NeighbourListCollector lists, java.util.Set<String> live, List<String> removed, String model) {
        for (String id : live) {
            Seen seen = lists.latest(id);
            if (seen == null || seen.list() == null || !seen.list().getModelId().toString().equals(model)) return false;
        }
        for (String id : removed) {
            Seen seen = lists.latest(id);
            if (seen == null || seen.list() != null) return false;
        }
        return true;
    }

    /**
     * ListContract over {@code lists} for the products in {@code checked}, against every product of
     * {@code live} with {@code vectors} (by image number).
     */
    private static Map<String, Object> contract(DemoRun run, Map<String, Integer> checked, Map<String, Long> versions,
                                                List<String> removed, Map<Integer, float[]> vectors, Map<String, Seen> lists,
                                                DemoCatalogue catalogue) {
        Map<String, ListContract.Product> products = new HashMap<>();
        Map<String, float[]> byKey = new HashMap<>();
        checked.forEach((id, image) -> {
            String key = ImageKeys.ofBytes(catalogue.png(image));
            products.put(id, new ListContract.Product(key, versions.get(id)));
            byKey.putIfAbsent(key, vectors.get(image));
        });
        return ListContract.check(products, byKey, removed, lists, run.config().get(IndexerOptions.NEIGHBOURS_K),
                run.config().get(IndexerOptions.IDENTICAL_IMAGES), 0, 42);
    }

    private static Map<Integer, float[]> embed(Path model, DemoCatalogue catalogue, java.util.Collection<Integer> numbers) throws Exception {
        List<Integer> ordered = new ArrayList<>(new TreeSet<>(numbers));
        List<byte[]> pngs = ordered.stream().map(catalogue::png).toList();
        Map<Integer, float[]> vectors = new HashMap<>();
        try (ImageEmbedder embedder = ImageEmbedder.load(ImageEmbedderConfig.builder().modelDir(model).build())) {
            List<EmbeddingResult> results = embedder.embedBatch(pngs);
            for (int i = 0; i < ordered.size(); i++) vectors.put(ordered.get(i), results.get(i).vector());
        }
        return vectors;
    }

    /** Model B: model A's network behind another input normalisation, so other vectors, under another id and version. */
    private static Path recentredCopy(Path modelA, Path target) throws Exception {
        try (Stream<Path> files = Files.walk(modelA)) {
            for (Path file : files.toList()) {
                Path to = target.resolve(modelA.relativize(file).toString());
                if (Files.isDirectory(file)) Files.createDirectories(to);
                else Files.copy(file, to);
            }
        }
        Path descriptor = target.resolve("model.json");
        String json = Files.readString(descriptor, StandardCharsets.UTF_8)
                .replaceFirst("\"modelId\"\\s*:\\s*\"[^\"]*\"", "\"modelId\" : \"fashion-mnist-similarity-recentred\"")
                .replaceFirst("\"version\"\\s*:\\s*\"[^\"]*\"", "\"version\" : \"2\"")
                .replaceFirst("\"mean\"\\s*:\\s*\\[[^]]*]", "\"mean\" : [ 0.6 ]")
                .replaceFirst("\"std\"\\s*:\\s*\\[[^]]*]", "\"std\" : [ 0.5 ]");
        Files.writeString(descriptor, json, StandardCharsets.UTF_8);
        return target;
    }

    /** Waits for the job to fail; its failure, or null if it did not fail within a minute. */
    private static Throwable jobFailure(DemoRun run) throws Exception {
        try {
            run.job().getJobExecutionResult().get(60, TimeUnit.SECONDS);
            return null;
        } catch (java.util.concurrent.ExecutionException e) {
            return e.getCause();
        } catch (java.util.concurrent.TimeoutException e) {
            return null;
        }
    }

    private static String causes(Throwable failure) {
        StringBuilder all = new StringBuilder();
        for (Throwable t = failure; t != null; t = t.getCause()) {
            all.append(t).append('\n');
        }
        return all.toString();
    }
}
