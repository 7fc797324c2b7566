package dev.similarity.flink.demo;

import dev.similarity.embedding.data.FashionMnist;
import org.junit.jupiter.api.Test;

import java.security.MessageDigest;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class DemoCatalogueTest {

    private static final DemoCatalogue CATALOGUE = new DemoCatalogue();

    @Test
    void theFirst70000ProductsAreFashionMnistAsBefore() {
        FashionMnist test = TEST;
        FashionMnist train = TRAIN;
        assertThat(CATALOGUE.productId(0)).isEqualTo("fm-test-00000");
        assertThat(CATALOGUE.productId(9_999)).isEqualTo("fm-test-09999");
        assertThat(CATALOGUE.productId(10_000)).isEqualTo("fm-train-00000");
        assertThat(CATALOGUE.productId(69_999)).isEqualTo("fm-train-59999");
        assertThat(CATALOGUE.png(0)).isEqualTo(test.png(0));
        assertThat(CATALOGUE.png(9_999)).isEqualTo(test.png(9_999));
        assertThat(CATALOGUE.png(10_000)).isEqualTo(train.png(0));
        assertThat(CATALOGUE.png(69_999)).isEqualTo(train.png(59_999));
        assertThat(CATALOGUE.label(69_999)).isEqualTo(train.label(59_999));
    }

    @Test
    void productsBeyondTheDatasetAreVariantsWithTheirSourcesCategory() {
        for (int n : new int[] {70_000, 70_001, 79_999, 80_000, 139_999, 140_000, 999_999, 123_456_789}) {
            int source = n % 70_000;
            assertThat(CATALOGUE.category(n)).as("category of %d", n).isEqualTo(CATALOGUE.category(source));
            assertThat(CATALOGUE.png(n)).as("picture of %d", n).isNotEqualTo(CATALOGUE.png(source));
            assertThat(CATALOGUE.productNumber(CATALOGUE.productId(n))).isEqualTo(n);
        }
        assertThat(CATALOGUE.productId(70_000)).isEqualTo("fm-v1-00000");
        assertThat(CATALOGUE.productId(999_999)).isEqualTo("fm-v14-19999");
        assertThat(CATALOGUE.productNumber("fm-v0-00001")).isEqualTo(-1);
        assertThat(CATALOGUE.productNumber("fm-v1-70000")).isEqualTo(-1);
        assertThat(CATALOGUE.capacity()).isGreaterThanOrEqualTo(100_000_000);
    }

    @Test
    void everyVariantIsAPictureOfItsOwn() throws Exception {
        Set<String> seen = new HashSet<>();
        // 20 variants each of 100 source images, and the sources themselves.
        for (int source = 0; source < 70_000; source += 700) {
            assertThat(seen.add(sha256(CATALOGUE.png(source)))).isTrue();
            for (int v = 1; v <= 20; v++) {
                assertThat(seen.add(sha256(CATALOGUE.png(v * 70_000 + source)))).as("variant %d of %d", v, source).isTrue();
            }
        }
    }

    @Test
    void aVariantIsAlwaysTheSamePicture() throws Exception {
        DemoCatalogue another = new DemoCatalogue();
        for (int n : new int[] {70_000, 512_345, 1_000_000}) {
            assertThat(another.png(n)).isEqualTo(CATALOGUE.png(n));
        }
        // Pinned: the pixels depend on nothing but the product number (StrictMath, a seeded generator).
        assertThat(sha256(CATALOGUE.variantPixels(1_000_000))).isEqualTo(PINNED_VARIANT_1_000_000);
    }

    @Test
    void theImageServerServesVariantsLikeAnyOtherPicture() throws Exception {
        try (DemoImageServer images = new DemoImageServer(CATALOGUE, 0)) {
            java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
            for (int n : new int[] {69_999, 1_000_000}) {
                var response = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(images.imageUrl(n))).build(),
                        java.net.http.HttpResponse.BodyHandlers.ofByteArray());
                assertThat(response.statusCode()).isEqualTo(200);
                assertThat(response.body()).isEqualTo(CATALOGUE.png(n));
            }
        }
    }

    @Test
    void aVariantStillLooksLikeItsSource() {
        // More like its own source image than like the next image of the dataset, by pixel correlation.
        int closer = 0;
        for (int source = 0; source < 70_000; source += 350) {
            byte[] variant = CATALOGUE.variantPixels(3 * 70_000 + source);
            if (correlation(variant, pixels(source)) > correlation(variant, pixels((source + 1) % 70_000))) closer++;
        }
        assertThat(closer).as("of 200 variants, closer to their source").isGreaterThanOrEqualTo(170);
    }

    private static final String PINNED_VARIANT_1_000_000 = "04f3209e1f6e3538d268f329866968191b15a011a71e0337fff8064810674648";

    private static final FashionMnist TEST = FashionMnist.load(FashionMnist.Split.TEST);
    private static final FashionMnist TRAIN = FashionMnist.load(FashionMnist.Split.TRAIN);

    private static byte[] pixels(int n) {
        return n < 10_000 ? TEST.pixels(n) : TRAIN.pixels(n - 10_000);
    }

    private static double correlation(byte[] a, byte[] b) {
        double ma = 0, mb = 0;
        for (int i = 0; i < a.length; i++) {
            ma += a[i] & 0xFF;
            mb += b[i] & 0xFF;
        }
        ma /= a.length;
        mb /= b.length;
        double ab = 0, aa = 0, bb = 0;
        for (int i = 0; i < a.length; i++) {
            double x = (a[i] & 0xFF) - ma, y = (b[i] & 0xFF) - mb;
            ab += x * y;
            aa += x * x;
            bb += y * y;
        }
        return ab / Math.sqrt(aa * bb + 1e-9);
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
