package io.solvertune.service.configs;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.solvertune.numerics.coeff.EmpiricalModelStatistics;
import io.solvertune.numerics.coeff.EmsNpz;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.tuning.Json;
import io.solvertune.tuning.eval.Candidate;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Turns the {@code values} of a tuning pipeline's publish candidates ({@code io.solvertune.tuning.job.PublishStage})
 * into the self-contained {@link ConfigValues} a published config carries: a baseline's solver settings become a
 * {@code baseline} value with its {@link Candidate}; DPM-Solver-v3 statistics, which the pipeline leaves as files in
 * the job's work directory, are read (sha256-checked) and inlined; coefficient sets pass unchanged.
 */
public final class PipelineValues {

    private final Path workRoot;

    /** @param workRoot the jobs' work directory root ({@code <root>/job-<id>}) */
    public PipelineValues(Path workRoot) {
        this.workRoot = workRoot.toAbsolutePath();
    }

    /** The publishable values of one candidate of job {@code jobId}. */
    public JsonNode adapt(long jobId, String method, JsonNode values, JsonNode metrics) {
        if (values == null || !values.isObject() || values.has("type")
                || (values.has("formatVersion") && values.has("columns"))) {
            return values; // already ConfigValues (or not an object: publish reports it)
        }
        try {
            if ("baseline".equals(method)) {
                return baseline(values, metrics);
            }
            if ("dpmsolver-v3".equals(method)) {
                return dpmSolverV3(jobId, values);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("values of " + method + ": " + e.getMessage(), e);
        }
        return values;
    }

    private static JsonNode baseline(JsonNode v, JsonNode metrics) throws JsonProcessingException {
        SolverSpec solver = Json.MAPPER.treeToValue(v.get("solver"), SolverSpec.class);
        TimestepSpacing spacing = Json.MAPPER.treeToValue(v.get("spacing"), TimestepSpacing.class);
        double[] times = Json.MAPPER.treeToValue(v.get("times"), double[].class);
        String name = metrics != null && metrics.hasNonNull("config") ? metrics.get("config").asText()
                : solver.label() + " " + spacing.id();
        Candidate c = new Candidate(name, solver, spacing, v.path("lowerOrderFinal").asBoolean(true),
                v.path("denoiseToZero").asBoolean(false), times[0], times[times.length - 1]);
        return ConfigValues.ofBaseline(c, v.path("steps").asInt(), times).toJson();
    }

    private JsonNode dpmSolverV3(long jobId, JsonNode v) throws IOException {
        JsonNode files = v.path("ems").path("files");
        JsonNode lFile = files.path(EmsNpz.L_FILE);
        JsonNode sbFile = files.path(EmsNpz.SB_FILE);
        if (!lFile.hasNonNull("path") || !sbFile.hasNonNull("path")) {
            throw new IllegalArgumentException("values.ems.files: expected l.npz and sb.npz");
        }
        Path jobDir = workRoot.resolve("job-" + jobId);
        Path l = resolveInside(jobDir, lFile.get("path").asText());
        Path sb = resolveInside(jobDir, sbFile.get("path").asText());
        verify(l, lFile.path("sha256").asText());
        verify(sb, sbFile.path("sha256").asText());
        EmpiricalModelStatistics ems = EmsNpz.read(l.getParent());
        JsonNode o = v.path("options");
        io.solvertune.numerics.solver.v3.DpmSolverV3 spec = new io.solvertune.numerics.solver.v3.DpmSolverV3(ems, o.path("order").asInt(),
                o.path("p_pseudo").asBoolean(false), o.path("use_corrector").asBoolean(true),
                o.path("c_pseudo").asBoolean(false), false, false, null);
        TimestepSpacing spacing = Json.MAPPER.treeToValue(v.get("spacing"), TimestepSpacing.class);
        double[] times = Json.MAPPER.treeToValue(v.get("times"), double[].class);
        return ConfigValues.ofDpmSolverV3(spec, spacing, v.path("steps").asInt(), true, false, times).toJson();
    }

    private static Path resolveInside(Path dir, String rel) {
        Path p = dir.resolve(rel).normalize();
        if (!p.startsWith(dir)) {
            throw new IllegalArgumentException("values.ems.files: path outside the job's directory: " + rel);
        }
        return p;
    }

    private static void verify(Path f, String sha256) throws IOException {
        if (sha256.isEmpty()) {
            return;
        }
        try {
            String got = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f)));
            if (!got.equals(sha256)) {
                throw new IOException(f + ": sha256 " + got + " differs from the recorded " + sha256);
            }
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
