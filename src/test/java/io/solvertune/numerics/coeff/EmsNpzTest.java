package io.solvertune.numerics.coeff;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.solvertune.numerics.io.Npy;
import io.solvertune.numerics.io.NpyArray;
import io.solvertune.numerics.schedule.BetaSchedule;
import io.solvertune.numerics.schedule.ScheduleSpec;
import io.solvertune.numerics.schedule.VpDiscreteSchedule;
import io.solvertune.testing.ReferenceProblem;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmsNpzTest {
    @TempDir
    Path tmp;

    static EmpiricalModelStatistics reference() throws IOException {
        return EmsNpz.read(ReferenceProblem.resource("ems_public_gmm_sd_d8"), 1.0, 1e-3);
    }

    @Test
    void readsTheOfficialLayout() throws IOException {
        EmpiricalModelStatistics e = reference();
        assertEquals(240, e.gridSteps());
        assertArrayEquals(new long[] {8, 1, 1}, e.sampleShape());
        Map<String, NpyArray> l = Npy.readNpz(ReferenceProblem.resource("ems_public_gmm_sd_d8/l.npz"));
        Map<String, NpyArray> sb = Npy.readNpz(ReferenceProblem.resource("ems_public_gmm_sd_d8/sb.npz"));
        assertArrayEquals(l.get("l").doubles(), e.l(), 0.0);
        assertArrayEquals(sb.get("s").doubles(), e.s(), 0.0);
        assertArrayEquals(sb.get("b").doubles(), e.b(), 0.0);
        assertEquals(1.0, e.tStart());
        assertEquals(1e-3, e.tEnd());
        assertNull(e.description());
    }

    @Test
    void roundTripFloat64WithMetadata() throws IOException {
        ScheduleSpec schedule = VpDiscreteSchedule.preset(BetaSchedule.SCALED_LINEAR, 1000).spec();
        EmpiricalModelStatistics e = reference().withProvenance(schedule, "gmm sd d8, exact statistics");
        Path dir = tmp.resolve("ems");
        EmsNpz.write(dir, e);
        // official layout: l.npz holds only l, sb.npz holds s and b, each [K + 1, ...sampleShape] float64
        Map<String, NpyArray> l = Npy.readNpz(dir.resolve("l.npz"));
        Map<String, NpyArray> sb = Npy.readNpz(dir.resolve("sb.npz"));
        assertEquals(List.of("l"), List.copyOf(l.keySet()));
        assertEquals(List.of("s", "b"), List.copyOf(sb.keySet()));
        assertArrayEquals(new long[] {241, 8, 1, 1}, l.get("l").shape());
        assertEquals(NpyArray.NpyDtype.FLOAT64, sb.get("b").dtype());

        EmpiricalModelStatistics back = EmsNpz.read(dir);
        assertEquals(e, back);
        assertEquals(e.metadata(), back.metadata());
        assertEquals("gmm sd d8, exact statistics", back.description());
        assertEquals("float64", EmsMetadata.read(dir.resolve("ems.json")).dtype());
        // an official reader only needs l.npz / sb.npz
        assertArrayEquals(e.b(), EmsNpz.read(dir, 1.0, 1e-3).b(), 0.0);
    }

    @Test
    void roundTripFloat32() throws IOException {
        EmpiricalModelStatistics e = reference();
        Path dir = tmp.resolve("ems32");
        EmsNpz.write(dir, e, NpyArray.NpyDtype.FLOAT32);
        assertEquals(NpyArray.NpyDtype.FLOAT32, Npy.readNpz(dir.resolve("sb.npz")).get("s").dtype());
        assertEquals("float32", EmsMetadata.read(dir.resolve("ems.json")).dtype());
        EmpiricalModelStatistics back = EmsNpz.read(dir);
        double[] a = e.s();
        double[] b = back.s();
        for (int i = 0; i < a.length; i++) {
            assertEquals((double) (float) a[i], b[i], 0.0);
        }
        assertThrows(IllegalArgumentException.class, () -> EmsNpz.write(dir, e, NpyArray.NpyDtype.INT64));
    }

    @Test
    void metadataJsonRoundTripAndValidation() {
        EmsMetadata m = new EmsMetadata(1, 240, new long[] {3, 32, 32}, 1.0, 1e-4, null, null,
                new ScheduleSpec.VpLinear(0.1, 20.0), "cifar10");
        assertEquals("logSNR_uniform", m.grid());
        assertEquals("float64", m.dtype());
        String json = m.toJson();
        assertEquals(m, EmsMetadata.fromJson(json));
        assertEquals(new EmsGrid(240, 1.0, 1e-4), m.emsGrid());

        String bad = json.replace("\"logSNR_uniform\"", "\"time_uniform\"");
        assertTrue(message(bad).contains("unsupported grid"), message(bad));
        String badDtype = json.replace("\"float64\"", "\"float16\"");
        assertTrue(message(badDtype).contains("dtype"), message(badDtype));
        String unknown = json.replace("{", "{\"extra\": 1, ");
        assertTrue(message(unknown).contains("extra"), message(unknown));
        String range = json.replace("\"tEnd\" : 1.0E-4", "\"tEnd\" : 2.0");
        assertTrue(message(range).contains("tStart > tEnd"), message(range));
        String version = json.replace("\"formatVersion\" : 1", "\"formatVersion\" : 7");
        assertTrue(message(version).contains("formatVersion"), message(version));
    }

    private static String message(String json) {
        return assertThrows(IllegalArgumentException.class, () -> EmsMetadata.fromJson(json)).getMessage();
    }

    @Test
    void inconsistentFilesAreRejected() throws IOException {
        EmpiricalModelStatistics e = reference();
        long[] shape = {241, 8, 1, 1};
        long[] shorter = {121, 8, 1, 1};
        double[] half = new double[121 * 8];
        Path dir = Files.createDirectories(tmp.resolve("bad"));

        // K + 1 of sb differs from l
        Npy.writeNpz(dir.resolve("l.npz"), Map.of("l", NpyArray.ofDoubles(e.l(), shape)), false);
        Npy.writeNpz(dir.resolve("sb.npz"), Map.of("s", NpyArray.ofDoubles(half, shorter), "b",
                NpyArray.ofDoubles(half, shorter)), false);
        String m = assertThrows(IllegalArgumentException.class, () -> EmsNpz.read(dir, 1.0, 1e-3)).getMessage();
        assertTrue(m.contains("121 grid points") && m.contains("241"), m);

        // NaN in b
        double[] b = e.b();
        b[5 * 8 + 3] = Double.NaN;
        Npy.writeNpz(dir.resolve("sb.npz"), Map.of("s", NpyArray.ofDoubles(e.s(), shape), "b",
                NpyArray.ofDoubles(b, shape)), false);
        m = assertThrows(IllegalArgumentException.class, () -> EmsNpz.read(dir, 1.0, 1e-3)).getMessage();
        assertTrue(m.contains("b is NaN at grid index 5, element 3"), m);

        // per-sample shapes differ
        Npy.writeNpz(dir.resolve("sb.npz"), Map.of("s", NpyArray.ofDoubles(e.s(), 241, 4, 2), "b",
                NpyArray.ofDoubles(e.b(), 241, 4, 2)), false);
        m = assertThrows(IllegalArgumentException.class, () -> EmsNpz.read(dir, 1.0, 1e-3)).getMessage();
        assertTrue(m.contains("shape [241, 4, 2]"), m);

        // missing key
        Npy.writeNpz(dir.resolve("sb.npz"), Map.of("s", NpyArray.ofDoubles(e.s(), shape)), false);
        m = assertThrows(IllegalArgumentException.class, () -> EmsNpz.read(dir, 1.0, 1e-3)).getMessage();
        assertTrue(m.contains("no array 'b'"), m);

        // official directory without metadata
        assertThrows(NoSuchFileException.class, () -> EmsNpz.read(dir));

        // metadata that disagrees with the arrays
        Npy.writeNpz(dir.resolve("sb.npz"), Map.of("s", NpyArray.ofDoubles(e.s(), shape), "b",
                NpyArray.ofDoubles(e.b(), shape)), false);
        new EmsMetadata(1, 240, new long[] {16}, 1.0, 1e-3, null, null, null, null).write(dir.resolve("ems.json"));
        m = assertThrows(IllegalArgumentException.class, () -> EmsNpz.read(dir)).getMessage();
        assertTrue(m.contains("sample shape [16]"), m);
        new EmsMetadata(1, 120, new long[] {8, 1, 1}, 1.0, 1e-3, null, null, null, null).write(dir.resolve("ems.json"));
        m = assertThrows(IllegalArgumentException.class, () -> EmsNpz.read(dir)).getMessage();
        assertTrue(m.contains("K = 120"), m);
    }
}
