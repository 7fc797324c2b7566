package dev.similarity.flink.event;

/**
 * A decoded, validated catalogue event: the product's image is to be (re)indexed, or the product
 * is gone. {@code source} is kept so a later failure can still dead-letter the original bytes.
 *
 * @param embedding the checked embedding the event carried (then the image is not fetched), or null
 */
public record ProductChange(
        String productId,
        Kind kind,
        String imageUrl,
        String category,
        long catalogueVersion,
        long eventTimestamp,
        RawCatalogueRecord source,
        ProvidedEmbedding embedding) {

    public enum Kind { UPSERT, REMOVE }

    /** A change whose image the job fetches and embeds. */
    public ProductChange(String productId, Kind kind, String imageUrl, String category, long catalogueVersion,
                         long eventTimestamp, RawCatalogueRecord source) {
        this(productId, kind, imageUrl, category, catalogueVersion, eventTimestamp, source, null);
    }

    public boolean isRemoval() {
        return kind == Kind.REMOVE;
    }
}
