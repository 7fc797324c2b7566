// Compares a converted model's import.json with the recorded SHA-256 of scripts/keras/expected-models.json:
// the source files (the unwrapped nsfwjs model) and the SavedModel files (saved_model.pb, variables/*).
// model.json and import.json are not compared: the descriptor follows the chosen preprocessing options.
// usage: node check-manifest.cjs MANIFEST NAME IMPORT_JSON UPDATE(true|false)
"use strict";
const fs = require("fs");
const [manifestFile, name, importFile, update] = process.argv.slice(2);
const record = JSON.parse(fs.readFileSync(importFile, "utf8"));
const manifest = fs.existsSync(manifestFile) ? JSON.parse(fs.readFileSync(manifestFile, "utf8")) : { models: {} };
const savedModel = Object.fromEntries(Object.entries(record.files)
  .filter(([f]) => f === "saved_model.pb" || f.startsWith("variables/")));
const actual = {
  source: record.source, output_layer: record.output_layer, input: record.input,
  embedding_dimension: record.embedding_dimension, parameters: record.parameters,
  source_files: record.source_files, files: savedModel,
};
if (update === "true") {
  manifest.models[name] = actual;
  fs.writeFileSync(manifestFile, JSON.stringify(manifest, null, 2) + "\n");
  console.error(`[check-manifest] recorded ${name} in ${manifestFile}`);
  process.exit(0);
}
const expected = manifest.models[name];
if (!expected) {
  console.error(`error: ${manifestFile} records no model ${name}; run with --update-manifest to record it`);
  process.exit(1);
}
const problems = [];
for (const key of Object.keys(actual)) {
  const a = JSON.stringify(actual[key]);
  const e = JSON.stringify(expected[key]);
  if (a !== e) problems.push(`${key}: expected ${e}, got ${a}`);
}
if (problems.length) {
  console.error(`error: ${name} differs from ${manifestFile}:\n  ${problems.join("\n  ")}\n` +
    "If the converter or the pinned package changed on purpose, rerun with --update-manifest and commit the manifest.");
  process.exit(1);
}
console.error(`[check-manifest] ${name}: SHA-256 of ${Object.keys(savedModel).length} SavedModel files and ` +
  `${Object.keys(record.source_files).length} source files match ${manifestFile}`);
