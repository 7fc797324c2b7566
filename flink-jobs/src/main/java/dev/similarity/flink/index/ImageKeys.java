package dev.similarity.flink.index;

import dev.similarity.flink.internal.Sha256;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;

/**
 * The key of a distinct image: products whose image bytes are the same share one key, hence one
 * HNSW node and one list of neighbours. A key is the first 128 bits of the bytes' SHA-256 (the
 * job's {@code EmbeddingOutcome.contentHash}), base64url without padding: 22 characters, where the
 * hex hash would take 64 in every state entry and message that names an image.
 */
public final class ImageKeys {

    private static final int KEY_BYTES = 16;
    private static final Base64.Encoder BASE64URL = Base64.getUrlEncoder().withoutPadding();

    private ImageKeys() {}

    /**
     * The key of the image whose content hash is {@code contentHash}: a SHA-256 in hex, as the job
     * computes it; any other non-blank string is hashed again, so every hash format gives a key.
     */
    public static String of(String contentHash) {
        if (contentHash == null || contentHash.isBlank()) {
            throw new IllegalArgumentException("content hash is blank: an embedded image always has one");
        }
        byte[] digest;
        if (contentHash.length() == 64 && HexFormat.isHexDigit(contentHash.charAt(0))) {
            try {
                digest = HexFormat.of().parseHex(contentHash);
            } catch (IllegalArgumentException notHex) {
                digest = Sha256.digest(contentHash.getBytes(StandardCharsets.UTF_8));
            }
        } else {
            digest = Sha256.digest(contentHash.getBytes(StandardCharsets.UTF_8));
        }
        return BASE64URL.encodeToString(Arrays.copyOf(digest, KEY_BYTES));
    }

    /** The key of the image made of {@code bytes}. */
    public static String ofBytes(byte[] bytes) {
        return BASE64URL.encodeToString(Arrays.copyOf(Sha256.digest(bytes), KEY_BYTES));
    }

    /**
     * A key no image has, for a product whose image is unknown (a removal of a product never indexed
     * still needs a route to its tombstone). The 23rd character keeps it apart from image keys.
     */
    public static String ofProductWithoutImage(String productId) {
        return BASE64URL.encodeToString(Arrays.copyOf(Sha256.digest(productId.getBytes(StandardCharsets.UTF_8)), KEY_BYTES)) + "~";
    }

}
