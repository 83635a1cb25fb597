package io.qalora.lora;

/** The engine's identity, recorded in every result's provenance. */
public final class EngineInfo {

    /** Bumped whenever a change can alter a trained result for the same inputs and seed. */
    public static final String VERSION = "qalora-engine/1.0 (nd4j 1.0.0-M2.1)";

    private EngineInfo() {
    }
}
