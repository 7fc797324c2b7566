package dev.similarity.schemas.wire.internal;

import java.util.IdentityHashMap;
import java.util.Map;
import org.apache.avro.Schema;

/** Schema checks that {@link BoundedBinaryDecoder} relies on. */
public final class SchemaBounds {

  private SchemaBounds() {}

  /**
   * Refuses a schema with an array whose items can encode to zero bytes (null, an empty record, a
   * zero-size fixed): a few bytes could then announce billions of them and the decoder could not
   * bound the count by the input length. Map entries always carry a key of at least one byte.
   *
   * @throws IllegalArgumentException naming the offending array
   */
  public static void requireArrayItemsTakeBytes(Schema schema) {
    walk(schema, schema.getFullName(), new IdentityHashMap<>());
  }

  /**
   * Turns a JSON pointer into {@code schema} such as {@code /fields/10/type} (as Avro's
   * compatibility checker reports) into field names: {@code productId (/fields/10/type)}.
   */
  public static String describeLocation(Schema schema, String pointer) {
    if (pointer == null) return "?";
    StringBuilder names = new StringBuilder();
    Schema current = schema;
    String[] steps = pointer.split("/");
    for (int i = 0; i < steps.length && current != null; i++) {
      String step = steps[i];
      if (step.equals("fields") && i + 1 < steps.length && current.getType() == Schema.Type.RECORD) {
        int index;
        try {
          index = Integer.parseInt(steps[++i]);
        } catch (NumberFormatException e) {
          break;
        }
        if (index < 0 || index >= current.getFields().size()) break;
        Schema.Field field = current.getFields().get(index);
        names.append(names.length() == 0 ? "" : ".").append(field.name());
        current = field.schema();
      } else if (step.equals("items") && current.getType() == Schema.Type.ARRAY) {
        current = current.getElementType();
      } else if (step.equals("values") && current.getType() == Schema.Type.MAP) {
        current = current.getValueType();
      } else if (current.getType() == Schema.Type.UNION && step.matches("\\d+")) {
        int branch = Integer.parseInt(step);
        current = branch < current.getTypes().size() ? current.getTypes().get(branch) : null;
      }
    }
    return names.length() == 0 ? pointer : names + " (" + pointer + ")";
  }

  private static void walk(Schema schema, String path, Map<Schema, Boolean> visited) {
    switch (schema.getType()) {
      case RECORD -> {
        if (visited.put(schema, Boolean.TRUE) != null) return;
        for (Schema.Field field : schema.getFields()) {
          walk(field.schema(), path + "." + field.name(), visited);
        }
      }
      case UNION -> schema.getTypes().forEach(branch -> walk(branch, path, visited));
      case MAP -> walk(schema.getValueType(), path + "{}", visited);
      case ARRAY -> {
        Schema items = schema.getElementType();
        if (minimumEncodedBytes(items, new IdentityHashMap<>()) == 0) {
          throw new IllegalArgumentException("array " + path + " has items of type " + items
              + " that can encode to zero bytes; the bounded decoder cannot bound how many such items an input holds."
              + " Give the items at least one non-empty field.");
        }
        walk(items, path + "[]", visited);
      }
      default -> {}
    }
  }

  private static long minimumEncodedBytes(Schema schema, Map<Schema, Boolean> inProgress) {
    return switch (schema.getType()) {
      case NULL -> 0;
      case FIXED -> schema.getFixedSize();
      case FLOAT -> 4;
      case DOUBLE -> 8;
      case RECORD -> {
        // A record that contains itself is at least one byte deep (it must go through a union or collection).
        if (inProgress.put(schema, Boolean.TRUE) != null) yield 1;
        long sum = 0;
        for (Schema.Field field : schema.getFields()) sum += minimumEncodedBytes(field.schema(), inProgress);
        inProgress.remove(schema);
        yield sum;
      }
      // boolean, int, long, enum, union index, string/bytes length, collection terminator: one byte at least.
      default -> 1;
    };
  }
}
