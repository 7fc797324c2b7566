package dev.similarity.flink.upgrade;

import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

/**
 * The file that says a model upgrade has switched, in the new model's staging folder of the snapshot
 * store: written by the {@link UpgradeCoordinator} once a checkpoint holding the switch completed (so
 * the lists published at the switch are committed), read by the shards of both models (the new one
 * then publishes its snapshots where readers look, the previous one stops) and by the job's start
 * (a restart without the previous model is refused until it exists).
 */
public final class ModelSwitchMarker {

    static final String FILE_NAME = "SWITCHED";

    private ModelSwitchMarker() {}

    /** @param stagingDir the new model's staging folder (a URI Flink's file systems read) */
    public static boolean exists(String stagingDir) {
        Path marker = new Path(stagingDir, FILE_NAME);
        try {
            return marker.getFileSystem().exists(marker);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot look for the model switch marker " + marker, e);
        }
    }

    static void write(String stagingDir, String modelId, long checkpointId) {
        Path marker = new Path(stagingDir, FILE_NAME);
        try (OutputStream out = marker.getFileSystem().create(marker, FileSystem.WriteMode.OVERWRITE)) {
            out.write(("{\"modelId\": \"" + modelId + "\", \"checkpointId\": " + checkpointId + ", \"switchedAt\": \""
                    + Instant.now() + "\"}\n").getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the model switch marker " + marker, e);
        }
    }
}
