package dev.similarity.embedding;

/**
 * Kinds of metadata block an encoded image carries beside its pixels. The decoder reads them
 * before the pixels; a damaged block is ignored (the image is still decoded from its pixels) and
 * reported through {@link EmbeddingResult#ignoredMetadata()}.
 */
public enum ImageMetadata {
  /**
   * An embedded ICC colour profile (JPEG APP2 {@code ICC_PROFILE} chunks, WebP {@code ICCP}).
   * Ignored: colours are read as sRGB (for CMYK JPEGs, through the reader's generic CMYK profile).
   */
  ICC_PROFILE,
  /**
   * An EXIF block (JPEG APP1 {@code Exif}, PNG {@code eXIf}), read for its Orientation tag.
   * Ignored: the image is taken as stored (orientation 1).
   */
  EXIF,
  /** An XMP packet (JPEG APP1 {@code http://ns.adobe.com/xap/1.0/}); never used for the pixels. */
  XMP
}
