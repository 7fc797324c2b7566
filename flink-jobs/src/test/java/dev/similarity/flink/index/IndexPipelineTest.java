package dev.similarity.flink.index;

import dev.similarity.flink.IndexerOptions;
import dev.similarity.index.snapshot.ShardSnapshot;
import dev.similarity.index.snapshot.ShardSnapshot.SnapshotHit;
import dev.similarity.index.snapshot.SnapshotManifest;
import dev.similarity.index.snapshot.SnapshotStore;
import org.apache.lucene.util.VectorUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Products sharing one picture through the job's index operators (real Lucene shards, two of them):
 * one graph node per distinct image, the products behind it; every published list is the exact top-k
 * of the distinct images (small shards are searched exactly), other images named once by their
 * longest-standing product, none of the list's own picture (EXCLUDE) - through removals of
 * representatives and of the last sharer, image changes to and away from the shared picture, and a
 * checkpoint and restore.
 */
class IndexPipelineTest {

    private static final int DIM = 8;
    private static final int K = 4;
    private static final String PLACEHOLDER = "placeholder";

    @TempDir Path work;
    private IndexPipeline pipeline;
    private final Random random = new Random(11);
    /** Product -> the content of its image. */
    private final Map<String, String> shows = new LinkedHashMap<>();
    /** Image content -> its vector. */
    private final Map<String, float[]> vectors = new HashMap<>();
    /** Image content -> the products showing it, in the order they joined. */
    private final Map<String, LinkedHashSet<String>> sharers = new HashMap<>();
    private final Map<String, Long> versions = new HashMap<>();

    private void open(String policy) throws Exception {
        pipeline = new IndexPipeline(work, DIM, Map.of(IndexerOptions.NEIGHBOURS_K.key(), String.valueOf(K),
                IndexerOptions.NEIGHBOURS_RESERVE.key(), "4", IndexerOptions.IDENTICAL_IMAGES.key(), policy,
                IndexerOptions.SNAPSHOT_INTERVAL.key(), "1 ms"));
    }

    @AfterEach
    void close() throws Exception {
        pipeline.close();
    }

    private float[] randomUnit() {
        float[] v = new float[DIM];
        for (int i = 0; i < DIM; i++) v[i] = (float) random.nextGaussian();
        return VectorUtil.l2normalize(v);
    }

    private void show(String product, String content) throws Exception {
        vectors.computeIfAbsent(content, c -> randomUnit());
        String before = shows.put(product, content);
        if (before != null) sharers.get(before).remove(product);
        sharers.computeIfAbsent(content, c -> new LinkedHashSet<>()).add(product);
        long version = versions.merge(product, 1L, Long::sum);
        pipeline.upsert(product, version, content, vectors.get(content), "c" + (product.hashCode() & 3));
    }

    private void remove(String product) throws Exception {
        sharers.get(shows.remove(product)).remove(product);
        pipeline.remove(product, versions.merge(product, 1L, Long::sum));
    }

    /** Products p0..p(n-1) with pictures of their own and s0..s(m-1) with the placeholder, interleaved. */
    private void load(int own, int sharing) throws Exception {
        for (int i = 0; i < Math.max(own, sharing); i++) {
            if (i < own) show("p" + i, "own-" + i);
            if (i < sharing) show("s" + i, PLACEHOLDER);
        }
    }

    private static String representative(LinkedHashSet<String> products) {
        return products.iterator().next();
    }

    /** Every live product's latest list is the exact top-k of the other distinct images, by their representatives. */
    private void assertEveryListIsExact() {
        for (Map.Entry<String, String> product : shows.entrySet()) {
            float[] own = vectors.get(product.getValue());
            List<String> expected = sharers.entrySet().stream()
                    .filter(image -> !image.getValue().isEmpty() && !image.getKey().equals(product.getValue()))
                    .sorted(Comparator.comparingDouble(image -> -VectorUtil.dotProduct(own, vectors.get(image.getKey()))))
                    .limit(K)
                    .map(image -> representative(image.getValue()))
                    .toList();
            NeighbourListUpdate latest = pipeline.latest(product.getKey());
            assertThat(latest).as("list of %s", product.getKey()).isNotNull();
            assertThat(latest.removed()).as("%s is live", product.getKey()).isFalse();
            assertThat(latest.catalogueVersion()).isEqualTo(versions.get(product.getKey()));
            assertThat(latest.neighbourIds()).as("list of %s (shows %s)", product.getKey(), product.getValue())
                    .containsExactlyElementsOf(expected);
        }
    }

    /** Lucene documents over the shards' latest snapshots: a node per live image, a member and a product document per product. */
    private int publishedDocuments() throws Exception {
        return publishedDocuments(pipeline.publishSnapshots());
    }

    private static int publishedDocuments(SnapshotStore store) {
        int documents = 0;
        for (int shard = 0; shard < 2; shard++) {
            documents += store.latest(shard).map(SnapshotManifest::documentCount).orElse(0);
        }
        return documents;
    }

    private long liveImages() {
        return sharers.values().stream().filter(products -> !products.isEmpty()).count();
    }

    @Test
    void productsSharingAPictureAreOneNodeAndEveryListIsTheExactTopKOfTheDistinctImages() throws Exception {
        open("EXCLUDE");
        load(30, 12);
        assertEveryListIsExact();
        SnapshotStore store = pipeline.publishSnapshots();
        assertThat(publishedDocuments(store)).as("31 nodes, 42 members, 42 products").isEqualTo(31 + 42 + 42);

        int owner = dev.similarity.index.ShardAssignment.shardOf(IndexPipeline.imageKey(PLACEHOLDER), 2);
        try (ShardSnapshot snapshot = ShardSnapshot.load(store, store.latest(owner).orElseThrow())) {
            assertThat(snapshot.product("s7")).hasValueSatisfying(p -> assertThat(p.vector()).containsExactly(vectors.get(PLACEHOLDER)));
            assertThat(snapshot.search(vectors.get(PLACEHOLDER), 3, null, null, 10)).extracting(SnapshotHit::productId)
                    .as("the placeholder is one hit, named by its first product").startsWith("s0")
                    .noneMatch(id -> id.startsWith("s") && !id.equals("s0"));
        }
    }

    @Test
    void whenTheRepresentativeLeavesTheListsNamingThePictureNameTheNextProduct() throws Exception {
        open("EXCLUDE");
        load(20, 6);
        // A product right next to the placeholder, so that its list names it.
        vectors.put("near", nudge(vectors.get(PLACEHOLDER)));
        show("n", "near");
        assertThat(pipeline.latest("n").neighbourIds()).startsWith("s0");
        remove("s0");
        assertThat(pipeline.latest("s0").removed()).isTrue();
        assertThat(pipeline.latest("n").neighbourIds()).startsWith("s1");
        assertEveryListIsExact();
    }

    @Test
    void whenTheLastProductLeavesAPictureItsNodeGoesAndNoListNamesIt() throws Exception {
        open("EXCLUDE");
        load(20, 5);
        vectors.put("near", nudge(vectors.get(PLACEHOLDER)));
        show("n", "near");
        for (int i = 0; i < 4; i++) remove("s" + i);
        show("s4", "own-s4"); // the last one changes away from the placeholder
        assertEveryListIsExact();
        for (String product : shows.keySet()) {
            assertThat(pipeline.latest(product).neighbourIds()).doesNotContain("s0", "s1", "s2", "s3");
        }
        assertThat(publishedDocuments()).as("a node per live image, a member and a product document per product").isEqualTo(liveImages() + 2 * shows.size());
    }

    @Test
    void aProductChangingAwayFromTheSharedPictureGetsANodeAndAListOfItsOwnAndOneChangingToItJoinsIt() throws Exception {
        open("EXCLUDE");
        load(25, 8);
        show("s3", "own-s3");
        show("p7", PLACEHOLDER);
        assertEveryListIsExact();
        for (String product : shows.keySet()) {
            assertThat(pipeline.latest(product).neighbourIds()).as("p7 only ever stands behind s0").doesNotContain("p7");
        }
        assertThat(publishedDocuments()).isEqualTo(liveImages() + 2 * shows.size());
    }

    @Test
    void listsStayExactAfterACheckpointAndRestoreOfEveryOperator() throws Exception {
        open("EXCLUDE");
        load(20, 6);
        pipeline.checkpointAndRestore();
        remove("s0");
        show("s9", PLACEHOLDER);
        show("p3", PLACEHOLDER);
        show("s2", "own-s2");
        vectors.put("near", nudge(vectors.get(PLACEHOLDER)));
        show("n", "near");
        show("p30", "own-30");
        assertEveryListIsExact();
        assertThat(publishedDocuments()).isEqualTo(liveImages() + 2 * shows.size());
    }

    @Test
    void collapseListsTheLongestStandingTwinFirst() throws Exception {
        open("COLLAPSE");
        load(10, 3);
        assertThat(pipeline.latest("s0").neighbourIds()).startsWith("s1");
        assertThat(pipeline.latest("s2").neighbourIds()).startsWith("s0");
        assertThat(pipeline.latest("s2").neighbourIds()).hasSize(K).filteredOn(id -> id.startsWith("s")).hasSize(1);
        assertThat(pipeline.latest("p1").neighbourIds()).doesNotContain("s1", "s2");
    }

    private float[] nudge(float[] v) {
        float[] near = v.clone();
        for (int i = 0; i < near.length; i++) near[i] += (float) (0.05 * random.nextGaussian());
        return VectorUtil.l2normalize(near);
    }
}
