package dev.similarity.flink.demo;

import dev.similarity.flink.index.IdenticalImages;
import dev.similarity.schemas.Neighbour;
import dev.similarity.schemas.NeighbourList;
import org.apache.lucene.util.VectorUtil;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * The neighbour-list contract, computed from what the catalogue holds and what a read_committed
 * consumer saw: no I/O, so a test can hand it wrong lists and see them reported.
 *
 * <p>Every live product's latest list is checked for its shape (it exists, is not behind the
 * product's version, names no removed product and not the product itself, names each image once,
 * shows products with the list's own image only as the {@link IdenticalImages} policy says, has k
 * entries when there are enough images), and every removed product's latest record must be a
 * tombstone. The overlap with the exact top-k (dot product over the live catalogue's distinct images;
 * a product sharing an image with others stands for that image) is computed for a deterministic
 * sample of the live products, since the brute force costs {@code sample x distinct images x
 * dimensions} multiply-adds; a sample of 0, or one at least as large as the catalogue, means all.
 */
public final class ListContract {

    /** A live product as the catalogue knows it: the key of its current image's bytes and its version. */
    public record Product(String imageKey, long version) {}

    private ListContract() {}

    /**
     * @param live         live product id -> its image and version (iteration order is irrelevant)
     * @param vectors      image key -> embedding, for every image a live product shows
     * @param removed      products whose latest event removed them
     * @param latest       product id -> newest record the consumer saw (list null for a tombstone)
     * @param k            the job's list length
     * @param policy       the job's neighbours.identical-images
     * @param sampleSize   how many live products the overlap is computed for; 0 or >= live: all
     * @param seed         of the sample (the same live set and seed give the same sample)
     * @return the report's keys: {@code live_products}, {@code mean_overlap}, {@code overlap_sample},
     *     {@code lists_naming_removed} (lists naming at least one removed product), ... (all counts are
     *     {@code long}, overlaps {@code double} rounded to 4 places or null when nothing to average)
     */
    public static Map<String, Object> check(Map<String, Product> live, Map<String, float[]> vectors, Collection<String> removed,
                                            Map<String, NeighbourListCollector.Seen> latest, int k, IdenticalImages policy,
                                            int sampleSize, long seed) {
        return check(live, vectors, removed, latest, k, policy, sampleSize, seed, null);
    }

    /**
     * As above; {@code missing}, when not null, receives for each sampled product whose list lacks some
     * of its exact top-k images those images' keys (what {@link CatalogueChurn} classifies by cause).
     */
    public static Map<String, Object> check(Map<String, Product> live, Map<String, float[]> vectors, Collection<String> removed,
                                            Map<String, NeighbourListCollector.Seen> latest, int k, IdenticalImages policy,
                                            int sampleSize, long seed, Map<String, List<String>> missing) {
        // Distinct images, numbered in a fixed order so that ties in the exact top-k break the same way.
        List<String> ids = new ArrayList<>(live.keySet());
        Collections.sort(ids);
        Map<String, Integer> imageIndex = new HashMap<>();
        List<float[]> imageVectors = new ArrayList<>();
        Map<String, Integer> sharers = new HashMap<>();
        for (String id : ids) {
            String key = live.get(id).imageKey();
            if (imageIndex.putIfAbsent(key, imageVectors.size()) == null) {
                float[] vector = vectors.get(key);
                if (vector == null) throw new IllegalArgumentException("no vector for image " + key + " of live product " + id);
                imageVectors.add(vector);
            }
            sharers.merge(key, 1, Integer::sum);
        }
        float[][] all = imageVectors.toArray(new float[0][]);
        List<String> keyByIndex = new ArrayList<>(Collections.nCopies(all.length, null));
        imageIndex.forEach((key, index) -> keyByIndex.set(index, key));
        Set<String> sample = sample(ids, sampleSize, seed);

        // The brute force (sample x images dot products) dominates a check: on every core, before the pass below.
        Map<String, int[]> exactOfSampled = new java.util.concurrent.ConcurrentHashMap<>();
        sample.parallelStream().forEach(id -> {
            String key = live.get(id).imageKey();
            exactOfSampled.put(id, exactTopK(all, imageIndex.get(key), othersExpected(policy, sharers.get(key) - 1, k, all.length)));
        });
        long namingRemoved = 0, wrongSize = 0, selfListed = 0, missingLists = 0, stale = 0, repeating = 0, breakingPolicy = 0;
        long sharedCount = 0, sampledShared = 0, sampledSole = 0;
        double overlapSum = 0, sharedSum = 0, soleSum = 0;
        for (String id : ids) {
            Product product = live.get(id);
            int twins = sharers.get(product.imageKey()) - 1;
            if (twins > 0) sharedCount++;
            NeighbourListCollector.Seen seen = latest.get(id);
            NeighbourList list = seen == null ? null : seen.list();
            int ownShown = policy.shown(twins, k);
            int othersExpected = othersExpected(policy, twins, k, all.length);
            boolean sampled = sample.contains(id);
            int hits = 0;
            if (list == null) {
                missingLists++;
            } else {
                if (list.getCatalogueVersion() < product.version()) stale++;
                if (list.getNeighbours().size() != ownShown + othersExpected) wrongSize++;
                Set<String> exact = new HashSet<>();
                if (sampled) {
                    for (int n : exactOfSampled.get(id)) exact.add(keyByIndex.get(n));
                }
                Set<String> listedImages = new HashSet<>();
                int ownListed = 0;
                boolean repeats = false, namesRemoved = false;
                for (Neighbour nb : list.getNeighbours()) {
                    String neighbour = nb.getProductId();
                    if (neighbour.equals(id)) selfListed++;
                    Product listed = live.get(neighbour);
                    if (listed == null) {
                        namesRemoved = true;
                        continue;
                    }
                    String key = listed.imageKey();
                    if (key.equals(product.imageKey())) {
                        ownListed++;
                    } else if (!listedImages.add(key)) {
                        repeats = true;
                    } else if (exact.contains(key)) {
                        hits++;
                    }
                }
                if (missing != null && sampled && hits < othersExpected) {
                    Set<String> lacking = new HashSet<>(exact);
                    lacking.removeAll(listedImages);
                    missing.put(id, new ArrayList<>(lacking));
                }
                if (namesRemoved) namingRemoved++;
                if (repeats) repeating++;
                if (ownListed != ownShown) breakingPolicy++;
            }
            if (!sampled) continue;
            // A product without a list counts as overlap 0: the mean covers every sampled product.
            double overlap = list == null ? 0 : othersExpected == 0 ? 1.0 : hits / (double) othersExpected;
            overlapSum += overlap;
            if (twins > 0) {
                sharedSum += overlap;
                sampledShared++;
            } else {
                soleSum += overlap;
                sampledSole++;
            }
        }
        long missingTombstones = 0;
        for (String id : removed) {
            NeighbourListCollector.Seen seen = latest.get(id);
            if (seen == null || seen.value() != null) missingTombstones++;
        }
        Map<String, Object> contract = new LinkedHashMap<>();
        contract.put("live_products", ids.size());
        contract.put("removed_products", removed.size());
        contract.put("distinct_images", all.length);
        contract.put("products_sharing_an_image", sharedCount);
        contract.put("identical_images_policy", policy.name());
        contract.put("overlap_sample", sample.size());
        contract.put("mean_overlap", sample.isEmpty() ? null : round4(overlapSum / sample.size()));
        contract.put("mean_overlap_unshared_images", sampledSole == 0 ? null : round4(soleSum / sampledSole));
        contract.put("mean_overlap_shared_images", sampledShared == 0 ? null : round4(sharedSum / sampledShared));
        contract.put("lists_naming_removed", namingRemoved);
        contract.put("missing_tombstones", missingTombstones);
        contract.put("lists_of_wrong_size", wrongSize);
        contract.put("lists_naming_themselves", selfListed);
        contract.put("lists_repeating_an_image", repeating);
        contract.put("lists_breaking_the_identical_images_policy", breakingPolicy);
        contract.put("missing_lists", missingLists);
        contract.put("lists_behind_current_version", stale);
        return contract;
    }

    /** {@code size} of the ids (sorted), drawn with {@code seed}; all of them when size is 0 or not smaller. */
    static Set<String> sample(List<String> sortedIds, int size, long seed) {
        if (size <= 0 || size >= sortedIds.size()) return new HashSet<>(sortedIds);
        List<String> shuffled = new ArrayList<>(sortedIds);
        Collections.shuffle(shuffled, new Random(seed));
        return new HashSet<>(shuffled.subList(0, size));
    }

    /** Other images a list of k shows for a product whose image {@code twins} other products share, of {@code images} distinct. */
    private static int othersExpected(IdenticalImages policy, int twins, int k, int images) {
        return Math.min(k - policy.shown(twins, k), images - 1);
    }

    static double round4(double v) {
        return Math.round(v * 10000) / 10000.0;
    }

    /** Indices of the k vectors most similar to vectors[q] (dot product, best first), q itself excluded. */
    public static int[] exactTopK(float[][] vectors, int q, int k) {
        int n = Math.max(0, Math.min(k, vectors.length - 1));
        int[] top = new int[n];
        float[] scores = new float[n];
        int size = 0;
        float[] query = vectors[q];
        for (int i = 0; i < vectors.length && n > 0; i++) {
            if (i == q) continue;
            // Lucene's SIMD dot product: the brute force is what a contract check costs (sample x images x dims).
            float s = VectorUtil.dotProduct(query, vectors[i]);
            if (size == n && s <= scores[n - 1]) continue;
            int at = size < n ? size : n - 1; // when full, the last entry is dropped
            while (at > 0 && scores[at - 1] < s) {
                top[at] = top[at - 1];
                scores[at] = scores[at - 1];
                at--;
            }
            top[at] = i;
            scores[at] = s;
            if (size < n) size++;
        }
        return top;
    }
}
