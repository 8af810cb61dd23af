package io.solvertune.numerics;

import ai.djl.engine.Engine;

/**
 * What ran the numbers, recorded in provenance next to the {@link CodeVersion}: the Java runtime, the operating
 * system, the DJL and PyTorch (libtorch) versions and the device DJL computes on. Two artifacts that differ only in
 * the last bits can be told apart by these (libtorch kernels and JIT choices differ between versions and devices).
 *
 * @param java    {@code java.version} and {@code java.vendor}, e.g. {@code 17.0.17 (Debian)}
 * @param os      {@code os.name os.version (os.arch)}
 * @param djl     DJL's version ({@link Engine#getDjlVersion()})
 * @param pytorch the PyTorch engine's libtorch version ({@code Engine.getEngine("PyTorch").getVersion()})
 * @param device  the engine's default device ({@code cpu()}, {@code gpu(0)})
 */
public record Platform(String java, String os, String djl, String pytorch, String device) {

    private static final String ENGINE = "PyTorch";

    /** The platform of this JVM (the engine is loaded on first use; every stage computes with it anyway). */
    public static Platform current() {
        return Holder.CURRENT;
    }

    private static final class Holder {
        static final Platform CURRENT = detect();
    }

    private static Platform detect() {
        String java = System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ")";
        String os = System.getProperty("os.name") + " " + System.getProperty("os.version") + " ("
                + System.getProperty("os.arch") + ")";
        Engine engine = Engine.getEngine(ENGINE);
        return new Platform(java, os, Engine.getDjlVersion(), engine.getVersion(), engine.defaultDevice().toString());
    }
}
