package dev.similarity.flink.demo;

import dev.similarity.flink.IndexerConfig;
import dev.similarity.flink.SimilarityIndexerJob;
import dev.similarity.flink.local.FlinkRestClient;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * A job submitted to a Flink cluster the way the web UI's "Submit New Job" page does it (the job jar
 * uploaded through {@code POST /jars/upload}, then {@code POST /jars/:id/run} with the job's options as
 * program arguments), seen through Flink's {@link JobClient} so the demo harness drives it like a job in
 * its own JVM.
 */
public final class ClusterJobClient implements JobClient {

    private final FlinkRestClient rest;
    private final String jobId;

    private ClusterJobClient(FlinkRestClient rest, String jobId) {
        this.rest = rest;
        this.jobId = jobId;
    }

    /**
     * Uploads {@code jobJar} and runs the indexer with {@code config}'s settings.
     *
     * @param savepoint a savepoint or retained checkpoint to resume from, or null
     */
    public static ClusterJobClient submit(FlinkRestClient rest, Path jobJar, IndexerConfig config, Integer parallelism, String savepoint) {
        List<String> args = new ArrayList<>();
        for (Map.Entry<String, String> setting : config.configuration().toMap().entrySet()) {
            args.add("--" + setting.getKey());
            args.add(setting.getValue());
        }
        String jarId = rest.uploadJar(jobJar);
        return new ClusterJobClient(rest, rest.run(jarId, SimilarityIndexerJob.class.getName(), args, parallelism, savepoint));
    }

    public String id() {
        return jobId;
    }

    @Override
    public JobID getJobID() {
        return JobID.fromHexString(jobId);
    }

    @Override
    public CompletableFuture<JobStatus> getJobStatus() {
        return CompletableFuture.supplyAsync(() -> JobStatus.valueOf(rest.jobStatus(jobId)));
    }

    @Override
    public CompletableFuture<Void> cancel() {
        return CompletableFuture.runAsync(() -> rest.cancel(jobId));
    }

    @Override
    public CompletableFuture<String> stopWithSavepoint(boolean advanceToEndOfEventTime, String savepointDirectory, SavepointFormatType formatType) {
        return CompletableFuture.supplyAsync(() -> rest.stopWithSavepoint(jobId, savepointDirectory, Duration.ofMinutes(5)));
    }

    @Override
    public CompletableFuture<String> triggerSavepoint(String savepointDirectory, SavepointFormatType formatType) {
        return CompletableFuture.failedFuture(new UnsupportedOperationException("use stopWithSavepoint"));
    }

    @Override
    public CompletableFuture<Map<String, Object>> getAccumulators() {
        return CompletableFuture.completedFuture(Map.of());
    }

    @Override
    public CompletableFuture<JobExecutionResult> getJobExecutionResult() {
        return CompletableFuture.failedFuture(new UnsupportedOperationException("a streaming job on a cluster has no result"));
    }
}
