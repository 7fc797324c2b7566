package dev.similarity.flink.demo;

import dev.similarity.embedding.data.FashionMnist;

/**
 * The demo catalogue: Fashion-MNIST images as products. Product n is test image n for n < 10,000,
 * then train image n - 10,000 (70,000 products at most); its category is the image's label name.
 */
public final class DemoCatalogue {

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
        return pngs.computeIfAbsent(n, i -> i < test.size() ? test.png(i) : train().png(i - test.size()));
    }

    private synchronized FashionMnist train() {
        if (train == null) {
            train = FashionMnist.load(FashionMnist.Split.TRAIN);
        }
        return train;
    }
}
