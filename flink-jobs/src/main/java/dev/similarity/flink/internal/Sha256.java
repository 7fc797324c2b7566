package dev.similarity.flink.internal;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** SHA-256 of bytes: the image content hash, image keys and dead letters' original-record hashes. */
public final class Sha256 {

    private Sha256() {}

    /** The 32-byte digest. */
    public static byte[] digest(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }

    /** Lower-case hex of the digest (64 characters); null for null. */
    public static String hex(byte[] bytes) {
        return bytes == null ? null : HexFormat.of().formatHex(digest(bytes));
    }
}
