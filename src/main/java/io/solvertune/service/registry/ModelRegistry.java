package io.solvertune.service.registry;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.solvertune.numerics.spec.ModelSpec;
import io.solvertune.service.api.problem.InvalidRequestException;
import io.solvertune.service.api.problem.Problem;
import io.solvertune.service.artifacts.ArtifactEntity;
import io.solvertune.service.artifacts.ArtifactStore;
import io.solvertune.service.artifacts.ArtifactTooLargeException;
import io.solvertune.service.limits.Limits;
import io.solvertune.service.persistence.ModelEntity;
import io.solvertune.tuning.Presets;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Event;
import jakarta.enterprise.inject.Any;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import jakarta.persistence.LockModeType;
import jakarta.persistence.TypedQuery;
import jakarta.ws.rs.NotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;
import org.jboss.logging.Logger;

/**
 * The model registry: registers analytic specs, built-in presets and uploaded TorchScript modules — each accepted
 * only after {@link ModelProbe} built it and ran a test forward pass —, lists, describes, updates and deletes them.
 *
 * <p>Contract with the job system: {@code models.spec} is exactly what
 * {@link io.solvertune.tuning.job.ResolvedModel#specOf} reads — {@code {"preset": name}}, or a self-contained
 * {@link ModelSpec} whose only file reference is the absolute artifact-store path of an uploaded module — and
 * {@code content_hash} is {@link io.solvertune.tuning.ModelHash} of that spec (the model hash of provenance).
 *
 * <p>Nothing half-written remains after a refused request: validation runs before anything is stored, the model row
 * and its artifact row are inserted in one transaction, and a file whose row was not committed is removed.
 */
@ApplicationScoped
public class ModelRegistry {

    private static final Logger LOG = Logger.getLogger(ModelRegistry.class);
    /** URL-safe names that cannot be mistaken for ids. */
    private static final Pattern NAME = Pattern.compile("^(?![0-9]+$)[A-Za-z0-9][A-Za-z0-9._-]{0,199}$");
    private static final Pattern KIND = Pattern.compile("^[a-z][a-z0-9_]*$");
    private static final Set<String> REQUEST_FIELDS = Set.of("name", "description", "anonymousRead", "spec");
    private static final Set<String> PATCH_FIELDS = Set.of("description", "anonymousRead");
    /** Fields of model specs that name files on the server; clients may not use them. */
    private static final List<String> FILE_FIELDS = List.of("npz", "file", "dir");
    private static final int MAX_DESCRIPTION = 10_000;
    private static final Set<String> MODEL_MESSAGE_PREFIXES = Set.of("gaussian_mixture", "gaussian", "empirical",
            "model");
    private static final Pattern MODEL_FIELD = Pattern.compile(
            "(weights|means|stds|componentClasses|mean|variances|covariance|perClass)(\\[\\d+])?(?!\\w)");
    static final int MAX_PAGE = 500;

    /** Who registers a model and how it is labelled. */
    public record Registration(String name, String description, boolean anonymousRead, String createdBy) {
    }

    private final EntityManager em;
    private final ArtifactStore store;
    private final Instance<ModelUsage> usages;
    private final int maxScheduleLength;

    /** Fired after a committed anonymousRead change (the download path's flag cache drops the model). */
    @Inject
    Event<ModelReadAccessChanged> readAccessChanged;

    public ModelRegistry(EntityManager em, ArtifactStore store, @Any Instance<ModelUsage> usages, Limits limits) {
        this.em = em;
        this.store = store;
        this.usages = usages;
        this.maxScheduleLength = limits.model().maxScheduleLength();
    }

    // ---- registration ---------------------------------------------------------------------------------------------

    /**
     * Registers a preset or an inline spec from a JSON request {@code {"name", "description"?, "anonymousRead"?,
     * "spec"}}.
     */
    public ModelView register(JsonNode body, String createdBy) {
        if (body == null || !body.isObject()) {
            throw InvalidRequestException.field("body", "expected a JSON object {\"name\": ..., \"spec\": ...}");
        }
        for (Iterator<String> it = body.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!REQUEST_FIELDS.contains(f)) {
                throw InvalidRequestException.field(f, "unknown field (known: anonymousRead, description, name, spec)");
            }
        }
        Registration reg = new Registration(text(body, "name", true), text(body, "description", false),
                bool(body, "anonymousRead"), createdBy);
        checkRegistration(reg);
        JsonNode spec = body.get("spec");
        if (spec == null || spec.isNull()) {
            throw InvalidRequestException.field("spec", "required: {\"preset\": name} or a model spec");
        }
        if (!spec.isObject()) {
            throw InvalidRequestException.field("spec", "expected a JSON object");
        }
        ModelSpec ms;
        JsonNode stored;
        String preset = null;
        java.util.function.BiFunction<String, String, String> where;
        if (spec.has("preset")) {
            if (spec.size() != 1 || !spec.get("preset").isTextual()) {
                throw InvalidRequestException.field("spec.preset", "expected {\"preset\": \"<name>\"} alone");
            }
            preset = spec.get("preset").asText();
            try {
                ms = Presets.load(preset);
            } catch (IllegalArgumentException e) {
                throw InvalidRequestException.field("spec.preset", e.getMessage());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            stored = JsonNodeFactory.instance.objectNode().put("preset", preset);
            where = (f, m) -> "spec.preset";
        } else {
            ms = parseSelfContained((ObjectNode) spec, maxScheduleLength);
            stored = ModelSpec.MAPPER.valueToTree(ms);
            where = ModelRegistry::specField;
        }
        ModelProbe.Facts facts;
        try {
            facts = ModelProbe.probe(ms, Presets.baseDir());
        } catch (Exception e) {
            if (!SpecErrors.isModelFailure(e)) {
                throw e instanceof RuntimeException r ? r : new IllegalStateException(e);
            }
            throw SpecErrors.of(e, where, UnaryOperator.identity());
        }
        String presetName = preset;
        return insert(reg, stored, ms, facts, presetName, null);
    }

    /**
     * Registers an uploaded TorchScript module: streams {@code body} (at most {@link ArtifactStore#maxUploadBytes()}
     * bytes) to a temporary file, loads and runs it through {@link io.solvertune.numerics.model.TorchScriptDenoiser}
     * as declared, then stores file and model together.
     *
     * @param contentLength the request's Content-Length, if any: a body announced too large is refused unread
     */
    public ModelView registerTorchScript(Registration reg, TorchScriptDeclaration decl, InputStream body,
                                         Long contentLength) throws IOException {
        checkRegistration(reg);
        long limit = store.maxUploadBytes();
        if (contentLength != null && contentLength > limit) {
            throw new ArtifactTooLargeException(limit);
        }
        if (body == null) {
            throw InvalidRequestException.field("body", "the TorchScript file is required as the request body");
        }
        try (ArtifactStore.Staged staged = store.stage(body, limit)) {
            if (staged.sizeBytes() == 0) {
                throw InvalidRequestException.field("body", "empty; send the torch.jit.save file as the body");
            }
            Path tmp = staged.file();
            ModelProbe.Facts facts;
            try {
                facts = ModelProbe.probe(decl.spec(tmp.toString()), store.root());
            } catch (Exception e) {
                if (!SpecErrors.isModelFailure(e)) {
                    throw e instanceof RuntimeException r ? r : new IllegalStateException(e);
                }
                throw SpecErrors.of(e, ModelRegistry::torchScriptField,
                        m -> m.replace(tmp.toString(), "the uploaded file")
                                .replace(tmp.getFileName().toString(), "the uploaded file"));
            }
            ModelSpec finalSpec = decl.spec(store.location(staged.sha256()).toString());
            JsonNode stored = ModelSpec.MAPPER.valueToTree(finalSpec);
            try {
                return insert(reg, stored, finalSpec, facts, null, staged);
            } catch (RuntimeException e) {
                store.discardIfUnreferenced(staged.sha256());
                throw e;
            }
        }
    }

    /**
     * The request field of a failure of a client's spec: {@code model.x} → {@code spec.model.x}; the numerics' model
     * messages ({@code "gaussian_mixture: means[1] has ..."}) → {@code spec.model.means[1]}.
     */
    private static String specField(String field, String message) {
        if (field.isEmpty()) {
            return "spec";
        }
        if (MODEL_MESSAGE_PREFIXES.contains(field)) {
            java.util.regex.Matcher m = MODEL_FIELD.matcher(message);
            return m.lookingAt() ? "spec.model." + m.group() : "spec.model";
        }
        return "spec." + field;
    }

    /** The request field a TorchScript failure belongs to: a declared parameter, or the uploaded body. */
    private static String torchScriptField(String field, String message) {
        if (field.startsWith("schedule")) {
            return "schedule";
        }
        if (field.startsWith("model.")) {
            String f = field.substring("model.".length());
            return Set.of("inputShape", "predictionType", "timeInput", "numClasses", "nullClass", "dtype")
                    .contains(f) ? f : "body";
        }
        if (field.equals("torchscript")) {
            for (String f : List.of("timeInput", "nullClass", "numClasses", "inputShape", "dtype")) {
                if (message.startsWith(f)) {
                    return f;
                }
            }
        }
        return "body";
    }

    /** Parses a client's model spec: inline data only (no files of the server), not TorchScript (upload those). */
    private static ModelSpec parseSelfContained(ObjectNode spec, int maxScheduleLength) {
        JsonNode model = spec.get("model");
        if (model != null && model.isObject()) {
            JsonNode type = model.get("type");
            if (type != null && "torchscript".equals(type.asText())) {
                throw InvalidRequestException.field("spec.model.type", "TorchScript modules are uploaded as a file: "
                        + "POST /api/v1/models/torchscript (application/octet-stream)");
            }
            for (String f : FILE_FIELDS) {
                JsonNode v = model.get(f);
                if (v != null && !v.isNull()) {
                    throw InvalidRequestException.field("spec.model." + f, "file references are not accepted (the "
                            + "server would read its own files); give the data inline (gaussian_mixture: weights, "
                            + "means, stds; gaussian: mean and variances or covariance) or use a preset");
                }
            }
        }
        ModelSpec ms;
        try {
            ms = ModelSpec.MAPPER.treeToValue(spec, ModelSpec.class);
        } catch (JsonProcessingException e) {
            throw SpecErrors.ofJson(e, "spec");
        } catch (IllegalArgumentException e) {
            throw SpecErrors.of(e, (f, m) -> f.isEmpty() ? "spec" : "spec." + f, UnaryOperator.identity());
        }
        try {
            ms.validate();
        } catch (IllegalArgumentException e) {
            throw SpecErrors.of(e, (f, m) -> f.isEmpty() ? "spec" : "spec." + f, UnaryOperator.identity());
        }
        checkScheduleLength(ms.schedule(), maxScheduleLength, "spec.schedule");
        return ms;
    }

    /**
     * A discrete schedule of at most {@code max} timesteps ({@code solvertune.limits.model.max-schedule-length}),
     * checked before anything of its length is allocated; a 400 naming {@code field.numTrainTimesteps} (or
     * {@code betas}, {@code alphasCumprod}) otherwise.
     */
    static void checkScheduleLength(io.solvertune.numerics.schedule.ScheduleSpec schedule, int max, String field) {
        if (schedule instanceof io.solvertune.numerics.schedule.ScheduleSpec.VpDiscrete d && d.length() > max) {
            throw InvalidRequestException.field(field + "." + d.lengthField(), "at most " + max + " timesteps are "
                    + "accepted (server setting solvertune.limits.model.max-schedule-length), got " + d.length());
        }
    }

    private static void checkRegistration(Registration reg) {
        if (reg.name() == null || reg.name().isBlank()) {
            throw InvalidRequestException.field("name", "required");
        }
        if (!NAME.matcher(reg.name()).matches()) {
            throw InvalidRequestException.field("name", "1 to 200 characters from letters, digits, '.', '_' and '-',"
                    + " starting with a letter or digit, not only digits; got '" + reg.name() + "'");
        }
        if (reg.description() != null && reg.description().length() > MAX_DESCRIPTION) {
            throw InvalidRequestException.field("description", "at most " + MAX_DESCRIPTION + " characters");
        }
        if (QuarkusTransaction.requiringNew().call(() -> ModelEntity.findByName(reg.name()).isPresent())) {
            throw duplicateName(reg.name());
        }
    }

    private static ModelConflictException duplicateName(String name) {
        return new ModelConflictException("a model named '" + name + "' already exists",
                List.of(new Problem.FieldError("name", "already exists")));
    }

    /** Inserts the model (and commits the staged file with it) in one transaction. */
    private ModelView insert(Registration reg, JsonNode stored, ModelSpec spec, ModelProbe.Facts facts,
                             String preset, ArtifactStore.Staged staged) {
        try {
            return QuarkusTransaction.requiringNew().call(() -> {
                ModelEntity m = new ModelEntity();
                m.name = reg.name();
                m.kind = facts.kind();
                m.preset = preset;
                m.spec = stored;
                m.contentHash = facts.contentHash();
                m.schedule = ModelSpec.MAPPER.valueToTree(spec.schedule());
                m.predictionType = facts.predictionType();
                m.description = reg.description();
                m.anonymousRead = reg.anonymousRead();
                m.inputShape = facts.inputShape();
                m.numClasses = facts.numClasses();
                m.dtype = facts.dtype();
                m.parameterCount = facts.parameterCount();
                m.createdBy = reg.createdBy();
                if (staged != null) {
                    ArtifactStore.Stored a = store.commit(staged, "torchscript");
                    m.artifact = em.find(ArtifactEntity.class, a.id());
                }
                m.persist();
                em.flush();
                LOG.infof("registered model %d '%s' (%s, hash %s) for %s", m.id, m.name, m.kind,
                        m.contentHash.substring(0, 12), reg.createdBy());
                return view(m, true);
            });
        } catch (RuntimeException e) {
            if (sqlState(e).filter("23505"::equals).isPresent()) {
                throw duplicateName(reg.name());
            }
            throw e;
        }
    }

    // ---- reading --------------------------------------------------------------------------------------------------

    /** The model with this id (digits) or name. */
    public Optional<ModelView> find(String idOrName) {
        return QuarkusTransaction.requiringNew().call(() -> lookup(idOrName).map(m -> view(m, true)));
    }

    /**
     * A page of models sorted by id.
     *
     * @param kind  only this kind (analytic, empirical, torchscript), or all
     * @param after only ids above this one (the previous page's {@code nextAfter})
     */
    public ModelView.Page list(String kind, int limit, long after) {
        if (limit < 1 || limit > MAX_PAGE) {
            throw InvalidRequestException.field("limit", "must be between 1 and " + MAX_PAGE + ", got " + limit);
        }
        if (after < 0) {
            throw InvalidRequestException.field("after", "must be >= 0, got " + after);
        }
        if (kind != null && !KIND.matcher(kind).matches()) {
            throw InvalidRequestException.field("kind", "expected a kind such as analytic, empirical or torchscript");
        }
        return QuarkusTransaction.requiringNew().call(() -> {
            TypedQuery<ModelEntity> q = em.createQuery("SELECT m FROM ModelEntity m LEFT JOIN FETCH m.artifact "
                    + "WHERE m.id > :after" + (kind == null ? "" : " AND m.kind = :kind") + " ORDER BY m.id",
                    ModelEntity.class).setParameter("after", after).setMaxResults(limit + 1);
            if (kind != null) {
                q.setParameter("kind", kind);
            }
            List<ModelEntity> rows = q.getResultList();
            List<ModelView> items = new ArrayList<>();
            for (int i = 0; i < Math.min(limit, rows.size()); i++) {
                items.add(view(rows.get(i), false));
            }
            if (rows.size() <= limit) {
                return new ModelView.Page(items, null, null);
            }
            long next = items.get(items.size() - 1).id();
            return new ModelView.Page(items, next, "/api/v1/models?limit=" + limit + "&after=" + next
                    + (kind == null ? "" : "&kind=" + kind));
        });
    }

    // ---- changing -------------------------------------------------------------------------------------------------

    /** Applies {@code {"description"?, "anonymousRead"?}} (JSON merge patch: null clears the description). */
    public ModelView update(String idOrName, JsonNode patch) {
        if (patch == null || !patch.isObject()) {
            throw InvalidRequestException.field("body", "expected a JSON object {\"description\"?, \"anonymousRead\"?}");
        }
        for (Iterator<String> it = patch.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!PATCH_FIELDS.contains(f)) {
                throw InvalidRequestException.field(f, REQUEST_FIELDS.contains(f) || f.equals("kind")
                        ? "cannot be changed (register a new model); only description and anonymousRead can"
                        : "unknown field (known: anonymousRead, description)");
            }
        }
        String description = patch.has("description") ? text(patch, "description", false) : null;
        if (description != null && description.length() > MAX_DESCRIPTION) {
            throw InvalidRequestException.field("description", "at most " + MAX_DESCRIPTION + " characters");
        }
        JsonNode anon = patch.get("anonymousRead");
        if (anon != null && !anon.isBoolean()) {
            throw InvalidRequestException.field("anonymousRead", "expected true or false");
        }
        ModelView v = QuarkusTransaction.requiringNew().call(() -> {
            ModelEntity m = lookup(idOrName).orElseThrow(() -> notFound(idOrName));
            if (patch.has("description")) {
                m.description = description;
            }
            if (anon != null) {
                m.anonymousRead = anon.booleanValue();
            }
            return view(m, true);
        });
        if (anon != null) {
            readAccessChanged.fire(new ModelReadAccessChanged(v.id()));
        }
        return v;
    }

    /**
     * Deletes a model and its artifact if nothing else references it. Refused (409) while a {@link ModelUsage} gives
     * a reason or published configs belong to it. The model row is locked during the checks, so a usage that locks
     * it ({@code SELECT ... FOR SHARE}) while it starts using the model cannot race with the delete.
     */
    public void delete(String idOrName) {
        Long artifactId = QuarkusTransaction.requiringNew().call(() -> {
            ModelEntity m = lookup(idOrName).orElseThrow(() -> notFound(idOrName));
            em.lock(m, LockModeType.PESSIMISTIC_WRITE);
            for (ModelUsage u : usages) {
                Optional<String> reason = u.blocksDelete(m.id);
                if (reason.isPresent()) {
                    throw new ModelConflictException("model " + m.id + " ('" + m.name + "') cannot be deleted: "
                            + reason.get(), List.of(new Problem.FieldError("id", reason.get())));
                }
            }
            long configs = em.createQuery("SELECT count(c) FROM SolverConfigEntity c WHERE c.model = :m", Long.class)
                    .setParameter("m", m).getSingleResult();
            if (configs > 0) {
                throw new ModelConflictException("model " + m.id + " ('" + m.name + "') cannot be deleted: " + configs
                        + " published solver config(s) belong to it, and published configs are immutable",
                        List.of(new Problem.FieldError("id", "has " + configs + " published solver configs")));
            }
            Long aid = m.artifact == null ? null : m.artifact.id;
            if (aid != null && em.createQuery("SELECT count(o) FROM ModelEntity o WHERE o.artifact.id = :a "
                    + "AND o.id <> :m", Long.class).setParameter("a", aid).setParameter("m", m.id)
                    .getSingleResult() > 0) {
                aid = null; // another model has the same file
            }
            m.delete();
            em.flush();
            LOG.infof("deleted model %d '%s'", m.id, m.name);
            return aid;
        });
        if (artifactId != null) {
            store.deleteIfUnreferenced(artifactId);
        }
    }

    // ---- helpers --------------------------------------------------------------------------------------------------

    private static Optional<ModelEntity> lookup(String idOrName) {
        if (idOrName == null || idOrName.isBlank()) {
            return Optional.empty();
        }
        if (idOrName.chars().allMatch(Character::isDigit)) {
            try {
                return ModelEntity.<ModelEntity>findByIdOptional(Long.parseLong(idOrName));
            } catch (NumberFormatException e) {
                return Optional.empty();
            }
        }
        return ModelEntity.findByName(idOrName);
    }

    static NotFoundException notFound(String idOrName) {
        return new NotFoundException("no model " + (idOrName.chars().allMatch(Character::isDigit) ? "with id "
                : "named ") + idOrName);
    }

    private static ModelView view(ModelEntity m, boolean withSpec) {
        ArtifactEntity a = m.artifact;
        JsonNode spec = null;
        if (withSpec) {
            spec = m.spec.deepCopy();
            JsonNode model = spec.get("model");
            if (a != null && model instanceof ObjectNode o && o.has("file")) {
                o.put("file", "sha256:" + a.sha256); // the server's path is not the client's business
            }
        }
        return new ModelView(m.id, m.name, m.kind, m.preset, m.description, m.anonymousRead, m.contentHash,
                m.predictionType, m.schedule, m.inputShape, m.numClasses, m.dtype,
                a == null ? null : new ModelView.ArtifactRef(a.sha256, a.sizeBytes), m.parameterCount, spec,
                m.createdBy, m.createdAt);
    }

    private static String text(JsonNode body, String field, boolean required) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            if (required) {
                throw InvalidRequestException.field(field, "required");
            }
            return null;
        }
        if (!v.isTextual()) {
            throw InvalidRequestException.field(field, "expected a string");
        }
        return v.asText();
    }

    private static boolean bool(JsonNode body, String field) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return false;
        }
        if (!v.isBoolean()) {
            throw InvalidRequestException.field(field, "expected true or false");
        }
        return v.booleanValue();
    }

    private static Optional<String> sqlState(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SQLException s && s.getSQLState() != null) {
                return Optional.of(s.getSQLState());
            }
        }
        return Optional.empty();
    }
}
