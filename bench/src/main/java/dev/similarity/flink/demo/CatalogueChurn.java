package dev.similarity.flink.demo;

import dev.similarity.embedding.EmbeddingResult;
import dev.similarity.embedding.ImageEmbedder;
import dev.similarity.embedding.ImageEmbedderConfig;
import dev.similarity.index.ShardAssignment;
import dev.similarity.index.snapshot.ShardSnapshot;
import dev.similarity.index.snapshot.SnapshotManifest;
import dev.similarity.index.snapshot.SnapshotStore;
import dev.similarity.flink.IndexerOptions;
import dev.similarity.flink.index.IdenticalImages;
import dev.similarity.flink.index.ImageKeys;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * A catalogue that changes under the indexer: N products loaded, then a shuffled mix of additions,
 * image changes and removals; optionally a fraction of the products show one placeholder picture
 * (the same bytes under a URL of their own). Afterwards it checks the neighbour-list contract
 * against the exact top-k over the live catalogue's distinct current images: lists name only live
 * products, never themselves, each image at most once, products with the list's own image only as
 * the {@link IdenticalImages} policy says, k of them when there are enough images; removed products
 * end with a tombstone; mean overlap with the exact top-k of the distinct images (a product sharing
 * an image with another stands for that image).
 */
public final class CatalogueChurn {

    private final DemoRun run;
    private final DemoCatalogue catalogue;
    private final DemoImageServer images;
    private final int k;
    private final double sharedImageFraction;
    /** Live product id -> catalogue number of its current image ({@link DemoCatalogue#PLACEHOLDER} possible). */
    private final Map<String, Integer> live = new LinkedHashMap<>();
    /** Live product id -> its category (a product keeps its own when it shows the placeholder). */
    private final Map<String, String> categories = new HashMap<>();
    /** Image number -> image key, computed from the bytes as the job does. */
    private final Map<Integer, String> imageKeys = new HashMap<>();
    private final Map<String, Long> versions = new HashMap<>();
    private final Set<String> removed = new HashSet<>();
    private final List<long[]> directLatencySamples = new ArrayList<>();
    private final Map<String, Long> pendingDirect = new HashMap<>();
    /** Current-image vectors of the live products as of the last {@link #checkContract()}. */
    private Map<String, float[]> checkedVectors = Map.of();
    /** Image number -> embedding, computed once per image by the same model the job runs. */
    private final Map<Integer, float[]> vectorCache = new HashMap<>();
    /**
     * Image number -> {events fed before it was first shown, events fed before its last product left it
     * (Long.MAX_VALUE while shown)}: when each image lived, for {@link #missingNeighbourCauses}. The
     * placeholder, shown by many products, is not tracked.
     */
    private final Map<Integer, long[]> imageLife = new HashMap<>();
    /** Catalogue events fed so far (load and churn): the clock of {@link #imageLife}. */
    private long fedEvents;
    /** Products with an event fed since the last {@link #awaitCaughtUp}: what it waits for. */
    private final Set<String> fedSinceCaughtUp = new HashSet<>();

    /**
     * The order products arrive in: SHUFFLED (load in catalogue order, churn events shuffled) or
     * CLUSTERED (the streaming track's clustered runbook: loaded and added products arrive one category
     * at a time, the churn's image changes and removals interleaved at random among the additions).
     */
    public enum Order { SHUFFLED, CLUSTERED }

    /** Called after each step of {@link #churn(int, int, int, double, long, Order, int, Step)}, with the job maybe behind. */
    @FunctionalInterface
    public interface Step {
        void after(int step, int steps) throws Exception;
    }

    /**
     * How long {@link #awaitCaughtUp} waited and whether the job did catch up: {@code behind} products
     * whose latest committed record did not yet reflect their last fed event when it gave up.
     */
    public record CaughtUp(long waitedMs, boolean caughtUp, int behind) {}

    public CatalogueChurn(DemoRun run, DemoCatalogue catalogue, DemoImageServer images) {
        this(run, catalogue, images, 0);
    }

    /**
     * @param sharedImageFraction the fraction of loaded, added and changed products that show the
     *     placeholder picture, 0 to 1
     */
    public CatalogueChurn(DemoRun run, DemoCatalogue catalogue, DemoImageServer images, double sharedImageFraction) {
        if (!(sharedImageFraction >= 0 && sharedImageFraction <= 1)) {
            throw new IllegalArgumentException("the shared-image fraction is " + sharedImageFraction + "; it must be between 0 and 1");
        }
        this.run = run;
        this.catalogue = catalogue;
        this.images = images;
        this.k = run.config().get(IndexerOptions.NEIGHBOURS_K);
        this.sharedImageFraction = sharedImageFraction;
    }

    /** The list policy for products with the same image, as the job runs it. */
    private IdenticalImages policy() {
        return run.config().get(IndexerOptions.IDENTICAL_IMAGES);
    }

    /** The image loaded product n shows: the placeholder for a fixed pseudo-random fraction, else its own. */
    private int imageOfLoaded(int n) {
        boolean placeholder = sharedImageFraction > 0
                && new SplittableRandom(0x5EEDL ^ (n * 0x9E3779B97F4A7C15L)).nextDouble() < sharedImageFraction;
        return placeholder ? DemoCatalogue.PLACEHOLDER : n;
    }

    /** Loads products 0..n-1 and waits for their lists; returns the load's summary. */
    public RunSummary load(int n, long timeoutMs) throws Exception {
        return load(n, timeoutMs, Order.SHUFFLED);
    }

    /** As above, in catalogue order (SHUFFLED) or one category after another (CLUSTERED). */
    public RunSummary load(int n, long timeoutMs, Order order) throws Exception {
        if (n > catalogue.capacity()) {
            throw new IllegalArgumentException("--products " + n + " exceeds the demo catalogue's " + catalogue.capacity() + " images");
        }
        int[] numbers = java.util.stream.IntStream.range(0, n).toArray();
        if (order == Order.CLUSTERED) numbers = byCategory(numbers);
        RunSummary summary = run.feedAndMeasure(numbers, 0, timeoutMs, true, this::imageOfLoaded);
        for (int number : numbers) {
            shown(imageOfLoaded(number));
            fedEvents++;
        }
        assumeLoaded(0, n);
        for (int i = 0; i < n; i++) fedSinceCaughtUp.add(catalogue.productId(i)); // the load may have timed out with lists missing
        return summary;
    }

    /** The catalogue numbers grouped by category (label order), each group in the given order. */
    private int[] byCategory(int[] numbers) {
        return java.util.Arrays.stream(numbers).boxed()
                .sorted(java.util.Comparator.comparingInt(catalogue::label)) // stable: numbers keep their order within a category
                .mapToInt(Integer::intValue).toArray();
    }

    /** Counts products first..first+n-1 as loaded (version 1) without feeding them: fed by an earlier run. */
    public void assumeLoaded(int first, int n) {
        for (int i = first; i < first + n; i++) {
            live.put(catalogue.productId(i), imageOfLoaded(i));
            categories.put(catalogue.productId(i), catalogue.category(i));
            versions.put(catalogue.productId(i), 1L);
        }
    }

    /** Feeds products first..first+n-1 and waits for their lists. */
    public RunSummary add(int first, int n, double rate, long timeoutMs) throws Exception {
        RunSummary summary = run.feedAndMeasure(first, n, rate, timeoutMs, false, this::imageOfLoaded);
        assumeLoaded(first, n);
        for (int i = first; i < first + n; i++) fedSinceCaughtUp.add(catalogue.productId(i));
        return summary;
    }

    /** How many products are live now (as fed, whether or not the job caught up). */
    public int liveProducts() {
        return live.size();
    }

    /** Live products that show the placeholder picture. */
    public long placeholderProducts() {
        return live.values().stream().filter(image -> image == DemoCatalogue.PLACEHOLDER).count();
    }

    /** The loaded products that {@link #churn} with these arguments leaves in the catalogue (all but its removals). */
    public List<String> keptByChurn(int changes, int removals, long seed) {
        List<String> existing = new ArrayList<>(live.keySet());
        Collections.shuffle(existing, new Random(seed)); // the same first draw as churn()
        List<String> kept = new ArrayList<>(existing.subList(0, Math.min(changes, existing.size())));
        kept.addAll(existing.subList(Math.min(changes + removals, existing.size()), existing.size()));
        return kept;
    }

    /**
     * Sends the churn: {@code additions} new products (catalogue numbers after the loaded ones), {@code
     * changes} image changes of live products (to images not used elsewhere), {@code removals} of live
     * products, shuffled with a fixed seed, at {@code rate} events/s (0 = no limit).
     */
    public void churn(int additions, int changes, int removals, double rate, long seed) throws Exception {
        churn(additions, changes, removals, rate, seed, Order.SHUFFLED, 1, (step, steps) -> {});
    }

    /** One churn event: the category it brings (for the clustered order) and what feeding it does. */
    private record Event(int label, Runnable feed) {}

    /**
     * As above, in {@code order}, fed in {@code steps} equal slices (the streaming track's runbook);
     * after each slice is acknowledged by the broker, {@code afterStep} runs (a contract check) before
     * the next slice is fed. The rate applies within a slice.
     */
    public void churn(int additions, int changes, int removals, double rate, long seed, Order order, int steps, Step afterStep)
            throws Exception {
        if (steps < 1) throw new IllegalArgumentException("the churn needs at least 1 step, got " + steps);
        int nextImage = live.size();
        List<Event> adds = new ArrayList<>();
        List<Event> others = new ArrayList<>();
        Random random = new Random(seed);
        Random sharing = new Random(seed * 31 + 7); // apart from random: without sharing the churn is as it was
        List<String> existing = new ArrayList<>(live.keySet());
        Collections.shuffle(existing, random);
        if (changes + removals > existing.size()) {
            throw new IllegalArgumentException("--changes + --removals (" + (changes + removals) + ") exceed the " + existing.size() + " loaded products");
        }
        int needed = nextImage + additions + changes;
        if (needed > catalogue.capacity()) {
            throw new IllegalArgumentException("the churn needs " + needed + " images; the demo catalogue has " + catalogue.capacity());
        }
        try (CatalogueFeeder feeder = new CatalogueFeeder(run.config().get(IndexerOptions.KAFKA_BOOTSTRAP_SERVERS),
                run.config().get(IndexerOptions.CATALOGUE_TOPIC), run.config().get(IndexerOptions.CATALOGUE_WIRE_FORMAT))) {
            for (int i = 0; i < additions; i++) {
                int number = nextImage++;
                int image = sharedImageFraction > 0 && sharing.nextDouble() < sharedImageFraction ? DemoCatalogue.PLACEHOLDER : number;
                String id = catalogue.productId(number);
                String category = catalogue.category(number);
                adds.add(new Event(catalogue.label(number), () -> {
                    shown(image);
                    fedEvents++;
                    live.put(id, image);
                    categories.put(id, category);
                    versions.put(id, 1L);
                    fedSinceCaughtUp.add(id);
                    pendingDirect.put(id, feeder.upsert(id, images.imageUrl(image, id), category, 1, false, run.embeddingOf(image)));
                }));
            }
            for (int i = 0; i < changes; i++) {
                String id = existing.get(i);
                int number = nextImage++;
                // A product showing the placeholder changes away from it; another may change to it.
                boolean toPlaceholder = sharedImageFraction > 0 && sharing.nextDouble() < sharedImageFraction
                        && live.get(id) != DemoCatalogue.PLACEHOLDER;
                int image = toPlaceholder ? DemoCatalogue.PLACEHOLDER : number;
                String category = toPlaceholder ? categories.get(id) : catalogue.category(number);
                others.add(new Event(-1, () -> {
                    gone(live.get(id));
                    shown(image);
                    fedEvents++;
                    live.put(id, image);
                    categories.put(id, category);
                    long version = versions.merge(id, 1L, Long::sum);
                    fedSinceCaughtUp.add(id);
                    pendingDirect.put(id, feeder.upsert(id, images.imageUrl(image, id), category, version, true, run.embeddingOf(image)));
                }));
            }
            for (int i = 0; i < removals; i++) {
                String id = existing.get(changes + i);
                others.add(new Event(-1, () -> {
                    gone(live.get(id));
                    fedEvents++;
                    live.remove(id);
                    categories.remove(id);
                    removed.add(id);
                    pendingDirect.remove(id);
                    fedSinceCaughtUp.add(id);
                    feeder.remove(id, versions.merge(id, 1L, Long::sum));
                }));
            }
            List<Event> events = order == Order.CLUSTERED ? clustered(adds, others, random) : shuffled(adds, others, random);
            for (int step = 0; step < steps; step++) {
                int from = (int) ((long) events.size() * step / steps);
                int to = (int) ((long) events.size() * (step + 1) / steps);
                long start = System.currentTimeMillis();
                for (int i = from; i < to; i++) {
                    if (rate > 0) {
                        long wait = start + (long) ((i - from) * 1000.0 / rate) - System.currentTimeMillis();
                        if (wait > 0) Thread.sleep(wait);
                    }
                    events.get(i).feed().run();
                }
                feeder.flush();
                afterStep.after(step + 1, steps);
            }
        }
    }

    /** Today's order: every event shuffled with the churn's seed (the same draws as before steps existed). */
    private static List<Event> shuffled(List<Event> adds, List<Event> others, Random random) {
        List<Event> events = new ArrayList<>(adds);
        events.addAll(others);
        Collections.shuffle(events, random);
        return events;
    }

    /**
     * Additions one category after another (label order, catalogue order within a category); the image
     * changes and removals shuffled and merged at random positions among them, so they spread over the
     * whole churn.
     */
    private static List<Event> clustered(List<Event> adds, List<Event> others, Random random) {
        List<Event> byCategory = new ArrayList<>(adds);
        byCategory.sort(java.util.Comparator.comparingInt(Event::label));
        List<Event> mixed = new ArrayList<>(others);
        Collections.shuffle(mixed, random);
        return mergeAtRandom(byCategory, mixed, random);
    }

    /** Both lists' elements, each list's in its order, interleaved at random (every interleaving equally likely). */
    static <T> List<T> mergeAtRandom(List<T> first, List<T> second, Random random) {
        List<T> merged = new ArrayList<>(first.size() + second.size());
        int a = 0, b = 0;
        while (a < first.size() || b < second.size()) {
            int leftA = first.size() - a, leftB = second.size() - b;
            merged.add(random.nextInt(leftA + leftB) < leftA ? first.get(a++) : second.get(b++));
        }
        return merged;
    }

    /**
     * Waits until the job has caught up with everything fed since the last call: every such product's
     * latest committed record reflects its last event (a list of at least its version, or a tombstone
     * after its removal), and then no list record has arrived for {@code quietMs} (the reverse updates
     * those events caused are committed too). Gives up after {@code timeoutMs} and says so.
     */
    public CaughtUp awaitCaughtUp(long quietMs, long timeoutMs) throws InterruptedException {
        long started = System.currentTimeMillis();
        long deadline = started + timeoutMs;
        Set<String> waiting = new HashSet<>(fedSinceCaughtUp);
        while (System.currentTimeMillis() < deadline) {
            waiting.removeIf(this::reflectsLastEvent);
            if (waiting.isEmpty()) break;
            Thread.sleep(100);
        }
        boolean caughtUp = waiting.isEmpty();
        if (caughtUp) {
            fedSinceCaughtUp.clear();
            awaitQuiet(quietMs, Math.max(0, deadline - System.currentTimeMillis()));
        } else {
            fedSinceCaughtUp.retainAll(waiting);
        }
        return new CaughtUp(System.currentTimeMillis() - started, caughtUp, waiting.size());
    }

    private boolean reflectsLastEvent(String id) {
        NeighbourListCollector.Seen seen = run.lists().latest(id);
        if (seen == null) return false;
        if (removed.contains(id) && !live.containsKey(id)) return seen.value() == null;
        return seen.list() != null && seen.list().getCatalogueVersion() >= versions.get(id);
    }

    /** Waits until no list record has arrived for {@code quietMs} (the job caught up), at most {@code timeoutMs}. */
    public void awaitQuiet(long quietMs, long timeoutMs) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        long seen = -1;
        long since = System.currentTimeMillis();
        while (System.currentTimeMillis() < deadline) {
            long now = run.lists().records();
            if (now != seen) {
                seen = now;
                since = System.currentTimeMillis();
            } else if (System.currentTimeMillis() - since >= quietMs) {
                return;
            }
            Thread.sleep(200);
        }
    }

    private void shown(int image) {
        if (image != DemoCatalogue.PLACEHOLDER) imageLife.put(image, new long[] {fedEvents, Long.MAX_VALUE});
    }

    private void gone(Integer image) {
        long[] life = image == null ? null : imageLife.get(image);
        if (life != null) life[1] = fedEvents;
    }

    /** The key of image {@code number}'s bytes, as the job computes it. */
    private String imageKey(int number) {
        return imageKeys.computeIfAbsent(number, n -> ImageKeys.ofBytes(catalogue.png(n)));
    }

    /** Checks the contract on what a read_committed consumer sees now, the overlap over every live product. */
    public Map<String, Object> checkContract() throws Exception {
        return checkContract(0);
    }

    /**
     * As above, the overlap with the exact top-k computed for a deterministic sample of {@code
     * sampleSize} live products (0: all), against every live distinct image; see {@link ListContract}.
     */
    public Map<String, Object> checkContract(int sampleSize) throws Exception {
        Map<String, ListContract.Product> products = new HashMap<>();
        Map<String, float[]> vectorsByKey = new HashMap<>();
        List<Integer> numbers = new ArrayList<>(new java.util.TreeSet<>(live.values()));
        embedMissing(numbers);
        Map<String, float[]> byId = new HashMap<>();
        for (Map.Entry<String, Integer> product : live.entrySet()) {
            String key = imageKey(product.getValue());
            float[] vector = vectorCache.get(product.getValue());
            // Products showing the same bytes share one image (the placeholder, and the few duplicate
            // pictures Fashion-MNIST has): the first number's vector stands for them all.
            vectorsByKey.putIfAbsent(key, vector);
            products.put(product.getKey(), new ListContract.Product(key, versions.get(product.getKey())));
            byId.put(product.getKey(), vectorsByKey.get(key));
        }
        checkedVectors = byId;
        Map<String, List<String>> missing = new HashMap<>();
        Map<String, NeighbourListCollector.Seen> latest = run.lists().latest();
        Map<String, Object> contract = ListContract.check(products, vectorsByKey, removed, latest, k, policy(), sampleSize, 42, missing);
        contract.put("missing_neighbours", missingNeighbourCauses(missing, latest));
        return contract;
    }

    /** Events apart within which two images count as indexed at about the same time (in flight together). */
    static final long CONCURRENT_EVENTS = 1_000;

    /**
     * Why the lists lack the exact neighbours they lack: each missing image m of the list of product p
     * (image P) is counted once, under the first cause that fits: {@code short_lists} (the list has fewer
     * than k other images: its reserve ran out), {@code displaced_by_removed} (more than neighbours.reserve
     * images better than m for P were removed after P was shown: m may have been pushed out of a full list
     * that later lost them, or kept out by P's bar, which removals do not lower), {@code concurrent} (m and P were shown
     * within {@link #CONCURRENT_EVENTS} events of each other: the race between shards), {@code
     * reverse} (m was shown after P: P's list should have had it as a candidate), {@code forward} (m was
     * shown before P: P's own search should have found it). Without placeholders only.
     */
    Map<String, Object> missingNeighbourCauses(Map<String, List<String>> missing, Map<String, NeighbourListCollector.Seen> latest)
            throws Exception {
        int reserve = run.config().get(IndexerOptions.NEIGHBOURS_RESERVE);
        Map<String, Integer> numberOfKey = new HashMap<>();
        for (int number : live.values()) numberOfKey.put(imageKey(number), number);
        List<Integer> goneImages = new ArrayList<>();
        for (Map.Entry<Integer, long[]> life : imageLife.entrySet()) {
            if (life.getValue()[1] != Long.MAX_VALUE) goneImages.add(life.getKey());
        }
        embedMissing(goneImages);
        long shortLists = 0, displaced = 0, concurrent = 0, reverse = 0, forward = 0, untracked = 0;
        long listsMissing = 0;
        for (Map.Entry<String, List<String>> entry : missing.entrySet()) {
            Integer p = live.get(entry.getKey());
            long[] pLife = p == null ? null : imageLife.get(p);
            NeighbourListCollector.Seen seen = latest.get(entry.getKey());
            if (pLife == null || seen == null || seen.list() == null) {
                untracked += entry.getValue().size();
                continue;
            }
            listsMissing++;
            float[] pv = vectorCache.get(p);
            boolean shortList = seen.list().getNeighbours().size() < Math.min(k, numberOfKey.size() - 1);
            for (String key : entry.getValue()) {
                Integer m = numberOfKey.get(key);
                long[] mLife = m == null ? null : imageLife.get(m);
                if (mLife == null) {
                    untracked++;
                } else if (shortList) {
                    shortLists++;
                } else {
                    float score = org.apache.lucene.util.VectorUtil.dotProduct(pv, vectorCache.get(m));
                    int removedAbove = 0;
                    for (int r : goneImages) {
                        if (imageLife.get(r)[1] > pLife[0]
                                && org.apache.lucene.util.VectorUtil.dotProduct(pv, vectorCache.get(r)) > score) {
                            removedAbove++;
                        }
                    }
                    if (removedAbove > reserve) displaced++;
                    else if (Math.abs(mLife[0] - pLife[0]) <= CONCURRENT_EVENTS) concurrent++;
                    else if (mLife[0] > pLife[0]) reverse++;
                    else forward++;
                }
            }
        }
        Map<String, Object> causes = new LinkedHashMap<>();
        causes.put("lists_lacking_some", listsMissing);
        causes.put("short_lists", shortLists);
        causes.put("displaced_by_removed", displaced);
        causes.put("concurrent", concurrent);
        causes.put("reverse", reverse);
        causes.put("forward", forward);
        causes.put("untracked", untracked);
        return causes;
    }

    /** Embeds the images among {@code numbers} not embedded yet, with the job's model, into the cache. */
    private void embedMissing(List<Integer> numbers) throws Exception {
        List<Integer> missing = numbers.stream().filter(n -> !vectorCache.containsKey(n)).toList();
        if (missing.isEmpty()) return;
        CatalogueEmbeddings carried = run.carriedEmbeddings();
        if (carried != null) {
            // The vectors the job indexed (events carried them), normalised as its decoder does.
            for (int n : missing) vectorCache.put(n, normalised(carried.vector(n)));
            return;
        }
        float[][] vectors = embedImages(missing);
        for (int i = 0; i < missing.size(); i++) vectorCache.put(missing.get(i), vectors[i]);
    }

    /**
     * Waits (at most {@code timeoutMs}) until the snapshot store holds a published snapshot of every
     * shard and together they hold exactly the live products, then compares them with the catalogue:
     * each product in its owner shard, with its current image's vector (as of the last {@link
     * #checkContract()}) and image URL.
     */
    public Map<String, Object> checkSnapshots(long timeoutMs) throws Exception {
        SnapshotStore store = SnapshotStore.at(run.config().snapshotDir());
        int shards = run.config().get(IndexerOptions.SHARDS);
        long deadline = System.currentTimeMillis() + timeoutMs;
        Map<String, Object> report;
        do {
            report = compareSnapshots(store, shards);
            if ((long) report.get("snapshot_missing_products") == 0 && (long) report.get("snapshot_removed_products") == 0
                    && (long) report.get("snapshot_shards_missing") == 0) {
                break;
            }
            Thread.sleep(500);
        } while (System.currentTimeMillis() < deadline);
        return report;
    }

    private Map<String, Object> compareSnapshots(SnapshotStore store, int shards) throws Exception {
        long missingShards = 0, wrongShard = 0, staleVectors = 0, wrongUrls = 0, removedPresent = 0, twice = 0;
        long oldestCheckpoint = Long.MAX_VALUE;
        long indexBytes = 0;
        Set<String> seen = new HashSet<>();
        for (int shard = 0; shard < shards; shard++) {
            Optional<SnapshotManifest> manifest = store.latest(shard);
            if (manifest.isEmpty()) {
                missingShards++;
                continue;
            }
            oldestCheckpoint = Math.min(oldestCheckpoint, manifest.get().checkpointId());
            indexBytes += manifest.get().totalBytes();
            try (ShardSnapshot snapshot = ShardSnapshot.load(store, manifest.get())) {
                for (ShardSnapshot.SnapshotProduct product : snapshot.products(0, Integer.MAX_VALUE)) {
                    String id = product.productId();
                    if (!seen.add(id)) twice++;
                    if (!live.containsKey(id)) {
                        removedPresent++;
                        continue;
                    }
                    if (ShardAssignment.shardOf(id, shards) != shard) wrongShard++;
                    if (!showsCurrentImage(product.imageUrl(), live.get(id))) wrongUrls++;
                    float[] expected = checkedVectors.get(id);
                    if (expected != null && !closeTo(expected, product.vector())) staleVectors++;
                }
            }
        }
        long missing = live.keySet().stream().filter(id -> !seen.contains(id)).count();
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("snapshot_products", (long) seen.size());
        report.put("snapshot_shards_missing", missingShards);
        report.put("snapshot_missing_products", missing);
        report.put("snapshot_removed_products", removedPresent);
        report.put("snapshot_products_in_wrong_shard", wrongShard);
        report.put("snapshot_products_in_two_shards", twice);
        report.put("snapshot_stale_vectors", staleVectors);
        report.put("snapshot_wrong_image_urls", wrongUrls);
        report.put("snapshot_oldest_checkpoint", oldestCheckpoint == Long.MAX_VALUE ? -1 : oldestCheckpoint);
        // The shards' Lucene indices as published (every file of the newest snapshots): what a shard keeps on local disk.
        report.put("snapshot_index_bytes", indexBytes);
        return report;
    }

    /** The URL is the current image's, or one with the same bytes (those are not re-indexed). */
    private boolean showsCurrentImage(String url, int current) {
        if (url != null && url.startsWith(images.baseUrl() + "/images/placeholder.png")) {
            return java.util.Arrays.equals(catalogue.png(DemoCatalogue.PLACEHOLDER), catalogue.png(current));
        }
        String prefix = images.baseUrl() + "/images/";
        if (url == null || !url.startsWith(prefix) || !url.endsWith(".png")) return false;
        int shown = Integer.parseInt(url.substring(prefix.length(), url.length() - ".png".length()));
        return shown == current || java.util.Arrays.equals(catalogue.png(shown), catalogue.png(current));
    }

    /** Same embedding up to float noise (the job and the check may batch images differently). */
    private static boolean closeTo(float[] a, float[] b) {
        if (a.length != b.length) return false;
        for (int i = 0; i < a.length; i++) {
            if (Math.abs(a[i] - b[i]) > 1e-4f) return false;
        }
        return true;
    }

    /**
     * Freshness of the churn phase: direct = a changed or added product's own list (event to first
     * visible list of that version); reverse = other products' list updates (visible minus the
     * triggering event's timestamp, which the list carries).
     */
    public Map<String, Object> freshness(long churnStartedAt) {
        List<Long> direct = new ArrayList<>();
        List<Long> reverse = new ArrayList<>();
        for (String id : run.lists().keysSeen()) {
            Set<Long> versionsSeen = new HashSet<>();
            for (NeighbourListCollector.Seen seen : run.lists().history(id)) {
                if (seen.list() == null || seen.list().getEventTimestamp() < churnStartedAt) continue;
                long latency = seen.visibleAt() - seen.list().getEventTimestamp();
                boolean ownEvent = versionsSeen.add(seen.list().getCatalogueVersion()) && pendingDirect.containsKey(id)
                        && seen.list().getEventTimestamp() == pendingDirect.get(id);
                (ownEvent ? direct : reverse).add(latency);
            }
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("latency_ms", percentiles(direct));
        out.put("reverse_latency_ms", percentiles(reverse));
        return out;
    }

    private static Map<String, Object> percentiles(List<Long> samples) {
        long[] sorted = samples.stream().mapToLong(Long::longValue).sorted().toArray();
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("p50", RunSummary.percentile(sorted, 0.50));
        p.put("p95", RunSummary.percentile(sorted, 0.95));
        p.put("p99", RunSummary.percentile(sorted, 0.99));
        p.put("samples", sorted.length);
        return p;
    }

    private static float[] normalised(float[] vector) {
        double squares = 0;
        for (float v : vector) squares += (double) v * v;
        double norm = Math.sqrt(squares);
        float[] out = new float[vector.length];
        for (int i = 0; i < vector.length; i++) out[i] = (float) (vector[i] / norm);
        return out;
    }

    /** The embeddings of catalogue images {@code numbers}, in order. */
    private float[][] embedImages(List<Integer> numbers) throws Exception {
        float[][] vectors = new float[numbers.size()][];
        try (ImageEmbedder embedder = ImageEmbedder.load(ImageEmbedderConfig.builder().modelDir(run.config().modelDir()).build())) {
            for (int start = 0; start < numbers.size(); start += 256) {
                List<byte[]> batch = new ArrayList<>();
                for (int i = start; i < Math.min(numbers.size(), start + 256); i++) batch.add(catalogue.png(numbers.get(i)));
                List<EmbeddingResult> results = embedder.embedBatch(batch);
                for (int i = 0; i < results.size(); i++) vectors[start + i] = results.get(i).vector();
            }
        }
        return vectors;
    }

    /** Indices of the k vectors most similar to vectors[q] (dot product), q itself excluded. */
    public static int[] exactTopK(float[][] vectors, int q, int k) {
        return ListContract.exactTopK(vectors, q, k);
    }
}
