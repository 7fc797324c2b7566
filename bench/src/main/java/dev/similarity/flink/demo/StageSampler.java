package dev.similarity.flink.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.similarity.flink.local.FlinkRestClient;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where a running job spends its time, stage by stage: every 2 s it reads each vertex's busy,
 * back-pressured and idle milliseconds per second (Flink's task metrics, averaged over the vertex's
 * subtasks) from the REST API, and {@link #summary()} gives their means over the samples. A stage
 * near 1,000 ms/s busy is the bottleneck; the stages before it show back pressure.
 */
public final class StageSampler implements AutoCloseable {

    private static final String METRICS = "busyTimeMsPerSecond,backPressuredTimeMsPerSecond,idleTimeMsPerSecond";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Per vertex name: sums of the three metrics and the number of samples. */
    private final Map<String, double[]> sums = new LinkedHashMap<>();
    private final FlinkRestClient rest;
    private final String jobId;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile String lastError;

    private StageSampler(String restUrl, String jobId) {
        this.rest = new FlinkRestClient(restUrl);
        this.jobId = jobId;
        this.thread = new Thread(this::loop, "stage-sampler");
        thread.setDaemon(true);
    }

    public static StageSampler start(String restUrl, String jobId) {
        StageSampler sampler = new StageSampler(restUrl, jobId);
        sampler.thread.start();
        return sampler;
    }

    private void loop() {
        while (running) {
            try {
                Thread.sleep(2_000);
                sample();
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                lastError = e.toString(); // e.g. the job not yet running; the next sample tries again
            }
        }
    }

    private void sample() {
        JsonNode job = read(rest.get("/jobs/" + jobId));
        for (JsonNode vertex : job.path("vertices")) {
            JsonNode metrics = read(rest.get("/jobs/" + jobId + "/vertices/" + vertex.path("id").asText()
                    + "/subtasks/metrics?get=" + METRICS + "&agg=avg"));
            double[] values = new double[4];
            int found = 0;
            for (JsonNode metric : metrics) {
                int i = switch (metric.path("id").asText()) {
                    case "busyTimeMsPerSecond" -> 0;
                    case "backPressuredTimeMsPerSecond" -> 1;
                    case "idleTimeMsPerSecond" -> 2;
                    default -> -1;
                };
                if (i < 0 || !metric.path("avg").isNumber() || Double.isNaN(metric.path("avg").asDouble())) continue;
                values[i] = metric.path("avg").asDouble();
                found++;
            }
            if (found == 0) continue;
            synchronized (sums) {
                double[] sum = sums.computeIfAbsent(vertex.path("name").asText(), name -> new double[4]);
                for (int i = 0; i < 3; i++) sum[i] += values[i];
                sum[3]++;
            }
        }
    }

    private static JsonNode read(String body) {
        try {
            return JSON.readTree(body);
        } catch (java.io.IOException e) {
            throw new IllegalStateException("unreadable REST answer: " + body, e);
        }
    }

    /** Stops sampling (the summary keeps what was sampled). */
    public void stop() {
        running = false;
        thread.interrupt();
    }

    /** Per stage (vertex name): mean busy, back-pressured and idle ms per second, and the sample count. */
    public Map<String, Object> summary() {
        Map<String, Object> out = new LinkedHashMap<>();
        synchronized (sums) {
            sums.forEach((name, sum) -> {
                Map<String, Object> stage = new LinkedHashMap<>();
                stage.put("busy_ms_per_s", Math.round(sum[0] / sum[3]));
                stage.put("backpressured_ms_per_s", Math.round(sum[1] / sum[3]));
                stage.put("idle_ms_per_s", Math.round(sum[2] / sum[3]));
                stage.put("samples", (long) sum[3]);
                out.put(name, stage);
            });
        }
        if (out.isEmpty() && lastError != null) out.put("error", lastError);
        return out;
    }

    @Override
    public void close() {
        stop();
    }
}
