package dev.similarity.flink.index;

/**
 * What a product's list shows of the other products with exactly its image (same bytes): a
 * placeholder shared by thousands of products, or one photo used for every size and colour.
 */
public enum IdenticalImages {
    /** None of them: a list shows only products with other images. */
    EXCLUDE,
    /** One of them first (the one that has shown the image longest), then other images. */
    COLLAPSE,
    /** Up to k of them first (longest-standing first), then other images. */
    FIRST;

    /** How many of {@code twins} (other products with the product's image) the list shows, at most k. */
    public int shown(int twins, int k) {
        return switch (this) {
            case EXCLUDE -> 0;
            case COLLAPSE -> Math.min(1, twins);
            case FIRST -> Math.min(k, twins);
        };
    }
}
