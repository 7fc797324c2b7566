package dev.similarity.flink.event;

/**
 * A decoded, validated catalogue event: the product's image is to be (re)indexed, or the product
 * is gone. {@code source} is kept so a later failure can still dead-letter the original bytes.
 */
public record ProductChange(
        String productId,
        Kind kind,
        String imageUrl,
        String category,
        long catalogueVersion,
        long eventTimestamp,
        RawCatalogueRecord source) {

    public enum Kind { UPSERT, REMOVE }

    public boolean isRemoval() {
        return kind == Kind.REMOVE;
    }
}
