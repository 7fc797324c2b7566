package dev.similarity.flink.demo;

import dev.similarity.embedding.data.FashionMnist;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.SplittableRandom;

/**
 * The demo catalogue: Fashion-MNIST images as products, as many as asked for. Product n is test image
 * n for n < 10,000, then train image n - 10,000 up to {@link #SOURCE_IMAGES} (70,000); beyond that,
 * product n is variant {@code n / 70,000} of source product {@code n % 70,000}: that image shifted,
 * zoomed (cropped or padded), rotated, perhaps mirrored, its ink lighter or darker and grainier, so
 * every product has a picture of its own (no two products the same bytes) and its source's category.
 * Shoes are not mirrored (Fashion-MNIST's all point left).
 * Variant v of image j is always the same pixels ({@link #variantPixels}; {@link StrictMath} and a
 * seeded {@link SplittableRandom}, nothing that depends on the platform or the run).
 * Image number {@link #PLACEHOLDER} is a "no image available" picture that many products may show.
 */
public final class DemoCatalogue {

    /** The image number of the placeholder picture (not a product number). */
    public static final int PLACEHOLDER = -1;
    /** Fashion-MNIST's images: test then train. Products beyond are variants of these. */
    public static final int SOURCE_IMAGES = 10_000 + 60_000;

    private static final int SIDE = FashionMnist.ROWS;
    private static final java.util.Set<String> FOOTWEAR = java.util.Set.of(
            FashionMnist.categoryName(5), FashionMnist.categoryName(7), FashionMnist.categoryName(9));
    // How far a variant strays from its source, chosen by the committed model's view of 2,000 variants:
    // their 10 nearest of the 70,000 source images share their label 85 % of the time (the sources
    // among themselves: about 90 %), their own source is among them for only 35 % (distinct products,
    // not copies), cosine to their source 0.86 on average. Twice these (12 degrees, 14 %, 2.5 px)
    // dropped the label agreement to 62 %.
    private static final double MAX_DEGREES = 8;
    private static final double MAX_ZOOM = 0.08;
    private static final double MAX_SHIFT = 1.0;
    private static final double MAX_GRAIN = 3;
    private static final int PIXELS = FashionMnist.PIXELS;

    /** PNGs of the source images and the placeholder, encoded once; variants are made on each call. */
    private final java.util.Map<Integer, byte[]> pngs = new java.util.concurrent.ConcurrentHashMap<>();

    private final FashionMnist test;
    private FashionMnist train;

    public DemoCatalogue() {
        this.test = FashionMnist.load(FashionMnist.Split.TEST);
        if (test.size() + FashionMnist.Split.TRAIN.expectedSize() != SOURCE_IMAGES) {
            throw new IllegalStateException("Fashion-MNIST has " + test.size() + " test images, expected 10,000");
        }
    }

    /** Products this catalogue can serve: any product number 0 .. Integer.MAX_VALUE - 1. */
    public int capacity() {
        return Integer.MAX_VALUE;
    }

    public String productId(int n) {
        if (n < test.size()) return String.format("fm-test-%05d", n);
        if (n < SOURCE_IMAGES) return String.format("fm-train-%05d", n - test.size());
        return String.format("fm-v%d-%05d", n / SOURCE_IMAGES, n % SOURCE_IMAGES);
    }

    /** Inverse of {@link #productId(int)}; -1 for an id not of this catalogue. */
    public int productNumber(String productId) {
        try {
            if (productId.startsWith("fm-test-")) return Integer.parseInt(productId.substring(8));
            if (productId.startsWith("fm-train-")) return test.size() + Integer.parseInt(productId.substring(9));
            if (productId.startsWith("fm-v")) {
                int dash = productId.indexOf('-', 4);
                if (dash < 0) return -1;
                long variant = Integer.parseInt(productId.substring(4, dash));
                int source = Integer.parseInt(productId.substring(dash + 1));
                long n = variant * SOURCE_IMAGES + source;
                return variant >= 1 && source >= 0 && source < SOURCE_IMAGES && n < Integer.MAX_VALUE ? (int) n : -1;
            }
        } catch (NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    /** The Fashion-MNIST image product n shows, or a variant of: 0 .. 69,999. */
    public static int sourceOf(int n) {
        return n % SOURCE_IMAGES;
    }

    public int label(int n) {
        int source = sourceOf(n);
        return source < test.size() ? test.label(source) : train().label(source - test.size());
    }

    public String category(int n) {
        return FashionMnist.categoryName(label(n));
    }

    /**
     * Product n's picture as a 28 x 28 grey PNG: the Fashion-MNIST image for n < 70,000 (encoded once
     * and kept: the demo's image server answers fetches from here), a variant beyond (made on each call,
     * about as fast as decoding it, so a catalogue of millions holds no PNGs).
     */
    public byte[] png(int n) {
        if (n >= SOURCE_IMAGES) return encode(variantPixels(n));
        return pngs.computeIfAbsent(n, i -> i == PLACEHOLDER ? placeholderPng()
                : i < test.size() ? test.png(i) : train().png(i - test.size()));
    }

    /**
     * The 784 pixels (row-major, 0 = background) of product n >= 70,000: its source image under a
     * transform drawn from a generator seeded by n alone. Inverse mapping with bilinear sampling;
     * outside the source is background.
     */
    byte[] variantPixels(int n) {
        if (n < SOURCE_IMAGES) throw new IllegalArgumentException("product " + n + " is a source image, not a variant");
        int source = sourceOf(n);
        byte[] src = new byte[PIXELS];
        if (source < test.size()) test.copyPixels(source, src, 0);
        else train().copyPixels(source - test.size(), src, 0);

        SplittableRandom random = new SplittableRandom(0x7A51A7E5L * 0x9E3779B97F4A7C15L + n);
        // Mirrored clothes and bags are still clothes and bags; Fashion-MNIST's shoes all point left.
        boolean mirror = random.nextBoolean() && !FOOTWEAR.contains(FashionMnist.categoryName(label(n)));
        double angle = StrictMath.toRadians(uniform(random, -MAX_DEGREES, MAX_DEGREES));
        double zoom = uniform(random, 1 - MAX_ZOOM, 1 + MAX_ZOOM);   // > 1: a closer crop, < 1: more margin
        double dx = uniform(random, -MAX_SHIFT, MAX_SHIFT);
        double dy = uniform(random, -MAX_SHIFT, MAX_SHIFT);
        double gamma = uniform(random, 0.8, 1.25);       // ink lighter or darker; background stays black
        double gain = uniform(random, 0.85, 1.1);
        double grain = uniform(random, 1.0, MAX_GRAIN);  // noise standard deviation, grey levels

        double cos = StrictMath.cos(angle), sin = StrictMath.sin(angle);
        double centre = (SIDE - 1) / 2.0;
        byte[] out = new byte[PIXELS];
        double[] noise = new double[PIXELS];
        for (int i = 0; i < PIXELS; i += 2) {
            // Box-Muller on the seeded generator, both outputs used: the same numbers on every JVM.
            double radius = StrictMath.sqrt(-2 * StrictMath.log(1.0 - random.nextDouble()));
            double turn = 2 * StrictMath.PI * random.nextDouble();
            noise[i] = grain * radius * StrictMath.cos(turn);
            noise[i + 1] = grain * radius * StrictMath.sin(turn);
        }
        for (int y = 0; y < SIDE; y++) {
            for (int x = 0; x < SIDE; x++) {
                // Output pixel -> source coordinates: undo shift, zoom, rotation, then mirror.
                double u = (x - centre - dx) / zoom;
                double v = (y - centre - dy) / zoom;
                double sx = cos * u + sin * v;
                double sy = -sin * u + cos * v;
                if (mirror) sx = -sx;
                double value = bilinear(src, sx + centre, sy + centre);
                if (value > 0) value = 255.0 * gain * StrictMath.pow(value / 255.0, gamma);
                value += noise[y * SIDE + x];
                out[y * SIDE + x] = (byte) Math.max(0, Math.min(255, (int) Math.round(value)));
            }
        }
        return out;
    }

    private static double bilinear(byte[] pixels, double x, double y) {
        int x0 = (int) StrictMath.floor(x), y0 = (int) StrictMath.floor(y);
        double fx = x - x0, fy = y - y0;
        return (1 - fy) * ((1 - fx) * pixel(pixels, x0, y0) + fx * pixel(pixels, x0 + 1, y0))
                + fy * ((1 - fx) * pixel(pixels, x0, y0 + 1) + fx * pixel(pixels, x0 + 1, y0 + 1));
    }

    private static int pixel(byte[] pixels, int x, int y) {
        return x < 0 || y < 0 || x >= SIDE || y >= SIDE ? 0 : pixels[y * SIDE + x] & 0xFF;
    }

    private static double uniform(SplittableRandom random, double from, double to) {
        return from + (to - from) * random.nextDouble();
    }

    private static byte[] encode(byte[] pixels) {
        BufferedImage image = new BufferedImage(SIDE, SIDE, BufferedImage.TYPE_BYTE_GRAY);
        image.getRaster().setDataElements(0, 0, SIDE, SIDE, pixels);
        ByteArrayOutputStream out = new ByteArrayOutputStream(1024);
        try {
            javax.imageio.ImageIO.write(image, "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
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
