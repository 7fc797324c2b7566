package dev.similarity.flink.index;

/**
 * A product's membership of a distinct image changed: it now shows the image (JOIN, also when only
 * its category changed), shows another one (LEAVE), or left the catalogue (REMOVE). Keyed by
 * {@code imageKey} (see {@link ImageKeys}), so every change of one image's products meets in one
 * place. {@code vector} is set for JOIN only.
 */
public record ImageChange(
        String imageKey,
        Type type,
        String productId,
        long catalogueVersion,
        float[] vector,
        String category,
        String imageUrl,
        long eventTimestamp) {

    public enum Type { JOIN, LEAVE, REMOVE }
}
