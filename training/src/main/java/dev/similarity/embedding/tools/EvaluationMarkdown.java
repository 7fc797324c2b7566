package dev.similarity.embedding.tools;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Renders an evaluation report (the JSON map of {@link EvaluateModel}) as markdown tables. */
final class EvaluationMarkdown {

  private EvaluationMarkdown() {}

  @SuppressWarnings("unchecked")
  static String render(Map<String, Object> r) {
    StringBuilder md = new StringBuilder();
    md.append("# Evaluation of ").append(r.get("model_id")).append("\n\n");
    md.append(r.get("dataset")).append(", ").append(r.get("test_images")).append(" images, ")
        .append(r.get("embedding_dimension")).append("-d embeddings, exact cosine search. Generated ")
        .append(r.get("generated_at")).append(" on ").append(r.get("cpu_cores")).append(" cores (load average ")
        .append(r.get("load_average_before")).append(" before, ").append(r.get("load_average_after"))
        .append(" after), TensorFlow ").append(r.get("tensorflow_version")).append(", Java ")
        .append(r.get("java_version")).append(", device ").append(r.get("device")).append(".\n\n");

    md.append("## Retrieval quality\n\n| metric | value |\n|---|---:|\n");
    for (String key : List.of("precision_at_1", "precision_at_5", "precision_at_10", "recall_at_10", "map_at_r",
        "knn_accuracy")) {
      md.append("| ").append(key).append(" | ").append(format(r.get(key))).append(" |\n");
    }
    md.append("\nrecall_at_10: share of queries with at least one same-category image in the top 10. "
        + "knn_accuracy: majority vote of the top ").append(r.get("knn_k")).append(".\n\n");

    md.append("## k-NN confusion matrix (rows: true category, columns: voted category)\n\n");
    List<String> labels = (List<String>) r.get("confusion_matrix_labels");
    long[][] matrix = (long[][]) r.get("confusion_matrix");
    md.append("| true \\ voted |");
    for (int c = 0; c < labels.size(); c++) {
      md.append(' ').append(c).append(" |");
    }
    md.append("\n|---|");
    md.append("---:|".repeat(labels.size()));
    md.append('\n');
    for (int t = 0; t < labels.size(); t++) {
      md.append("| ").append(t).append(' ').append(labels.get(t)).append(" |");
      for (long count : matrix[t]) {
        md.append(' ').append(count).append(" |");
      }
      md.append('\n');
    }

    md.append("\n## Speed\n\nModel load: ").append(r.get("model_load_ms"))
        .append(" ms for the first load in a fresh JVM (TensorFlow's native start-up included)");
    if (r.containsKey("tf_session_model_load_ms")) {
      md.append("; once TensorFlow is up, ").append(r.get("model_load_warm_ms")).append(" ms through DJL and ")
          .append(r.get("tf_session_model_load_ms")).append(" ms through the TF Java session API");
    }
    md.append(". Embedding the test split: ").append(r.get("embed_test_split_seconds")).append(" s.\n\n");
    if (r.containsKey("throughput_images_per_s")) {
      Map<String, Double> e2e = (Map<String, Double>) r.get("throughput_images_per_s");
      Map<String, Double> session = (Map<String, Double>) r.get("tf_session_throughput_images_per_s");
      Map<String, Map<String, Double>> modelOnly =
          (Map<String, Map<String, Double>>) r.get("model_only_throughput_images_per_s");
      Map<String, Double> ratio = (Map<String, Double>) r.get("djl_vs_tf_session_ratio");
      Map<String, Double> ratioModel = (Map<String, Double>) r.get("djl_vs_tf_session_ratio_model_only");
      md.append("Images per second (").append(r.get("throughput_note")).append(").\n\n");
      md.append("| batch | DJL, from PNG | TF session, from PNG | DJL / session | DJL, model only "
          + "| TF session, model only | DJL / session |\n|---:|---:|---:|---:|---:|---:|---:|\n");
      for (String b : e2e.keySet()) {
        md.append("| ").append(b).append(" | ").append(format(e2e.get(b))).append(" | ")
            .append(format(session.get(b))).append(" | ").append(format(ratio.get(b))).append(" | ")
            .append(format(modelOnly.get("djl").get(b))).append(" | ")
            .append(format(modelOnly.get("tf_session").get(b))).append(" | ")
            .append(format(ratioModel.get(b))).append(" |\n");
      }
    }
    md.append("\n## Bars\n\n| bar | met |\n|---|---|\n");
    ((Map<String, Object>) r.get("bars")).forEach((k, v) -> md.append("| ").append(k).append(" | ")
        .append(Boolean.TRUE.equals(v) ? "yes" : "**no**").append(" |\n"));
    return md.toString();
  }

  private static String format(Object value) {
    if (value instanceof Double d) {
      return d >= 100 ? String.format(Locale.ROOT, "%.0f", d) : String.format(Locale.ROOT, "%.4f", d);
    }
    return String.valueOf(value);
  }
}
