package dev.similarity.search.internal;

import dev.similarity.embedding.internal.Vectors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.similarity.embedding.CropBox;
import dev.similarity.embedding.CropMode;
import dev.similarity.embedding.ImageDecodingException;
import dev.similarity.embedding.ImageEmbedder;
import dev.similarity.embedding.ObjectCrop;
import dev.similarity.embedding.PhotoEmbedding;
import dev.similarity.index.snapshot.ShardSnapshot.SnapshotHit;
import dev.similarity.index.snapshot.ShardSnapshot.SnapshotProduct;
import dev.similarity.index.snapshot.SnapshotManifest;
import dev.similarity.search.internal.HttpExchanges.Response;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP endpoints. Every request acquires the current {@link SnapshotView} once and answers
 * from it alone, so one response never mixes snapshots of a shard and never sees one closed.
 */
public final class SearchApi implements HttpHandler {

  public static final int DEFAULT_K = 10;
  public static final int MAX_K = 1000;
  static final int DEFAULT_PAGE = 24;
  static final int MAX_PAGE = 1000;
  /** A JSON vector of a few thousand numbers fits easily. */
  static final long MAX_VECTOR_BODY_BYTES = 1 << 20;

  private static final Logger LOG = LoggerFactory.getLogger(SearchApi.class);
  private static final ObjectMapper JSON = JsonMapper.builder().build();
  private static final String JSON_TYPE = "application/json; charset=utf-8";

  private final LiveSnapshots live;
  private final ServiceMetrics metrics;
  private final NeighbourSearch search;
  private final Embedders embedders;
  private final Supplier<SnapshotPoller.PendingSwitch> pendingSwitch;
  private final CropMode uploadCrop;
  private final Semaphore embedding;
  private final int concurrentImages;
  private final String storeLocation;
  private final Clock clock;
  private final byte[] page;

  /**
   * @param embedders the models that embed uploaded images, the one the served snapshots were built
   *     with chosen per request; none: image searches are answered 503
   * @param uploadCrop what is cropped from an uploaded photo before embedding unless the request's
   *     {@code crop} parameter says otherwise
   * @param concurrentImages image requests embedding or waiting for the model, at most; more are
   *     answered 503 at once, so uploads cannot occupy every request thread
   */
  public SearchApi(LiveSnapshots live, ServiceMetrics metrics, NeighbourSearch search, Embedders embedders,
      Supplier<SnapshotPoller.PendingSwitch> pendingSwitch, CropMode uploadCrop, int concurrentImages, String storeLocation, Clock clock, byte[] page) {
    this.live = live;
    this.metrics = metrics;
    this.search = search;
    this.embedders = embedders;
    this.pendingSwitch = pendingSwitch;
    this.uploadCrop = uploadCrop;
    this.embedding = new Semaphore(concurrentImages);
    this.concurrentImages = concurrentImages;
    this.storeLocation = storeLocation;
    this.clock = clock;
    this.page = page;
  }

  @Override
  public void handle(HttpExchange exchange) throws IOException {
    long start = System.nanoTime();
    Endpoint endpoint = Endpoint.OTHER;
    int status = 500;
    boolean recorded = false;
    try (exchange) {
      Response response;
      try {
        String path = exchange.getRequestURI().getPath();
        String method = exchange.getRequestMethod();
        response = switch (path) {
          case "/api/similar" -> {
            endpoint = Endpoint.SIMILAR;
            requireMethod(method, "GET");
            yield similarToProduct(HttpExchanges.query(exchange), start);
          }
          case "/api/similar/image" -> {
            endpoint = Endpoint.SIMILAR_IMAGE;
            requireMethod(method, "POST");
            yield similarToImage(exchange, start);
          }
          case "/api/similar/vector" -> {
            endpoint = Endpoint.SIMILAR_VECTOR;
            requireMethod(method, "POST");
            yield similarToVector(exchange, start);
          }
          case "/api/products" -> {
            endpoint = Endpoint.PRODUCTS;
            requireMethod(method, "GET");
            yield products(HttpExchanges.query(exchange));
          }
          case "/api/health" -> {
            endpoint = Endpoint.HEALTH;
            requireMethod(method, "GET");
            yield health();
          }
          case "/metrics" -> {
            endpoint = Endpoint.METRICS;
            requireMethod(method, "GET");
            yield metricsText();
          }
          case "/", "/index.html" -> {
            endpoint = Endpoint.PAGE;
            requireMethod(method, "GET");
            yield new Response(200, "text/html; charset=utf-8", page, Map.of("Cache-Control", "no-cache"));
          }
          default -> throw new ApiException(404, "no endpoint at " + path
              + ": the API is /api/similar, /api/similar/image, /api/similar/vector, /api/products,"
              + " /api/health and /metrics; the browse page is /");
        };
      } catch (ApiException e) {
        response = error(e.status(), e.getMessage(), e.headers());
      } catch (RuntimeException e) {
        LOG.error("{} {} failed", exchange.getRequestMethod(), exchange.getRequestURI(), e);
        response = error(500, "internal error: " + e, Map.of());
      }
      status = response.status();
      // Counted before the answer leaves: a client that reads /metrics right after it sees it counted.
      metrics.request(endpoint, status, System.nanoTime() - start);
      recorded = true;
      HttpExchanges.send(exchange, response);
    } finally {
      if (!recorded) metrics.request(endpoint, status, System.nanoTime() - start);
    }
  }

  private static void requireMethod(String method, String allowed) throws ApiException {
    if (!method.equals(allowed) && !(allowed.equals("GET") && method.equals("HEAD"))) {
      throw new ApiException(405, method + " is not allowed here; use " + allowed, Map.of("Allow", allowed));
    }
  }

  // ---- similar products ----------------------------------------------------------------------

  private Response similarToProduct(Map<String, String> query, long start) throws ApiException {
    String productId = query.get("product");
    if (productId == null) {
      throw new ApiException(400, "product is required: /api/similar?product=ID&k=10[&category=C]");
    }
    int k = k(query.get("k"));
    String category = query.get("category");
    try (SnapshotView view = live.acquire()) {
      requireSearchable(view);
      // A product is in the shard of its id; it is looked up in every shard (one hash lookup each), so
      // the answer does not depend on how the job routes products.
      SnapshotProduct product = null;
      for (LoadedShard shard : view.shards()) {
        product = shard.snapshot().product(productId).orElse(null);
        if (product != null) {
          break;
        }
      }
      if (product == null) {
        throw new ApiException(404, "product '" + productId + "' is not in the index: no shard snapshot holds it"
            + " (checkpoints " + view.checkpoints() + ")");
      }
      Map<String, Object> queried = new LinkedHashMap<>();
      queried.put("productId", product.productId());
      queried.put("category", product.category());
      queried.put("imageUrl", product.imageUrl());
      return neighbours(view, queried, search.search(view, product.vector(), k, category, productId, product.imageKey()), start);
    }
  }

  private Response similarToImage(HttpExchange exchange, long start) throws ApiException, IOException {
    Map<String, String> query = HttpExchanges.query(exchange);
    int k = k(query.get("k"));
    String category = query.get("category");
    CropMode crop = crop(query.get("crop"));
    if (embedders.isEmpty()) {
      throw new ApiException(503, "image search is off: this service was started without an embedding"
          + " model; start it with --model-dir or --models-dir holding the model the snapshots were built with");
    }
    byte[] image = HttpExchanges.body(exchange, embedders.maxImageBytes(), "the uploaded image",
        "the embedder's maxImageBytes");
    try (SnapshotView view = live.acquire()) {
      // Checked before embedding: an answer that cannot be given does not take an embedding slot.
      SnapshotManifest reference = requireSearchable(view);
      ImageEmbedder embedder = embedders.forModel(reference);
      if (embedder == null) {
        throw new ApiException(503, "image search cannot serve these snapshots: they hold "
            + reference.dimension() + "-dimensional vectors of model " + reference.modelId()
            + ", and no loaded model is that one (loaded: " + String.join(", ", embedders.describe())
            + "); add its folder to --models-dir (or give it as --model-dir) and restart");
      }
      PhotoEmbedding photo = embed(embedder, image, crop);
      Map<String, Object> queried = new LinkedHashMap<>();
      queried.put("image", image.length + " bytes");
      queried.put("modelId", embedder.modelId());
      queried.put("crop", cropAnswer(crop, photo.crop()));
      return neighbours(view, queried, search.search(view, photo.vector(), k, category, null, null), start);
    }
  }

  private CropMode crop(String raw) throws ApiException {
    if (raw == null || raw.isBlank()) {
      return uploadCrop;
    }
    try {
      return CropMode.parse(raw, "crop");
    } catch (IllegalArgumentException e) {
      throw new ApiException(400, e.getMessage() + " (default: " + uploadCrop.text() + ", the service's --crop)");
    }
  }

  /** {@code {requested, applied, outcome, box}}: what was cut from the photo before embedding. */
  private static Map<String, Object> cropAnswer(CropMode requested, ObjectCrop.Result result) {
    Map<String, Object> crop = new LinkedHashMap<>();
    crop.put("requested", requested.text());
    crop.put("applied", result == null ? CropMode.OFF.text() : result.applied().text());
    crop.put("outcome", (result == null ? ObjectCrop.Outcome.OFF : result.outcome()).name()
        .toLowerCase(java.util.Locale.ROOT));
    if (result != null) {
      CropBox box = result.box();
      crop.put("box", Map.of("x0", box.x0(), "y0", box.y0(), "x1", box.x1(), "y1", box.y1()));
    }
    return crop;
  }

  private PhotoEmbedding embed(ImageEmbedder embedder, byte[] image, CropMode crop) throws ApiException {
    if (!embedding.tryAcquire()) {
      throw new ApiException(503, "image search is busy: " + concurrentImages
          + " uploads are being embedded or waiting for the model; retry shortly");
    }
    try {
      return embedder.embed(image, crop);
    } catch (ImageDecodingException e) {
      throw new ApiException(400, "the uploaded image cannot be embedded ("
          + e.reason().name().toLowerCase(java.util.Locale.ROOT) + "): " + e.getMessage());
    } finally {
      embedding.release();
    }
  }

  private Response similarToVector(HttpExchange exchange, long start) throws ApiException, IOException {
    byte[] body = HttpExchanges.body(exchange, MAX_VECTOR_BODY_BYTES, "the JSON body", "1 MiB for vector queries");
    JsonNode request;
    try {
      request = JSON.readTree(body);
    } catch (JsonProcessingException e) {
      throw new ApiException(400, "the body is not JSON: " + e.getOriginalMessage()
          + "; send {\"vector\":[...], \"k\":10, \"category\":\"...\"}");
    }
    if (request == null || !request.isObject()) {
      throw new ApiException(400, "the body must be a JSON object: {\"vector\":[...], \"k\":10, \"category\":\"...\"}");
    }
    JsonNode k = request.get("k");
    if (k != null && !k.isNull() && !k.isIntegralNumber()) {
      throw new ApiException(400, "k is " + k + "; it must be an integer in 1.." + MAX_K);
    }
    int kValue = k == null || k.isNull() ? DEFAULT_K : checkK(k.asLong(), k.toString());
    JsonNode categoryNode = request.get("category");
    if (categoryNode != null && !categoryNode.isNull() && !categoryNode.isTextual()) {
      throw new ApiException(400, "category is " + categoryNode + "; it must be a string");
    }
    String category = categoryNode == null || categoryNode.isNull() || categoryNode.asText().isBlank()
        ? null : categoryNode.asText();
    try (SnapshotView view = live.acquire()) {
      SnapshotManifest reference = requireSearchable(view);
      float[] vector = unitVector(request.get("vector"), reference);
      Map<String, Object> queried = new LinkedHashMap<>();
      queried.put("vector", vector.length + " dimensions, L2-normalised");
      return neighbours(view, queried, search.search(view, vector, kValue, category, null, null), start);
    }
  }

  /** The request's vector divided by its L2 norm: scores are cosines whatever its length was. */
  private static float[] unitVector(JsonNode node, SnapshotManifest reference) throws ApiException {
    if (node == null || !node.isArray()) {
      throw new ApiException(400, "vector is required: a JSON array of " + reference.dimension() + " numbers");
    }
    if (node.size() != reference.dimension()) {
      throw new ApiException(400, "vector has " + node.size() + " components; the served snapshots hold "
          + reference.dimension() + "-dimensional vectors of model " + reference.modelId());
    }
    float[] vector = new float[node.size()];
    double squares = 0;
    for (int i = 0; i < vector.length; i++) {
      JsonNode component = node.get(i);
      if (!component.isNumber()) {
        throw new ApiException(400, "vector[" + i + "] is " + component + "; every component must be a number");
      }
      float x = (float) component.asDouble();
      if (!Float.isFinite(x)) {
        throw new ApiException(400, "vector[" + i + "] is " + component + ", which is not a finite float");
      }
      vector[i] = x;
      squares += (double) x * x;
    }
    double norm = Math.sqrt(squares);
    if (!(norm > 1e-12) || !Double.isFinite(norm)) {
      throw new ApiException(400, "vector has L2 norm " + norm + "; a similarity query needs a non-zero,"
          + " finite vector");
    }
    return Vectors.l2Normalise(vector);
  }

  private Response neighbours(SnapshotView view, Map<String, Object> queried, List<SnapshotHit> hits, long start) {
    List<Map<String, Object>> neighbours = new ArrayList<>(hits.size());
    for (int i = 0; i < hits.size(); i++) {
      SnapshotHit hit = hits.get(i);
      Map<String, Object> n = new LinkedHashMap<>();
      n.put("productId", hit.productId());
      n.put("score", hit.score());
      n.put("rank", i + 1);
      n.put("category", hit.category());
      n.put("imageUrl", hit.imageUrl());
      neighbours.add(n);
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("query", queried);
    body.put("neighbours", neighbours);
    body.put("snapshots", view.checkpoints());
    body.put("tookMs", Math.round((System.nanoTime() - start) / 1e3) / 1e3);
    return json(200, body);
  }

  // ---- browsing, health, metrics ------------------------------------------------------------

  private Response products(Map<String, String> query) throws ApiException {
    int from = intParameter(query, "from", 0, 0, Integer.MAX_VALUE);
    int count = intParameter(query, "count", DEFAULT_PAGE, 1, MAX_PAGE);
    try (SnapshotView view = live.acquire()) {
      List<Map<String, Object>> products = new ArrayList<>(count);
      int skip = from;
      for (LoadedShard shard : view.shards()) {
        int documents = shard.snapshot().documentCount();
        if (products.size() >= count) {
          break;
        }
        if (skip >= documents) {
          skip -= documents;
          continue;
        }
        for (SnapshotProduct p : shard.snapshot().products(skip, count - products.size())) {
          Map<String, Object> product = new LinkedHashMap<>();
          product.put("productId", p.productId());
          product.put("category", p.category());
          product.put("imageUrl", p.imageUrl());
          product.put("shard", shard.manifest().shard());
          products.add(product);
        }
        skip = 0;
      }
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("products", products);
      body.put("from", from);
      body.put("total", view.documentCount());
      body.put("snapshots", view.checkpoints());
      return json(200, body);
    }
  }

  private Response health() {
    try (SnapshotView view = live.acquire()) {
      Instant now = clock.instant();
      List<String> problems = problems(view);
      Map<String, Object> shards = new LinkedHashMap<>();
      for (LoadedShard shard : view.shards()) {
        SnapshotManifest m = shard.manifest();
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("checkpointId", m.checkpointId());
        s.put("documents", shard.snapshot().documentCount());
        s.put("createdAt", m.createdAt().toString());
        s.put("ageSeconds", Duration.between(m.createdAt(), now).toMillis() / 1000.0);
        s.put("modelId", m.modelId());
        s.put("dimension", m.dimension());
        shards.put(Integer.toString(m.shard()), s);
      }
      Map<String, Object> body = new LinkedHashMap<>();
      Map<Integer, ServiceMetrics.Refusal> refused = metrics.refusals();
      body.put("status", !problems.isEmpty() ? "unavailable" : refused.isEmpty() ? "ok" : "degraded");
      if (!problems.isEmpty()) {
        body.put("problems", problems);
      }
      if (!refused.isEmpty()) {
        body.put("refused", refusals(refused));
      }
      body.put("store", storeLocation);
      SnapshotManifest reference = view.reference();
      body.put("shardCount", reference == null ? null : reference.shardCount());
      body.put("documents", view.documentCount());
      body.put("shards", shards);
      SnapshotPoller.PendingSwitch next = pendingSwitch.get();
      if (next != null) {
        // Served meanwhile: the complete view of the old model.
        Map<String, Object> switching = new LinkedHashMap<>();
        switching.put("modelId", next.to().modelId());
        switching.put("dimension", next.to().dimension());
        switching.put("shardsReady", next.shardsReady());
        switching.put("shardCount", next.shardCount());
        switching.put("imageSearchReady", embedders.isEmpty() ? null
            : embedders.describe().contains(next.to().toString()));
        body.put("modelSwitch", switching);
      }
      if (!embedders.isEmpty()) {
        ImageEmbedder serving = embedders.forModel(reference);
        Map<String, Object> image = new LinkedHashMap<>();
        image.put("modelId", serving == null ? null : serving.modelId());
        image.put("matchesSnapshots", serving != null);
        image.put("models", embedders.describe());
        body.put("imageSearch", image);
      } else {
        body.put("imageSearch", "off (no --model-dir or --models-dir)");
      }
      return json(problems.isEmpty() ? 200 : 503, body);
    }
  }

  /** Shards whose newest snapshot is not served: which snapshot, why, and what is served instead. */
  private static List<Map<String, Object>> refusals(Map<Integer, ServiceMetrics.Refusal> refused) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (ServiceMetrics.Refusal r : refused.values()) {
      Map<String, Object> refusal = new LinkedHashMap<>();
      refusal.put("shard", r.shard());
      refusal.put("checkpointId", r.checkpointId());
      refusal.put("reason", r.reason().label());
      refusal.put("message", r.message());
      refusal.put("servedCheckpointId", r.servedCheckpointId());
      refusal.put("since", r.since().toString());
      out.add(refusal);
    }
    return out;
  }

  private Response metricsText() {
    try (SnapshotView view = live.acquire()) {
      Integer matches = embedders.isEmpty() ? null : (embedders.forModel(view.reference()) != null ? 1 : 0);
      return new Response(200, "text/plain; version=0.0.4; charset=utf-8",
          metrics.render(view, clock.instant(), matches).getBytes(StandardCharsets.UTF_8));
    }
  }

  // ---- helpers -------------------------------------------------------------------------------

  /** The view's reference manifest, or 503 naming what is missing or inconsistent. */
  private SnapshotManifest requireSearchable(SnapshotView view) throws ApiException {
    List<String> problems = problems(view);
    if (!problems.isEmpty()) {
      throw new ApiException(503, "the index cannot be searched yet: " + String.join("; ", problems));
    }
    return view.reference();
  }

  private List<String> problems(SnapshotView view) {
    if (view.shards().isEmpty()) {
      return List.of("no shard snapshot is loaded from " + storeLocation + " (none is published yet, or none"
          + " could be loaded: see search_snapshot_load_failures_total in /metrics)");
    }
    return view.problems();
  }

  private static int k(String raw) throws ApiException {
    if (raw == null) {
      return DEFAULT_K;
    }
    try {
      return checkK(Long.parseLong(raw.trim()), raw);
    } catch (NumberFormatException e) {
      throw new ApiException(400, "k is '" + raw + "'; it must be an integer in 1.." + MAX_K);
    }
  }

  private static int checkK(long k, String raw) throws ApiException {
    if (k < 1 || k > MAX_K) {
      throw new ApiException(400, "k is " + raw + "; it must be in 1.." + MAX_K);
    }
    return (int) k;
  }

  private static int intParameter(Map<String, String> query, String name, int fallback, int min, int max)
      throws ApiException {
    String raw = query.get(name);
    if (raw == null) {
      return fallback;
    }
    try {
      long value = Long.parseLong(raw.trim());
      if (value < min || value > max) {
        throw new ApiException(400, name + " is " + raw + "; it must be in " + min + ".." + max);
      }
      return (int) value;
    } catch (NumberFormatException e) {
      throw new ApiException(400, name + " is '" + raw + "'; it must be an integer in " + min + ".." + max);
    }
  }

  private static Response json(int status, Object body) {
    try {
      return new Response(status, JSON_TYPE, JSON.writeValueAsBytes(body), Map.of("Cache-Control", "no-store"));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write a response as JSON", e);
    }
  }

  private static Response error(int status, String message, Map<String, String> extraHeaders) {
    Map<String, String> headers = new LinkedHashMap<>(extraHeaders);
    headers.put("Cache-Control", "no-store");
    Response body = json(status, Map.of("error", message));
    return new Response(status, body.contentType(), body.body(), headers);
  }
}
