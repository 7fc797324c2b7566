package dev.similarity.flink.demo;

import dev.similarity.schemas.NeighbourList;
import dev.similarity.schemas.wire.AvroRecordCodec;
import dev.similarity.schemas.wire.InvalidRecordException;
import dev.similarity.flink.kafka.NeighbourListSerializer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Reads a topic from the start as a {@code read_committed} consumer would, on a thread of its own,
 * and remembers what each key's records were and when they became visible. With the neighbour
 * topic it decodes lists; with the dead-letter topic it only counts.
 */
public final class NeighbourListCollector implements AutoCloseable {

    /**
     * One record as seen by the consumer: list null for a tombstone (or when not decoding lists); value
     * null for a tombstone, else the record's bytes, or {@link #DECODED} once decoded into {@code list}.
     */
    public record Seen(String productId, NeighbourList list, byte[] value, long visibleAt) {}

    /**
     * The value of a decoded list's {@link Seen}: its bytes are not kept. With every record of every key
     * kept (a product's history), a 10^6-product churn held 3.7 million lists: their bytes and their
     * neighbours' id strings, one copy per mention, took most of a 12 GB heap.
     */
    public static final byte[] DECODED = new byte[0];

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Thread thread;
    private final boolean decodeLists;
    private final AvroRecordCodec<NeighbourList> codec = AvroRecordCodec.of(NeighbourList.class, NeighbourListSerializer.WIRE_FORMAT);
    private final Map<String, List<Seen>> byKey = new ConcurrentHashMap<>();
    /** One copy of each product id the decoded lists name (read and written by the polling thread only). */
    private final Map<String, String> productIds = new java.util.HashMap<>();
    /**
     * Per key, a 64-bit digest of each list record's {@link #updateIdentity} in topic order (polling thread
     * only): repeats are found on arrival, so a record whose neighbours were dropped is still checked.
     */
    private final Map<String, long[]> identityDigests = new java.util.HashMap<>();
    /** The identities seen again on arrival: {@link #repeatedUpdates()}. */
    private final java.util.Queue<String> repeated = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final AtomicLong records = new AtomicLong();
    private final AtomicLong undecodable = new AtomicLong();
    private volatile boolean running = true;
    private volatile boolean neighboursOfNewestOnly;

    public NeighbourListCollector(String bootstrapServers, String topic, boolean decodeLists) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "collector-" + UUID.randomUUID());
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        this.consumer = new KafkaConsumer<>(props);
        this.consumer.subscribe(List.of(topic));
        this.decodeLists = decodeLists;
        this.thread = new Thread(this::poll, "collector-" + topic);
        this.thread.setDaemon(true);
        this.thread.start();
    }

    private void poll() {
        try {
            while (running) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(100))) {
                    long now = System.currentTimeMillis();
                    String key = record.key() == null ? "" : new String(record.key(), StandardCharsets.UTF_8);
                    NeighbourList list = null;
                    byte[] value = record.value();
                    if (decodeLists && value != null) {
                        try {
                            list = codec.decode(value);
                            for (var neighbour : list.getNeighbours()) {
                                neighbour.setProductId(productIds.computeIfAbsent(neighbour.getProductId(), id -> id));
                            }
                            value = DECODED;
                        } catch (InvalidRecordException e) {
                            undecodable.incrementAndGet();
                        }
                    }
                    if (list != null) checkRepeated(key, updateIdentity(list));
                    List<Seen> history = byKey.computeIfAbsent(key, k -> new java.util.concurrent.CopyOnWriteArrayList<>());
                    if (neighboursOfNewestOnly && !history.isEmpty()) {
                        int previous = history.size() - 1;
                        history.set(previous, withoutNeighbours(history.get(previous)));
                    }
                    history.add(new Seen(key, list, value, now));
                    records.incrementAndGet();
                }
            }
        } finally {
            consumer.close();
        }
    }

    /**
     * From now on, a key's older records keep their list's version, timestamps and model but not its
     * neighbours; only the newest list of each key keeps them. For runs too large to hold every list
     * (a 10^6-product churn: 3.5 million lists, 2 GB of neighbours). {@link #repeatedUpdates()} is
     * unaffected: identities are digested on arrival.
     */
    public void keepNeighboursOfNewestOnly() {
        neighboursOfNewestOnly = true;
    }

    private static Seen withoutNeighbours(Seen seen) {
        NeighbourList list = seen.list();
        if (list == null || list.getNeighbours().isEmpty()) return seen;
        NeighbourList summary = NeighbourList.newBuilder(list).setNeighbours(List.of()).build();
        return new Seen(seen.productId(), summary, seen.value(), seen.visibleAt());
    }

    /** Records {@code identity} as repeated if {@code key} had a list record of the same identity digest. */
    private void checkRepeated(String key, String identity) {
        long digest = digest(identity);
        long[] digests = identityDigests.get(key);
        if (digests == null) {
            identityDigests.put(key, new long[] {digest});
            return;
        }
        for (long earlier : digests) {
            if (earlier == digest) {
                repeated.add(identity);
                return;
            }
        }
        long[] grown = java.util.Arrays.copyOf(digests, digests.length + 1);
        grown[digests.length] = digest;
        identityDigests.put(key, grown);
    }

    /** The first 64 bits of the SHA-256 of {@code identity}'s UTF-8 bytes. */
    private static long digest(String identity) {
        try {
            byte[] sha = java.security.MessageDigest.getInstance("SHA-256").digest(identity.getBytes(StandardCharsets.UTF_8));
            return java.nio.ByteBuffer.wrap(sha).getLong();
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }

    public long records() {
        return records.get();
    }

    public long undecodable() {
        return undecodable.get();
    }

    /** Every record of {@code key} in topic order. */
    public List<Seen> history(String key) {
        return new ArrayList<>(byKey.getOrDefault(key, List.of()));
    }

    /** The newest record of {@code key}, or null if none arrived yet. */
    public Seen latest(String key) {
        List<Seen> seen = byKey.get(key);
        return seen == null || seen.isEmpty() ? null : seen.get(seen.size() - 1);
    }

    /** The newest record of each key. */
    public Map<String, Seen> latest() {
        Map<String, Seen> latest = new ConcurrentHashMap<>();
        byKey.forEach((key, seen) -> {
            if (!seen.isEmpty()) latest.put(key, seen.get(seen.size() - 1));
        });
        return latest;
    }

    /**
     * What identifies a list update, whatever its record bytes: the product, its catalogue version, the
     * event that triggered the update, the model and the ranked neighbours with their scores. Every
     * record also carries the time it was computed, so a replayed update never repeats its bytes:
     * comparing bytes can miss a duplicate, comparing identities cannot.
     */
    public static String updateIdentity(Seen seen) {
        NeighbourList list = seen.list();
        if (list == null) {
            return seen.productId() + "|tombstone@" + java.util.Arrays.hashCode(seen.value());
        }
        return updateIdentity(list);
    }

    private static String updateIdentity(NeighbourList list) {
        StringBuilder id = new StringBuilder().append(list.getProductId()).append('|').append(list.getCatalogueVersion())
                .append('|').append(list.getEventTimestamp()).append('|').append(list.getModelId());
        for (var neighbour : list.getNeighbours()) {
            id.append('|').append(neighbour.getProductId()).append(':').append(neighbour.getScore());
        }
        return id.toString();
    }

    /**
     * Updates committed more than once so far: for each product, every identity ({@link #updateIdentity})
     * seen again anywhere after its first record (a replay need not follow the original), compared by a
     * 64-bit digest as records arrive. Tombstones are left out: a product removed, re-added and removed
     * again legitimately gets two.
     */
    public List<String> repeatedUpdates() {
        return List.copyOf(repeated);
    }

    public java.util.Set<String> keysSeen() {
        return java.util.Set.copyOf(byKey.keySet());
    }

    public int keys() {
        return byKey.size();
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.join(5_000);
    }
}
