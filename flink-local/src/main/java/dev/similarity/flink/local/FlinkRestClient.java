package dev.similarity.flink.local;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublisher;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.Predicate;

/**
 * A client of Flink's REST API that submits and operates jobs the way the web UI does: "Submit New
 * Job" uploads the jar ({@code POST /jars/upload}) and runs it ({@code POST /jars/:id/run}); "Stop"
 * with a savepoint is {@code POST /jobs/:id/stop} followed by polling the savepoint's trigger.
 *
 * <pre>{@code
 * FlinkRestClient flink = new FlinkRestClient("http://127.0.0.1:8081");
 * String jarId = flink.uploadJar(Path.of("flink-jobs/target/indexer-job.jar"));
 * String jobId = flink.run(jarId, null, List.of("--set", "k=v"), 2, null);
 * String savepoint = flink.stopWithSavepoint(jobId, null, Duration.ofMinutes(2));
 * flink.run(jarId, null, List.of(), 3, savepoint);   // resumed at parallelism 3
 * }</pre>
 *
 * <p>Thread-safe. Every call throws {@link FlinkRestException} when Flink answers with an error
 * status and {@link UncheckedIOException} when it cannot be reached.
 */
public final class FlinkRestClient {

  public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(60);
  /** A 200 MB job jar over loopback takes seconds; the server writes it to disk before it answers. */
  public static final Duration UPLOAD_TIMEOUT = Duration.ofMinutes(10);
  private static final Duration POLL_INTERVAL = Duration.ofMillis(250);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String baseUrl;
  private final HttpClient http;

  /** @param baseUrl the REST endpoint (also the web UI), e.g. {@code http://127.0.0.1:8081} */
  public FlinkRestClient(String baseUrl) {
    Objects.requireNonNull(baseUrl, "baseUrl");
    URI uri;
    try {
      uri = URI.create(baseUrl.strip());
    } catch (IllegalArgumentException e) {
      uri = null;
    }
    if (uri == null || uri.getScheme() == null || !uri.getScheme().matches("https?") || uri.getHost() == null) {
      throw new IllegalArgumentException("cluster URL '" + baseUrl + "' is not an http(s) URL with a host, e.g. http://127.0.0.1:8081");
    }
    this.baseUrl = baseUrl.strip().replaceAll("/+$", "");
    // HTTP/1.1: Flink's REST server does not speak HTTP/2, and the JDK's upgrade attempt only costs time.
    this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
  }

  public String baseUrl() {
    return baseUrl;
  }

  /** {@code GET /overview}: what the web UI's front page shows. */
  public record ClusterOverview(int taskManagers, int slotsTotal, int slotsAvailable, int jobsRunning, int jobsFinished,
      int jobsCancelled, int jobsFailed, String flinkVersion) {}

  /**
   * One job as {@code GET /jobs/:id} describes it.
   *
   * @param state Flink's {@code JobStatus}: INITIALIZING, CREATED, RUNNING, FAILING, FAILED, CANCELLING,
   *     CANCELED, FINISHED, RESTARTING, SUSPENDED, RECONCILING
   * @param tasks how many subtasks of all vertices are in each {@code ExecutionState} (RUNNING, DEPLOYING, ...)
   */
  public record JobInfo(String id, String name, String state, Map<String, Integer> tasks) {

    public int tasksIn(String executionState) {
      return tasks.getOrDefault(executionState, 0);
    }

    /** Every subtask runs: the job is not only RUNNING on paper but deployed. */
    public boolean fullyRunning() {
      int total = tasks.values().stream().mapToInt(Integer::intValue).sum();
      return state.equals("RUNNING") && total > 0 && tasksIn("RUNNING") == total;
    }
  }

  /** A completed or restored checkpoint or savepoint. @param externalPath where it is stored (a directory URI) */
  public record CheckpointRef(long id, String externalPath, boolean savepoint) {}

  /**
   * {@code GET /jobs/:id/checkpoints}: counts since the job was submitted, and the latest ones.
   *
   * @param restored how often the job was restored from a checkpoint or savepoint (each failover counts)
   */
  public record CheckpointStats(long total, long completed, long failed, long inProgress, long restored,
      Optional<CheckpointRef> latestCompleted, Optional<CheckpointRef> latestRestored) {}

  public ClusterOverview overview() {
    JsonNode o = getJson("/overview");
    return new ClusterOverview(o.path("taskmanagers").asInt(), o.path("slots-total").asInt(), o.path("slots-available").asInt(),
        o.path("jobs-running").asInt(), o.path("jobs-finished").asInt(), o.path("jobs-cancelled").asInt(),
        o.path("jobs-failed").asInt(), o.path("flink-version").asText());
  }

  /** Resource ids of the registered TaskManagers ({@code GET /taskmanagers}). */
  public List<String> taskManagerIds() {
    List<String> ids = new ArrayList<>();
    getJson("/taskmanagers").path("taskmanagers").forEach(tm -> ids.add(tm.path("id").asText()));
    return ids;
  }

  /** The body of a GET, as text: e.g. {@code get("/")} is the web UI's index.html. */
  public String get(String path) {
    return send("GET " + path, request(path).GET().build(), DEFAULT_REQUEST_TIMEOUT);
  }

  /**
   * Uploads a job jar as the web UI does: {@code POST /jars/upload}, multipart, form field
   * {@code jarfile}. The jar is streamed from disk, not read into memory, and the server streams it
   * to its {@code web.upload.dir} ({@code rest.server.max-content-length} does not apply to uploads).
   *
   * @return the jar's id on the cluster, for {@link #run}
   * @throws IllegalArgumentException if the file is missing or its name does not end in .jar (Flink refuses those)
   */
  public String uploadJar(Path jar) {
    if (!Files.isRegularFile(jar)) throw new IllegalArgumentException("job jar " + jar + " does not exist or is not a file");
    String fileName = jar.getFileName().toString();
    if (!fileName.endsWith(".jar")) throw new IllegalArgumentException("job jar " + jar + ": Flink accepts only files named *.jar");
    String boundary = "----flink-local-" + UUID.randomUUID();
    String head = "--" + boundary + "\r\n"
        + "Content-Disposition: form-data; name=\"jarfile\"; filename=\"" + fileName.replace("\"", "%22") + "\"\r\n"
        + "Content-Type: application/x-java-archive\r\n\r\n";
    String tail = "\r\n--" + boundary + "--\r\n";
    BodyPublisher body;
    try {
      body = BodyPublishers.concat(BodyPublishers.ofString(head, StandardCharsets.UTF_8), BodyPublishers.ofFile(jar),
          BodyPublishers.ofString(tail, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read job jar " + jar, e);
    }
    HttpRequest request = request("/jars/upload").header("Content-Type", "multipart/form-data; boundary=" + boundary).POST(body).build();
    JsonNode answer = parse("POST /jars/upload", send("POST /jars/upload " + fileName, request, UPLOAD_TIMEOUT));
    String stored = answer.path("filename").asText("");
    if (!answer.path("status").asText().equals("success") || stored.isEmpty()) {
      throw new IllegalStateException("POST /jars/upload of " + jar + " answered without a stored file name: " + answer);
    }
    // The id is the stored file's name (<uuid>_<name>.jar) without the server's upload directory.
    return stored.substring(stored.lastIndexOf('/') + 1);
  }

  /** Deletes an uploaded jar from the cluster ({@code DELETE /jars/:id}), e.g. the old one after an upgrade. */
  public void deleteJar(String jarId) {
    String path = "/jars/" + encode(jarId);
    send("DELETE " + path, request(path).DELETE().build(), DEFAULT_REQUEST_TIMEOUT);
  }

  /**
   * Runs an uploaded jar's job as the web UI's "Submit" button does: {@code POST /jars/:id/run}.
   * The jar's main method runs on the JobManager and must return once the job is submitted.
   *
   * @param entryClass the main class, or null for the jar manifest's {@code Main-Class}
   * @param args the program's arguments (programArgsList; no quoting needed)
   * @param parallelism the job's default parallelism, or null for the cluster's
   * @param savepointPath a savepoint or retained checkpoint to resume from, or null for a fresh start
   * @return the job id
   */
  public String run(String jarId, String entryClass, List<String> args, Integer parallelism, String savepointPath) {
    return run(jarId, entryClass, args, parallelism, savepointPath, false);
  }

  /** As {@link #run(String, String, List, Integer, String)}; {@code allowNonRestoredState} skips state of operators the new job lacks. */
  public String run(String jarId, String entryClass, List<String> args, Integer parallelism, String savepointPath,
      boolean allowNonRestoredState) {
    Objects.requireNonNull(jarId, "jarId");
    if (parallelism != null && parallelism < 1) throw new IllegalArgumentException("parallelism is " + parallelism + "; it must be at least 1");
    ObjectNode body = JSON.createObjectNode();
    if (entryClass != null && !entryClass.isBlank()) body.put("entryClass", entryClass);
    body.putArray("programArgsList").addAll(args.stream().map(JSON.getNodeFactory()::textNode).toList());
    if (parallelism != null) body.put("parallelism", parallelism);
    if (savepointPath != null && !savepointPath.isBlank()) body.put("savepointPath", savepointPath);
    body.put("allowNonRestoredState", allowNonRestoredState);
    String path = "/jars/" + encode(jarId) + "/run";
    JsonNode answer = postJson(path, body);
    String jobId = answer.path("jobid").asText("");
    if (jobId.isEmpty()) throw new IllegalStateException("POST " + path + " answered without a job id: " + answer);
    return jobId;
  }

  public JobInfo job(String jobId) {
    JsonNode job = getJson("/jobs/" + encode(jobId));
    Map<String, Integer> tasks = new LinkedHashMap<>();
    job.path("vertices").forEach(vertex -> vertex.path("tasks").properties()
        .forEach(e -> tasks.merge(e.getKey(), e.getValue().asInt(), Integer::sum)));
    return new JobInfo(job.path("jid").asText(), job.path("name").asText(), job.path("state").asText(), Map.copyOf(tasks));
  }

  /** The job's state, e.g. RUNNING, FINISHED, FAILED (see {@link JobInfo#state()}). */
  public String jobStatus(String jobId) {
    return job(jobId).state();
  }

  /**
   * Polls the job until {@code done} holds. Fails early when the job reaches a terminal state that
   * {@code done} rejects, with the job's latest exception.
   *
   * @throws IllegalStateException on timeout or an unexpected terminal state, with the job's state and latest exception
   */
  public JobInfo awaitJob(String jobId, String what, Predicate<JobInfo> done, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    JobInfo job = null;
    while (true) {
      try {
        job = job(jobId);
        if (done.test(job)) return job;
        if (Set.of("FAILED", "CANCELED", "FINISHED").contains(job.state())) {
          throw new IllegalStateException("job " + jobId + " ended " + job.state() + " before it was " + what
              + latestException(jobId).map(e -> "; latest exception:\n" + e).orElse(""));
        }
      } catch (FlinkRestException e) {
        if (e.statusCode() != 404) throw e; // a job being submitted is briefly unknown
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("job " + jobId + " was not " + what + " within " + timeout + " (last seen: " + job + ")"
            + latestException(jobId).map(e -> "; latest exception:\n" + e).orElse(""));
      }
      sleep(POLL_INTERVAL);
    }
  }

  /** The newest entry of the job's exception history (the web UI's "Exceptions" tab), as a stack trace. */
  public Optional<String> latestException(String jobId) {
    try {
      JsonNode entries = getJson("/jobs/" + encode(jobId) + "/exceptions?maxExceptions=1").path("exceptionHistory").path("entries");
      if (entries.isEmpty()) return Optional.empty();
      JsonNode newest = entries.get(0);
      return Optional.of(newest.path("stacktrace").asText(newest.path("exceptionName").asText()));
    } catch (RuntimeException e) {
      return Optional.empty();
    }
  }

  /** One job-level metric, e.g. {@code numRestarts}; empty when the job has not registered it (yet). */
  public Optional<String> jobMetric(String jobId, String metric) {
    JsonNode values = getJson("/jobs/" + encode(jobId) + "/metrics?get=" + encode(metric));
    for (JsonNode value : values) {
      if (value.path("id").asText().equals(metric)) return Optional.of(value.path("value").asText());
    }
    return Optional.empty();
  }

  public CheckpointStats checkpoints(String jobId) {
    JsonNode stats = getJson("/jobs/" + encode(jobId) + "/checkpoints");
    JsonNode counts = stats.path("counts");
    JsonNode latest = stats.path("latest");
    return new CheckpointStats(counts.path("total").asLong(), counts.path("completed").asLong(), counts.path("failed").asLong(),
        counts.path("in_progress").asLong(), counts.path("restored").asLong(),
        checkpointRef(latest.path("completed")), checkpointRef(latest.path("restored")));
  }

  /**
   * Stops the job with a savepoint, as the web UI's and {@code flink stop} do: {@code POST /jobs/:id/stop},
   * then polls {@code GET /jobs/:id/savepoints/:triggerId} until the savepoint is written. The job
   * ends FINISHED once its sources stopped after the savepoint.
   *
   * @param targetDirectory where the savepoint goes (a directory URI or path the JobManager and
   *     TaskManagers can write), or null for the cluster's {@code execution.checkpointing.savepoint-dir}
   * @return the savepoint's location, for {@link #run}'s {@code savepointPath}
   * @throws IllegalStateException if the savepoint fails or does not complete within {@code timeout}
   */
  public String stopWithSavepoint(String jobId, String targetDirectory, Duration timeout) {
    ObjectNode body = JSON.createObjectNode();
    if (targetDirectory != null && !targetDirectory.isBlank()) body.put("targetDirectory", targetDirectory);
    body.put("drain", false);
    String triggerId = postJson("/jobs/" + encode(jobId) + "/stop", body).path("request-id").asText("");
    if (triggerId.isEmpty()) throw new IllegalStateException("POST /jobs/" + jobId + "/stop answered without a request id");
    String statusPath = "/jobs/" + encode(jobId) + "/savepoints/" + encode(triggerId);
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      JsonNode answer = getJson(statusPath);
      if (answer.path("status").path("id").asText().equals("COMPLETED")) {
        JsonNode operation = answer.path("operation");
        if (operation.hasNonNull("location")) return operation.path("location").asText();
        throw new IllegalStateException("stop-with-savepoint of job " + jobId + " failed: "
            + operation.path("failure-cause").path("stack-trace").asText(operation.toString()));
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("stop-with-savepoint of job " + jobId + " did not complete within " + timeout
            + " (trigger " + triggerId + " is still " + answer.path("status").path("id").asText() + ")");
      }
      sleep(POLL_INTERVAL);
    }
  }

  /** Cancels the job without a savepoint ({@code PATCH /jobs/:id?mode=cancel}); returns once Flink accepted the request. */
  public void cancel(String jobId) {
    String path = "/jobs/" + encode(jobId) + "?mode=cancel";
    send("PATCH " + path, request(path).method("PATCH", BodyPublishers.noBody()).build(), DEFAULT_REQUEST_TIMEOUT);
  }

  private static Optional<CheckpointRef> checkpointRef(JsonNode node) {
    if (node == null || node.isMissingNode() || node.isNull()) return Optional.empty();
    return Optional.of(new CheckpointRef(node.path("id").asLong(), node.path("external_path").asText(null),
        node.path("is_savepoint").asBoolean(false)));
  }

  private JsonNode getJson(String path) {
    return parse("GET " + path, send("GET " + path, request(path).GET().build(), DEFAULT_REQUEST_TIMEOUT));
  }

  private JsonNode postJson(String path, JsonNode body) {
    HttpRequest request = request(path).header("Content-Type", "application/json")
        .POST(BodyPublishers.ofString(body.toString(), StandardCharsets.UTF_8)).build();
    return parse("POST " + path, send("POST " + path, request, DEFAULT_REQUEST_TIMEOUT));
  }

  private HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(URI.create(baseUrl + path));
  }

  private String send(String what, HttpRequest request, Duration timeout) {
    HttpRequest timed = HttpRequest.newBuilder(request, (name, value) -> true).timeout(timeout).build();
    HttpResponse<String> response;
    try {
      response = http.send(timed, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(what + " to " + baseUrl + " failed (" + e + "); is the Flink cluster running there?"
          + " (scripts/flink-local status)", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted during " + what, e);
    }
    if (response.statusCode() / 100 != 2) {
      throw new FlinkRestException(what + " to " + baseUrl, response.statusCode(), errors(response.body()));
    }
    return response.body();
  }

  private static List<String> errors(String body) {
    try {
      JsonNode errors = JSON.readTree(body).path("errors");
      if (errors.isArray()) {
        List<String> list = new ArrayList<>();
        errors.forEach(e -> list.add(e.asText()));
        return list;
      }
    } catch (JsonProcessingException | RuntimeException e) {
      // not Flink's error JSON; fall through to the raw body
    }
    return body == null || body.isBlank() ? List.of() : List.of(body.strip());
  }

  private static JsonNode parse(String what, String body) {
    try {
      return JSON.readTree(body);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(what + " answered with something that is not JSON: "
          + body.substring(0, Math.min(200, body.length())), e);
    }
  }

  private static String encode(String pathSegment) {
    return URLEncoder.encode(pathSegment, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private static void sleep(Duration duration) {
    try {
      Thread.sleep(duration.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while polling the Flink REST API", e);
    }
  }

  @Override
  public String toString() {
    return "FlinkRestClient[" + baseUrl + "]";
  }
}
