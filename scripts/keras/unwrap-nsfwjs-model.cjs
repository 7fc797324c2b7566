// Unwraps one model of the pinned nsfwjs package into the TF.js layers format on disk: model.json
// (modelTopology + weightsManifest, the format tensorflowjs_converter writes) and the binary weight
// shards named in its manifest. nsfwjs ships each file as a browserify module: model.min.js exports
// the JSON object, each group1-shardXofY.min.js exports the shard's bytes as base64.
//
// usage: node unwrap-nsfwjs-model.cjs NODE_MODULES_DIR MODEL_NAME OUT_DIR
// prints one JSON line: {model, out, layers, shards, bytes}
"use strict";
const fs = require("fs");
const path = require("path");

const [modules, name, out] = process.argv.slice(2);
if (!modules || !name || !out) {
  console.error("usage: node unwrap-nsfwjs-model.cjs NODE_MODULES_DIR MODEL_NAME OUT_DIR");
  process.exit(2);
}
const dir = path.join(modules, "nsfwjs", "dist", "models", name);
if (!fs.existsSync(path.join(dir, "model.min.js"))) {
  const known = fs.readdirSync(path.join(modules, "nsfwjs", "dist", "models"))
    .filter((d) => fs.existsSync(path.join(modules, "nsfwjs", "dist", "models", d, "model.min.js")));
  console.error(`nsfwjs has no model '${name}' in ${dir}; models: ${known.join(", ")}`);
  process.exit(1);
}
const model = require(path.join(dir, "model.min.js"));
if (!model.modelTopology || !Array.isArray(model.weightsManifest)) {
  console.error(`${dir}/model.min.js does not export {modelTopology, weightsManifest}`);
  process.exit(1);
}
fs.mkdirSync(out, { recursive: true });
let bytes = 0;
let shards = 0;
for (const group of model.weightsManifest) {
  for (const shard of group.paths) {
    const base64 = require(path.join(dir, shard + ".min.js"));
    if (typeof base64 !== "string") {
      console.error(`${dir}/${shard}.min.js does not export a base64 string`);
      process.exit(1);
    }
    const data = Buffer.from(base64, "base64");
    fs.writeFileSync(path.join(out, shard + ".bin"), data);
    bytes += data.length;
    shards++;
  }
  group.paths = group.paths.map((p) => p + ".bin");
}
fs.writeFileSync(path.join(out, "model.json"), JSON.stringify(model));
console.log(JSON.stringify({ model: name, out, layers: model.modelTopology.model_config.config.layers.length,
  shards, bytes }));
