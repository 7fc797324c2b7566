package dev.similarity.flink.upgrade;

import dev.similarity.flink.index.NeighbourListUpdate;

/** A list on its way to the lists topic during a model upgrade: of the new model ({@code next}) or of the previous one. */
public record ModelList(boolean next, NeighbourListUpdate update) {}
