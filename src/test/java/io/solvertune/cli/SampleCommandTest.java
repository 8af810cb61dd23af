package io.solvertune.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.solvertune.numerics.io.Npy;
import io.solvertune.numerics.io.NpyArray;
import io.solvertune.testing.ReferenceProblem;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code solvertune sample}: the README example, outputs, and one-line errors with a non-zero exit code. */
class SampleCommandTest {
    @TempDir
    Path dir;

    record Result(int code, String out, String err) {
    }

    static Result cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Cli.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Result(code, out.toString(), err.toString());
    }

    /**
     * Runs the CLI with a standard error that throws {@code death} once, as soon as the text written to it contains
     * {@code marker} (a progress line): the command dies on the stage's thread at a known point, as a killed process
     * would. The result's {@code err} is everything written, the CLI's report of the death included.
     */
    static Result cliKilledAt(String marker, RuntimeException death, String... args) {
        StringWriter errText = new StringWriter();
        java.io.Writer dying = new java.io.Writer() {
            boolean died;

            @Override
            public void write(char[] b, int off, int len) {
                errText.write(b, off, len);     // the formatter writes a line in pieces
                if (!died && errText.toString().contains(marker)) {
                    died = true;
                    throw death;
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        StringWriter out = new StringWriter();
        int code = Cli.run(args, new PrintWriter(out, true), new PrintWriter(dying, true));
        return new Result(code, out.toString(), errText.toString());
    }

    Path spec(String json) throws IOException {
        Path p = dir.resolve("spec.json");
        Files.writeString(p, json);
        return p;
    }

    static String refSpec(String problem) {
        String npz = ReferenceProblem.resource("ref_" + problem + ".npz").toString();
        return "{\"schedule\": {\"type\": \"vp_discrete\", \"preset\": \"scaled_linear\", \"numTrainTimesteps\": 1000},"
                + " \"model\": {\"type\": \"gaussian_mixture\", \"npz\": \"" + npz + "\"}}";
    }

    @Test
    void reproducesTheOfficialUniPcOutputFromTheCommandLine() throws IOException {
        Path spec = spec(refSpec("public_gmm_sd_d8"));
        String npz = ReferenceProblem.resource("ref_public_gmm_sd_d8.npz").toString();
        Path out = dir.resolve("x0.npy");
        Path traj = dir.resolve("traj.npz");
        Result r = cli("sample", "--spec", spec.toString(), "--noise", npz + ":x_T", "--out", out.toString(),
                "--solver", "unipc", "--variant", "bh2", "--order", "3", "--steps", "5", "--spacing", "time_uniform",
                "--trajectory", traj.toString(), "--compare", npz + ":teacher");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("NFE 5"), r.out());
        assertTrue(r.out().contains("MSE vs"), r.out());
        double[] ours = Npy.read(out).doubles();
        double[] ref = Npy.readNpz(Path.of(npz)).get("unipc|data_prediction|multistep|o3|time_uniform|nfe5|bh2").doubles();
        for (int i = 0; i < ref.length; i++) {
            assertEquals(ref[i], ours[i], 1e-9 * Math.max(1, Math.abs(ref[i])));
        }
        Map<String, NpyArray> t = Npy.readNpz(traj);
        assertEquals(6, t.get("t").size());
        assertEquals(6, t.get("x").shape()[0]);
        // the trajectory's last state is the result
        double[] x = t.get("x").doubles();
        int per = ours.length;
        for (int i = 0; i < per; i++) {
            assertEquals(ours[i], x[5 * per + i], 0.0);
        }
    }

    @Test
    void seededNoiseGuidanceAndDenoiseToZero() throws IOException {
        String npz = ReferenceProblem.resource("ref_public_gmm_sd_d32_cfg5.npz").toString();
        Path spec = spec("{\"schedule\": {\"type\": \"vp_discrete\", \"preset\": \"scaled_linear\"},"
                + " \"model\": {\"type\": \"gaussian_mixture\", \"npz\": \"" + npz + "\", \"numClasses\": 2},"
                + " \"guidance\": {\"classLabel\": 0, \"scale\": 5.0}}");
        Path out = dir.resolve("o.npy");
        Result r = cli("sample", "--spec", spec.toString(), "--seed", "3", "--batch", "4", "--out", out.toString(),
                "--solver", "dpmsolver++", "--steps", "6", "--denoise-to-zero");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("NFE 7"), r.out()); // 6 steps + the final denoising call
        NpyArray a = Npy.read(out);
        assertEquals(4, a.shape()[0]);
        assertEquals(32, a.shape()[1]);
    }

    @Test
    void badInputGivesOneLineErrorsAndNonZeroExit() throws IOException {
        Path spec = spec(refSpec("public_gmm_sd_d8"));
        String npz = ReferenceProblem.resource("ref_public_gmm_sd_d8.npz").toString();
        String wrongShape = ReferenceProblem.resource("ref_public_gmm_sd_d32_cfg5.npz") + ":x_T";
        Path out = dir.resolve("o.npy");
        Path nan = dir.resolve("nan.npy");
        double[] v = new double[16];
        v[5] = Double.NaN;
        Npy.write(nan, NpyArray.ofDoubles(v, 2, 8));
        Path badJson = dir.resolve("bad.json");
        Files.writeString(badJson, "{\"schedule\": {\"type\": \"vp_discrete\", \"preset\": \"scaled_linear\"}, \"model\": ");
        Path unknownField = dir.resolve("unknown.json");
        Files.writeString(unknownField, "{\"schedule\": {\"type\": \"vp_discrete\", \"preset\": \"scaled_linear\"},"
                + " \"model\": {\"type\": \"gaussian_mixture\", \"npz\": \"" + npz + "\", \"colour\": 3}}");
        Path badPreset = dir.resolve("preset.json");
        Files.writeString(badPreset, "{\"schedule\": {\"type\": \"vp_discrete\", \"preset\": \"cubic\"},"
                + " \"model\": {\"type\": \"gaussian_mixture\", \"npz\": \"" + npz + "\"}}");

        List<String[]> cases = new ArrayList<>();
        List<String> expected = new ArrayList<>();
        String[] base = {"sample", "--spec", spec.toString(), "--noise", npz + ":x_T", "--out", out.toString()};
        cases.add(concat(base, "--solver", "dpm-solver-9000"));
        expected.add("unknown solver 'dpm-solver-9000'");
        cases.add(concat(base, "--solver", "unipc", "--variant", "bh7"));
        expected.add("option 'variant' must be one of bh1, bh2");
        cases.add(concat(base, "--solver", "dpmsolver++", "--order", "4"));
        expected.add("option 'order' must be one of 1, 2, 3");
        cases.add(concat(base, "--spacing", "cubic"));
        expected.add("unknown spacing 'cubic'");
        cases.add(concat(base, "--frobnicate"));
        expected.add("Unknown option: '--frobnicate'");
        cases.add(new String[] {"sample", "--spec", spec.toString(), "--noise", wrongShape, "--out", out.toString()});
        expected.add("--noise: shape [32, 32] does not match the model's sample shape [8]");
        cases.add(new String[] {"sample", "--spec", spec.toString(), "--noise", nan.toString(), "--out", out.toString()});
        expected.add("--noise: contains NaN or infinite values (first at flat index 5)");
        cases.add(new String[] {"sample", "--spec", badJson.toString(), "--noise", nan.toString(), "--out", out.toString()});
        expected.add("malformed JSON");
        cases.add(new String[] {"sample", "--spec", unknownField.toString(), "--noise", npz + ":x_T", "--out", out.toString()});
        expected.add("spec field 'model.colour'");
        cases.add(new String[] {"sample", "--spec", badPreset.toString(), "--noise", npz + ":x_T", "--out", out.toString()});
        expected.add("unknown beta schedule 'cubic'");
        cases.add(new String[] {"sample", "--spec", dir.resolve("missing.json").toString(), "--noise", npz + ":x_T", "--out", out.toString()});
        expected.add("file not found");
        cases.add(new String[] {"sample", "--spec", spec.toString(), "--noise", npz + ":nope", "--out", out.toString()});
        expected.add("has no array 'nope'");
        cases.add(new String[] {"sample", "--spec", spec.toString(), "--out", out.toString()});
        expected.add("give exactly one of --noise FILE or --seed N");
        for (int i = 0; i < cases.size(); i++) {
            Result r = cli(cases.get(i));
            String err = r.err().strip();
            assertTrue(r.code() != 0, "exit code for " + expected.get(i));
            assertTrue(err.contains(expected.get(i)), "expected '" + expected.get(i) + "' in: " + err);
            String firstLine = err.lines().findFirst().orElse("");
            assertTrue(firstLine.startsWith("error: ") || firstLine.contains("Unknown option"), err);
            assertTrue(firstLine.contains(expected.get(i)), "message on one line: " + err);
        }
        assertTrue(Files.notExists(out), "no output is written for a failed run");
    }

    @Test
    void nonFiniteModelOutputIsReported() throws IOException {
        // x = 1e308: the squared distances overflow to infinity and the exact noise prediction becomes NaN
        Path spec = spec(refSpec("public_gmm_sd_d8"));
        Path huge = dir.resolve("huge.npy");
        double[] v = new double[8];
        java.util.Arrays.fill(v, 1e308);
        Npy.write(huge, NpyArray.ofDoubles(v, 1, 8));
        Result r = cli("sample", "--spec", spec.toString(), "--noise", huge.toString(), "--out",
                dir.resolve("o.npy").toString(), "--steps", "3");
        assertTrue(r.code() != 0, r.out());
        assertTrue(r.err().contains("the model returned NaN or infinite values at t=1.0"), r.err());
    }

    static String[] concat(String[] a, String... b) {
        String[] c = new String[a.length + b.length];
        System.arraycopy(a, 0, c, 0, a.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
