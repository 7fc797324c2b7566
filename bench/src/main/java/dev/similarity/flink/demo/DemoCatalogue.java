package dev.similarity.flink.demo;

import dev.similarity.embedding.data.FashionMnist;

/**
 * The demo catalogue: Fashion-MNIST images as products. Product n is test image n for n < 10,000,
 * then train image n - 10,000 (70,000 products at most); its category is the image's label name.
 * Image number {@link #PLACEHOLDER} is a "no image available" picture that many products may show.
 */
public final class DemoCatalogue {

    /** The image number of the placeholder picture (not a product number). */
    public static final int PLACEHOLDER = -1;

    private final java.util.Map<Integer, byte[]> pngs = new java.util.concurrent.ConcurrentHashMap<>();

    private final FashionMnist test;
    private FashionMnist train;

    public DemoCatalogue() {
        this.test = FashionMnist.load(FashionMnist.Split.TEST);
    }

    public int capacity() {
        return test.size() + FashionMnist.Split.TRAIN.expectedSize();
    }

    public String productId(int n) {
        return n < test.size() ? String.format("fm-test-%05d", n) : String.format("fm-train-%05d", n - test.size());
    }

    /** Inverse of {@link #productId(int)}; -1 for an id not of this catalogue. */
    public int productNumber(String productId) {
        try {
            if (productId.startsWith("fm-test-")) return Integer.parseInt(productId.substring(8));
            if (productId.startsWith("fm-train-")) return test.size() + Integer.parseInt(productId.substring(9));
        } catch (NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    public int label(int n) {
        return n < test.size() ? test.label(n) : train().label(n - test.size());
    }

    public String category(int n) {
        return FashionMnist.categoryName(label(n));
    }

    /** Encoded once and kept: the demo's image server answers fetches from here. */
    public byte[] png(int n) {
        return pngs.computeIfAbsent(n, i -> i == PLACEHOLDER ? placeholderPng()
                : i < test.size() ? test.png(i) : train().png(i - test.size()));
    }

    /**
     * A "no image available" picture in the catalogue's format (28 x 28 grey): a light frame with a
     * cross on black, the kind of stand-in shops show for a product without a photo.
     */
    private static byte[] placeholderPng() {
        java.awt.image.BufferedImage image = new java.awt.image.BufferedImage(28, 28, java.awt.image.BufferedImage.TYPE_BYTE_GRAY);
        java.awt.image.WritableRaster raster = image.getRaster();
        for (int y = 0; y < 28; y++) {
            for (int x = 0; x < 28; x++) {
                boolean frame = x < 2 || y < 2 || x > 25 || y > 25;
                boolean cross = Math.abs(x - y) < 1 || Math.abs(x + y - 27) < 1;
                raster.setSample(x, y, 0, frame ? 200 : cross ? 140 : 0);
            }
        }
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        try {
            javax.imageio.ImageIO.write(image, "png", out);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private synchronized FashionMnist train() {
        if (train == null) {
            train = FashionMnist.load(FashionMnist.Split.TRAIN);
        }
        return train;
    }
}
