package io.solvertune.numerics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import io.solvertune.tuning.Json;
import org.junit.jupiter.api.Test;

/** The platform in provenance is the one that runs: this JVM, this OS, the loaded DJL and libtorch, its device. */
class PlatformTest {

    @Test
    void recordsTheRunningJavaOsDjlPytorchAndDevice() throws Exception {
        Platform p = Platform.current();
        assertSame(p, Platform.current(), "detected once");
        assertTrue(p.java().startsWith(Runtime.version().feature() + ".") || p.java().startsWith(
                String.valueOf(Runtime.version().feature())), p.java());
        assertTrue(p.java().contains(System.getProperty("java.vendor")), p.java());
        assertTrue(p.os().startsWith(System.getProperty("os.name") + " " + System.getProperty("os.version")), p.os());
        assertEquals(Engine.getDjlVersion(), p.djl());
        assertEquals("0.36.0", p.djl(), "the DJL of pom.xml");
        assertTrue(p.pytorch().matches("\\d+\\.\\d+\\.\\d+.*"), p.pytorch());
        assertEquals(Engine.getEngine("PyTorch").getVersion(), p.pytorch());
        assertEquals(Engine.getEngine("PyTorch").defaultDevice().toString(), p.device());
        // the JSON of provenance: every field, by name, and back
        var tree = Json.MAPPER.valueToTree(p);
        assertEquals(5, tree.size(), tree.toString());
        assertEquals(p, Json.MAPPER.treeToValue(tree, Platform.class));
    }
}
