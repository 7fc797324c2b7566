package dev.similarity.flink.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.similarity.local.LoopbackPorts;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the client sends and how it reads Flink's answers, against a loopback HTTP server that answers
 * as Flink 2.2's REST API does. LocalFlinkClusterITCase runs the same calls against a real cluster.
 */
class FlinkRestClientTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path tempDir;

  private HttpServer server;
  private FlinkRestClient client;
  /** Answers per "METHOD path", taken in order; the last one repeats. */
  private final Map<String, Queue<Answer>> answers = new ConcurrentHashMap<>();
  private final Map<String, byte[]> bodies = new ConcurrentHashMap<>();
  private final Map<String, String> contentTypes = new ConcurrentHashMap<>();

  private record Answer(int status, String body) {}

  @BeforeEach
  void startServer() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getByName(LoopbackPorts.HOST), 0), 0);
    server.createContext("/", this::handle);
    server.start();
    client = new FlinkRestClient("http://127.0.0.1:" + server.getAddress().getPort() + "/");
  }

  @AfterEach
  void stopServer() {
    server.stop(0);
  }

  @Test
  void uploadSendsTheJarAsTheWebUisMultipartFieldJarfileAndReturnsTheStoredFileName() throws Exception {
    byte[] jarBytes = new byte[300_000];
    new java.util.Random(7).nextBytes(jarBytes);
    Path jar = Files.write(tempDir.resolve("indexer-job.jar"), jarBytes);
    answer("POST /jars/upload", 200, "{\"filename\":\"/tmp/flink-web-upload/0b9c4e2a-77d1_indexer-job.jar\",\"status\":\"success\"}");

    String jarId = client.uploadJar(jar);

    assertThat(jarId).isEqualTo("0b9c4e2a-77d1_indexer-job.jar");
    String contentType = contentTypes.get("POST /jars/upload");
    assertThat(contentType).startsWith("multipart/form-data; boundary=");
    String boundary = contentType.substring(contentType.indexOf("boundary=") + "boundary=".length());
    byte[] body = bodies.get("POST /jars/upload");
    String head = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"jarfile\"; filename=\"indexer-job.jar\"\r\n"
        + "Content-Type: application/x-java-archive\r\n\r\n";
    String tail = "\r\n--" + boundary + "--\r\n";
    assertThat(new String(body, 0, head.length(), StandardCharsets.ISO_8859_1)).isEqualTo(head);
    assertThat(Arrays.copyOfRange(body, head.length(), head.length() + jarBytes.length)).isEqualTo(jarBytes);
    assertThat(new String(body, head.length() + jarBytes.length, body.length - head.length() - jarBytes.length, StandardCharsets.ISO_8859_1))
        .isEqualTo(tail);
  }

  @Test
  void uploadRefusesWhatFlinkWouldRefuse() throws Exception {
    Path notAJar = Files.writeString(tempDir.resolve("job.zip"), "x");
    assertThatThrownBy(() -> client.uploadJar(notAJar)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Flink accepts only files named *.jar");
    assertThatThrownBy(() -> client.uploadJar(tempDir.resolve("missing.jar"))).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("does not exist");
  }

  @Test
  void runSendsTheWebUisRequestBodyAndReturnsTheJobId() throws Exception {
    answer("POST /jars/abc_job.jar/run", 200, "{\"jobid\":\"5bd7265c8faee706565e6da3c8f134fc\"}");

    String jobId = client.run("abc_job.jar", "dev.similarity.flink.StreamingIndexerJob", List.of("--set", "a=b c"), 3,
        "file:/work/flink/savepoints/savepoint-1", true);

    assertThat(jobId).isEqualTo("5bd7265c8faee706565e6da3c8f134fc");
    JsonNode body = JSON.readTree(bodies.get("POST /jars/abc_job.jar/run"));
    assertThat(body.path("entryClass").asText()).isEqualTo("dev.similarity.flink.StreamingIndexerJob");
    assertThat(body.path("programArgsList")).hasSize(2);
    assertThat(body.path("programArgsList").get(1).asText()).isEqualTo("a=b c");
    assertThat(body.path("parallelism").asInt()).isEqualTo(3);
    assertThat(body.path("savepointPath").asText()).isEqualTo("file:/work/flink/savepoints/savepoint-1");
    assertThat(body.path("allowNonRestoredState").asBoolean()).isTrue();
    assertThat(contentTypes.get("POST /jars/abc_job.jar/run")).isEqualTo("application/json");
  }

  @Test
  void runWithoutOptionsLeavesThemToTheJarAndTheCluster() throws Exception {
    answer("POST /jars/abc_job.jar/run", 200, "{\"jobid\":\"j1\"}");

    client.run("abc_job.jar", null, List.of(), null, null);

    JsonNode body = JSON.readTree(bodies.get("POST /jars/abc_job.jar/run"));
    assertThat(body.has("entryClass")).isFalse();
    assertThat(body.has("parallelism")).isFalse();
    assertThat(body.has("savepointPath")).isFalse();
    assertThat(body.path("allowNonRestoredState").asBoolean()).isFalse();
  }

  @Test
  void flinksErrorsAreReportedWithTheStatusAndWhatFlinkSaid() {
    answer("POST /jars/gone.jar/run", 400, "{\"errors\":[\"Jar file /tmp/flink-web-upload/gone.jar does not exist\"]}");

    assertThatThrownBy(() -> client.run("gone.jar", null, List.of(), null, null))
        .isInstanceOf(FlinkRestException.class)
        .hasMessageContaining("HTTP 400")
        .hasMessageContaining("gone.jar does not exist")
        .satisfies(e -> assertThat(((FlinkRestException) e).statusCode()).isEqualTo(400));
  }

  @Test
  void stopWithSavepointPollsTheTriggerUntilTheSavepointIsWritten() throws Exception {
    answer("POST /jobs/j1/stop", 202, "{\"request-id\":\"t1\"}");
    answer("GET /jobs/j1/savepoints/t1", 200, "{\"status\":{\"id\":\"IN_PROGRESS\"},\"operation\":null}");
    answer("GET /jobs/j1/savepoints/t1", 200, "{\"status\":{\"id\":\"COMPLETED\"},\"operation\":{\"location\":\"file:/sp/savepoint-j1-1\"}}");

    String savepoint = client.stopWithSavepoint("j1", "file:///sp", Duration.ofSeconds(10));

    assertThat(savepoint).isEqualTo("file:/sp/savepoint-j1-1");
    JsonNode body = JSON.readTree(bodies.get("POST /jobs/j1/stop"));
    assertThat(body.path("targetDirectory").asText()).isEqualTo("file:///sp");
    assertThat(body.path("drain").asBoolean()).isFalse();
  }

  @Test
  void aFailedSavepointIsReportedWithFlinksCause() {
    answer("POST /jobs/j1/stop", 202, "{\"request-id\":\"t1\"}");
    answer("GET /jobs/j1/savepoints/t1", 200,
        "{\"status\":{\"id\":\"COMPLETED\"},\"operation\":{\"failure-cause\":{\"stack-trace\":\"CheckpointException: disk full\"}}}");

    assertThatThrownBy(() -> client.stopWithSavepoint("j1", null, Duration.ofSeconds(10)))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("stop-with-savepoint of job j1 failed: CheckpointException: disk full");
  }

  @Test
  void checkpointStatsReadCountsAndTheLatestCheckpoints() {
    answer("GET /jobs/j1/checkpoints", 200, """
        {"counts":{"restored":1,"total":12,"in_progress":1,"completed":10,"failed":1},
         "latest":{"completed":{"id":12,"external_path":"file:/c/j1/chk-12","is_savepoint":false},
                   "restored":{"id":3,"external_path":"file:/sp/savepoint-1","is_savepoint":true},
                   "savepoint":null,"failed":null}}""");

    FlinkRestClient.CheckpointStats stats = client.checkpoints("j1");

    assertThat(stats.completed()).isEqualTo(10);
    assertThat(stats.failed()).isEqualTo(1);
    assertThat(stats.inProgress()).isEqualTo(1);
    assertThat(stats.restored()).isEqualTo(1);
    assertThat(stats.latestCompleted()).contains(new FlinkRestClient.CheckpointRef(12, "file:/c/j1/chk-12", false));
    assertThat(stats.latestRestored()).contains(new FlinkRestClient.CheckpointRef(3, "file:/sp/savepoint-1", true));
  }

  @Test
  void jobInfoSumsTheSubtaskStatesOfAllVertices() {
    answer("GET /jobs/j1", 200, """
        {"jid":"j1","name":"indexer","state":"RUNNING","vertices":[
          {"id":"v1","tasks":{"RUNNING":2,"DEPLOYING":0,"FINISHED":0}},
          {"id":"v2","tasks":{"RUNNING":1,"DEPLOYING":1,"FINISHED":0}}]}""");

    FlinkRestClient.JobInfo job = client.job("j1");

    assertThat(job.state()).isEqualTo("RUNNING");
    assertThat(job.tasksIn("RUNNING")).isEqualTo(3);
    assertThat(job.tasksIn("DEPLOYING")).isEqualTo(1);
    assertThat(job.fullyRunning()).isFalse();
  }

  @Test
  void cancelUsesPatchWithModeCancel() {
    answer("PATCH /jobs/j1?mode=cancel", 202, "{}");

    client.cancel("j1");

    assertThat(bodies).containsKey("PATCH /jobs/j1?mode=cancel");
  }

  @Test
  void anUnreachableClusterIsReportedWithAHint() {
    int port = LoopbackPorts.pickFree();
    FlinkRestClient nobody = new FlinkRestClient("http://127.0.0.1:" + port);
    assertThatThrownBy(nobody::overview).isInstanceOf(UncheckedIOException.class)
        .hasMessageContaining("GET /overview to http://127.0.0.1:" + port + " failed")
        .hasMessageContaining("is the Flink cluster running there?");
  }

  @Test
  void refusesAClusterUrlThatIsNotHttp() {
    for (String url : List.of("127.0.0.1:8081", "localhost:8081", "ftp://127.0.0.1/")) {
      assertThatThrownBy(() -> new FlinkRestClient(url)).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("cluster URL '" + url + "' is not an http(s) URL with a host");
    }
  }

  private void answer(String request, int status, String body) {
    answers.computeIfAbsent(request, k -> new ArrayDeque<>()).add(new Answer(status, body));
  }

  private void handle(HttpExchange exchange) throws IOException {
    String query = exchange.getRequestURI().getRawQuery();
    String request = exchange.getRequestMethod() + " " + exchange.getRequestURI().getRawPath() + (query == null ? "" : "?" + query);
    bodies.put(request, exchange.getRequestBody().readAllBytes());
    String contentType = exchange.getRequestHeaders().getFirst("Content-Type");
    if (contentType != null) contentTypes.put(request, contentType);
    Queue<Answer> queue = answers.get(request);
    Answer answer = queue == null ? new Answer(404, "{\"errors\":[\"Not found: " + request + "\"]}")
        : queue.size() > 1 ? queue.poll() : queue.peek();
    byte[] bytes = answer.body().getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().add("Content-Type", "application/json; charset=UTF-8");
    exchange.sendResponseHeaders(answer.status(), bytes.length);
    exchange.getResponseBody().write(bytes);
    exchange.close();
  }
}
