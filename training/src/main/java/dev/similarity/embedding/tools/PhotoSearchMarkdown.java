package dev.similarity.embedding.tools;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Renders a photo-search report (the JSON map of {@link EvaluatePhotoSearch}) as markdown. */
final class PhotoSearchMarkdown {

  private PhotoSearchMarkdown() {}

  @SuppressWarnings("unchecked")
  static String render(Map<String, Object> r) {
    StringBuilder md = new StringBuilder("# Photo-to-catalogue search\n\n");
    md.append(r.get("task")).append(". ").append(r.get("dataset")).append(". Photos: ").append(r.get("photos"))
        .append(". Seed ").append(r.get("seed")).append(".\n\n");
    md.append(table((List<Map<String, Object>>) r.get("models")));
    md.append("\n").append(r.get("metrics")).append(".\n\nCrop: ").append(r.get("crop")).append(".");
    Map<String, Object> crop = (Map<String, Object>) r.get("crop_localisation");
    crop.forEach((size, q) -> md.append(" Queries/gallery ").append(size).append(": ").append(q).append('.'));
    md.append("\n");
    List<Map<String, Object>> missing = (List<Map<String, Object>>) r.get("missing_models");
    if (!missing.isEmpty()) {
      md.append("\n## Missing models\n\n");
      for (Map<String, Object> m : missing) {
        md.append("- ").append(m.get("name")).append(": ").append(m.get("reason")).append('\n');
      }
    }
    List<Map<String, Object>> heads = (List<Map<String, Object>>) r.get("heads");
    if (!heads.isEmpty()) {
      md.append("\n## Trained heads\n\n");
      for (Map<String, Object> h : heads) {
        md.append("- ").append(h.get("name")).append(": ").append(h.get("network")).append(", ").append(h.get("loss"))
            .append(", ").append(h.get("epochs")).append(" epochs on ").append(h.get("training_items"))
            .append(" items (").append(h.get("views_per_item")).append("; ").append(h.get("training_data"))
            .append("), loss ").append(first(h.get("loss_by_epoch"))).append(" -> ").append(last(h.get("loss_by_epoch")))
            .append("; render ").append(h.get("render_seconds")).append(" s, features ").append(h.get("feature_seconds"))
            .append(" s, training ").append(h.get("train_seconds")).append(" s; exported to ")
            .append(h.get("model_dir")).append('\n');
      }
    }
    md.append("\n## Bars\n\n| bar | met |\n|---|---|\n");
    ((Map<String, Object>) r.get("bars")).forEach((k, v) -> md.append("| ").append(k).append(" | ")
        .append(Boolean.TRUE.equals(v) ? "yes" : "**no**").append(" |\n"));
    md.append("\nGenerated ").append(r.get("generated_at")).append(" in ").append(r.get("wall_seconds"))
        .append(" s on ").append(r.get("cpu_cores")).append(" cores (load average ").append(r.get("load_average_before"))
        .append(" before, ").append(r.get("load_average_after")).append(" after), TensorFlow ")
        .append(r.get("tensorflow_version")).append(", Java ").append(r.get("java_version")).append(".\n");
    return md.toString();
  }

  /** The models table alone, as the README shows it. */
  static String table(List<Map<String, Object>> rows) {
    StringBuilder md = new StringBuilder("| model | dimension | crop | queries / gallery | exact-item recall@1 "
        + "| exact-item recall@10 | precision@10 | mean rank |\n|---|---:|---|---:|---:|---:|---:|---:|\n");
    for (Map<String, Object> row : rows) {
      md.append("| ").append(row.get("name")).append(" | ").append(row.get("dimension")).append(" | ")
          .append(Boolean.TRUE.equals(row.get("crop")) ? "on (" + row.get("crop_mode") + ")" : "off").append(" | ").append(row.get("queries"))
          .append(" / ").append(row.get("gallery")).append(" | ").append(format(row.get("exact_item_recall_at_1")))
          .append(" | ").append(format(row.get("exact_item_recall_at_10"))).append(" | ")
          .append(format(row.get("precision_at_10"))).append(" | ").append(row.get("mean_rank")).append(" |\n");
    }
    return md.toString();
  }

  private static Object first(Object list) {
    return list instanceof List<?> l && !l.isEmpty() ? l.getFirst() : "-";
  }

  private static Object last(Object list) {
    return list instanceof List<?> l && !l.isEmpty() ? l.getLast() : "-";
  }

  private static String format(Object value) {
    return value instanceof Double d ? String.format(Locale.ROOT, "%.3f", d) : String.valueOf(value);
  }
}
