package dev.similarity.flink.index;

import dev.similarity.flink.IndexerConfig;
import dev.similarity.flink.IndexerOptions;
import dev.similarity.index.ProductVector;
import dev.similarity.index.ScoredProduct;
import dev.similarity.index.SearchOptions;
import dev.similarity.index.ShardIndex;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Keyed by shard number: owns the shards routed to this subtask. Flink state is the source of truth
 * (each shard's vectors, and which products' lists may contain which product); the Lucene HNSW
 * index is derived from it and rebuilt in bulk when a shard is first touched after a (re)start, so a
 * restored or rescaled job searches exactly the checkpointed vectors.
 *
 * <p>For each change of product x this shard searches its own products near x's vector and sends
 * (a) that partial top list to x's list, (b) x as a candidate to each of those products' lists, and
 * (c) a rescore or drop to every product whose list may contain x. Invariant for (c): whenever this
 * shard sends a message that could put c into p's list, it records p under c in {@code listedBy}.
 */
public final class ShardIndexFunction extends KeyedProcessFunction<Integer, ShardMessage, ListMessage> {

    private static final long serialVersionUID = 1L;
    private static final long REFRESH_TICK_MS = 500;
    /** Probes remembered per shard: covers the products in flight at once, even in a burst. */
    private static final int RECENT_PROBES = 4096;
    /** Candidates searched per change, as a multiple of the list depth (k + reserve). */
    private static final int CANDIDATE_DEPTH_FACTOR = 2;

    private final IndexerConfig config;
    private final ShardRouting routing;
    private final int dimension;
    private final int listDepth;

    private transient MapState<String, StoredProduct> vectors;
    /** Product c -> ids of products whose lists may contain c, newline-separated (appended, deduplicated when read). */
    private transient MapState<String, String> listedBy;
    private transient ValueState<Long> nextRefresh;
    private transient Map<Integer, ShardIndex> indexes;
    private transient Map<Integer, RecentProbes> recentProbes;
    /** Per shard: catalogue version of each of its products (heap copy of {@code vectors}, rebuilt with the index). */
    private transient Map<Integer, Map<String, Long>> localVersions;

    public ShardIndexFunction(IndexerConfig config, ShardRouting routing, int dimension) {
        this.config = config;
        this.routing = routing;
        this.dimension = dimension;
        this.listDepth = config.get(IndexerOptions.NEIGHBOURS_K) + config.get(IndexerOptions.NEIGHBOURS_RESERVE);
    }

    @Override
    public void open(OpenContext openContext) {
        vectors = getRuntimeContext().getMapState(new MapStateDescriptor<>("shard-vectors", Types.STRING,
                TypeInformation.of(StoredProduct.class)));
        listedBy = getRuntimeContext().getMapState(new MapStateDescriptor<>("listed-by", Types.STRING, Types.STRING));
        nextRefresh = getRuntimeContext().getState(new ValueStateDescriptor<>("next-refresh", Long.class));
        indexes = new HashMap<>();
        recentProbes = new HashMap<>();
        localVersions = new HashMap<>();
        getRuntimeContext().getMetricGroup().gauge("vectorsInShards", (Gauge<Integer>) () -> {
            int total = 0;
            for (ShardIndex index : indexes.values()) total += index.size();
            return total;
        });
        getRuntimeContext().getMetricGroup().gauge("shardsOpen", (Gauge<Integer>) () -> indexes.size());
    }

    @Override
    public void processElement(ShardMessage message, Context ctx, Collector<ListMessage> out) throws Exception {
        int shard = message.shard();
        ShardIndex index = indexFor(shard, ctx);
        String x = message.productId();
        if (message.type() == ShardMessage.Type.REMOVE) {
            if (message.isOwner()) {
                vectors.remove(x);
                index.delete(x);
                localVersions.get(shard).remove(x);
                out.collect(ListMessage.removed(x, message.catalogueVersion(), message.eventTimestamp()));
            }
            for (String lister : listers(x)) {
                out.collect(ListMessage.drop(lister, x, message.eventTimestamp()));
            }
            listedBy.remove(x);
            return;
        }

        RecentProbes probes = recentProbes.computeIfAbsent(shard, s -> new RecentProbes(RECENT_PROBES));
        if (message.isOwner()) {
            vectors.put(x, new StoredProduct(message.catalogueVersion(), message.vector(), message.category(), null));
            index.upsert(x, message.vector(), message.category());
            localVersions.get(shard).put(x, message.catalogueVersion());
            List<String> probers = new ArrayList<>();
            probes.forEachBeaten(x, message.vector(), (prober, proberVersion, score) -> {
                out.collect(ListMessage.candidate(prober, proberVersion, x, score, message.eventTimestamp()));
                probers.add(prober);
            });
            addListers(x, probers);
        }
        // Nearest neighbours are not symmetric: x may belong in the list of a product that is not among
        // x's own nearest, so candidates come from a deeper search than x's partial list.
        List<ScoredProduct> near = index.search(message.vector(), CANDIDATE_DEPTH_FACTOR * listDepth, SearchOptions.NONE.exclude(x));
        int partialSize = Math.min(listDepth, near.size());
        probes.add(x, message.catalogueVersion(), message.vector(), partialSize < listDepth ? Float.NEGATIVE_INFINITY : near.get(partialSize - 1).score());
        String[] ids = new String[partialSize];
        float[] scores = new float[partialSize];
        Set<String> candidatesSent = new HashSet<>();
        Map<String, Long> versions = localVersions.get(shard);
        for (int i = 0; i < near.size(); i++) {
            ScoredProduct p = near.get(i);
            if (i < partialSize) {
                ids[i] = p.productId();
                scores[i] = p.score();
                addListers(p.productId(), List.of(x));
            }
            long targetVersion = versions.getOrDefault(p.productId(), -1L);
            out.collect(ListMessage.candidate(p.productId(), targetVersion, x, p.score(), message.eventTimestamp()));
            candidatesSent.add(p.productId());
        }
        out.collect(ListMessage.partial(x, message.catalogueVersion(), message.shardCount(), ids, scores,
                message.vector(), message.eventTimestamp()));

        if (message.previousVector() != null) {
            for (String lister : listers(x)) {
                if (!candidatesSent.contains(lister)) {
                    out.collect(ListMessage.rescore(lister, x, message.vector(), message.eventTimestamp()));
                }
            }
        }
        addListers(x, candidatesSent);
    }

    /** Records that the lists of {@code listers} may contain {@code product}. */
    private void addListers(String product, Collection<String> listers) throws Exception {
        if (listers.isEmpty()) {
            return;
        }
        String known = listedBy.get(product);
        String added = String.join("\n", listers);
        listedBy.put(product, known == null ? added : known + "\n" + added);
    }

    private Set<String> listers(String product) throws Exception {
        String known = listedBy.get(product);
        return known == null ? Set.of() : new LinkedHashSet<>(List.of(known.split("\n")));
    }

    /** One refresh timer chain per shard: a timer not matching {@code nextRefresh} is a leftover and ends. */
    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<ListMessage> out) throws Exception {
        Long expected = nextRefresh.value();
        if (expected == null || expected != timestamp) {
            return;
        }
        indexFor(routing.shardOf(ctx.getCurrentKey()), ctx).maybeRefresh();
        scheduleRefresh(ctx, timestamp + REFRESH_TICK_MS);
    }

    private void scheduleRefresh(Context ctx, long at) throws Exception {
        nextRefresh.update(at);
        ctx.timerService().registerProcessingTimeTimer(at);
    }

    private ShardIndex indexFor(int shard, Context ctx) throws Exception {
        ShardIndex index = indexes.get(shard);
        if (index != null) {
            return index;
        }
        index = ShardIndex.builder()
                .dimension(dimension)
                .maxConn(config.get(IndexerOptions.HNSW_MAX_CONN))
                .beamWidth(config.get(IndexerOptions.HNSW_BEAM_WIDTH))
                .searchCandidates(Math.max(config.get(IndexerOptions.SEARCH_CANDIDATES), CANDIDATE_DEPTH_FACTOR * listDepth))
                .refreshMaxAge(config.get(IndexerOptions.INDEX_REFRESH_MAX_AGE))
                .build();
        List<ProductVector> restored = new ArrayList<>();
        Map<String, Long> versions = new HashMap<>();
        for (Map.Entry<String, StoredProduct> e : vectors.entries()) {
            restored.add(new ProductVector(e.getKey(), e.getValue().vector(), e.getValue().category()));
            versions.put(e.getKey(), e.getValue().catalogueVersion());
        }
        localVersions.put(shard, versions);
        index.bulkLoad(restored);
        indexes.put(shard, index);
        ShardIndex opened = index;
        getRuntimeContext().getMetricGroup().addGroup("shard", String.valueOf(shard))
                .gauge("vectors", (Gauge<Integer>) opened::size);
        Long pending = nextRefresh.value();
        long now = ctx.timerService().currentProcessingTime();
        if (pending == null || pending < now) {
            scheduleRefresh(ctx, now + REFRESH_TICK_MS);
        }
        return index;
    }

    @Override
    public void close() throws Exception {
        if (indexes != null) {
            for (ShardIndex index : indexes.values()) {
                index.close();
            }
        }
    }
}
