package dev.similarity.embedding;

import java.util.Locale;

/** What {@link ObjectCrop} does to a photo before it is embedded. */
public enum CropMode {
  /** The whole photo, untouched. */
  OFF,
  /** Cropped to the localised product's box. */
  BOX,
  /** Cropped to the box, the background around the product painted black like a catalogue image's. */
  CUTOUT;

  /** {@code off}, {@code box} or {@code cutout}: the spelling of options and query parameters. */
  public String text() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * The mode spelt {@code text} (case-insensitive).
   *
   * @param what names the option or parameter in the error, e.g. {@code "crop"}
   * @throws IllegalArgumentException naming the allowed values
   */
  public static CropMode parse(String text, String what) {
    if (text != null) {
      for (CropMode mode : values()) {
        if (mode.text().equals(text.trim().toLowerCase(Locale.ROOT))) {
          return mode;
        }
      }
    }
    return fail(what + " is '" + text + "'; it must be off, box or cutout");
  }

  private static CropMode fail(String message) {
    throw new IllegalArgumentException(message);
  }
}
