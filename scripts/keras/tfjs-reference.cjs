// The numerical reference of the Keras import: embeds PNG images with TensorFlow.js running the
// ORIGINAL nsfwjs model files (loaded by nsfwjs itself from its bundled JS modules) and nsfwjs'
// own preprocessing (NSFWJS.infer: pixel / 255, tf.image.resizeBilinear(..., alignCorners=true)
// to the model's square input), and prints the output of one layer per image.
//
// Decoding is ours because Node has no canvas: pngjs gives 8-bit RGBA; a transparent pixel is laid
// over the grey level PAD as (value * alpha + PAD * (255 - alpha)) / 255, the same formula as the
// Java embedder's ImagePreprocessor. Only PNGs are accepted (JPEG decoders differ in rounding).
//
// usage: node tfjs-reference.cjs NODE_MODULES MODEL LAYER IMAGES_DIR OUT_JSON [--backend wasm|cpu] [--pad 255]
//   MODEL: InceptionV3 | MobileNetV2 (nsfwjs model names); LAYER: e.g. flatten_1
// OUT_JSON: {model, layer, backend, versions, preprocessing, images: {file: [values...]}}
"use strict";
const fs = require("fs");
const path = require("path");

async function main() {
  const args = process.argv.slice(2);
  const positional = args.filter((a, i) => !a.startsWith("--") && !(i > 0 && args[i - 1].startsWith("--")));
  const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
  const [modules, modelName, layer, imagesDir, outFile] = positional;
  if (!outFile) {
    console.error("usage: node tfjs-reference.cjs NODE_MODULES MODEL LAYER IMAGES_DIR OUT_JSON [--backend wasm|cpu] [--pad 255]");
    process.exit(2);
  }
  const backend = option("--backend", "wasm");
  const pad = Number(option("--pad", "255"));
  const need = (name) => require(path.join(modules, name));
  const tf = need("@tensorflow/tfjs");
  if (backend === "wasm") {
    need("@tensorflow/tfjs-backend-wasm");
  }
  if (!(await tf.setBackend(backend))) {
    throw new Error(`TF.js backend ${backend} is not available`);
  }
  await tf.ready();
  const nsfwjs = need("nsfwjs");
  const started = Date.now();
  const model = await nsfwjs.load(modelName);
  const loadSeconds = (Date.now() - started) / 1000;
  const { PNG } = need("pngjs");
  const files = fs.readdirSync(imagesDir).filter((f) => f.endsWith(".png")).sort();
  const images = {};
  const t0 = Date.now();
  for (const file of files) {
    const png = PNG.sync.read(fs.readFileSync(path.join(imagesDir, file)));
    const rgb = new Float32Array(png.width * png.height * 3);
    for (let i = 0; i < png.width * png.height; i++) {
      const a = png.data[4 * i + 3];
      for (let c = 0; c < 3; c++) {
        const v = png.data[4 * i + c];
        rgb[3 * i + c] = a === 255 ? v : (v * a + pad * (255 - a)) / 255;
      }
    }
    const features = tf.tidy(() => model.infer(tf.tensor3d(rgb, [png.height, png.width, 3], "float32"), layer));
    images[file] = Array.from(await features.data());
    features.dispose();
    process.stderr.write(`\r${Object.keys(images).length}/${files.length} images`);
  }
  process.stderr.write("\n");
  const perImage = (Date.now() - t0) / 1000 / Math.max(1, files.length);
  const version = (name) => JSON.parse(fs.readFileSync(path.join(modules, name, "package.json"))).version;
  fs.writeFileSync(outFile, JSON.stringify({
    model: modelName, layer, backend, pad,
    versions: { nsfwjs: version("nsfwjs"), tfjs: version("@tensorflow/tfjs"), pngjs: version("pngjs"),
      "tfjs-backend-wasm": backend === "wasm" ? version("@tensorflow/tfjs-backend-wasm") : null },
    preprocessing: "nsfwjs NSFWJS.infer: pixel / 255, resizeBilinear(alignCorners=true) to the input size",
    load_seconds: loadSeconds, seconds_per_image: perImage, images,
  }));
  console.log(JSON.stringify({ model: modelName, layer, backend, images: files.length,
    load_seconds: loadSeconds, seconds_per_image: Math.round(perImage * 1000) / 1000 }));
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(1);
});
