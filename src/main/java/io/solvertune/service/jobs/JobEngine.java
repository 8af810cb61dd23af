package io.solvertune.service.jobs;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.agroal.api.AgroalDataSource;
import io.solvertune.service.configs.ConfigPublisher;
import jakarta.inject.Singleton;
import java.nio.file.Path;
import java.time.Duration;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/** The job engine's settings and shared parts: the {@link JobStore}, the executors and the publishing finisher. */
@Singleton
public class JobEngine {

    /** JSON of the job tables (lenient about unknown fields in stage outputs). */
    public static ObjectMapper mapper() {
        return new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    }

    private final JobStore store;
    private final StageExecutors executors;
    private final JobFinisher finisher;
    private final Path workDir;
    private final int maxAttempts;
    private final ObjectMapper json = mapper();

    public JobEngine(AgroalDataSource ds, StageExecutors executors, ConfigPublisher publisher, JobsConfig config,
                     @ConfigProperty(name = "solvertune.work-dir", defaultValue = "${user.home}/.solvertune/jobs")
                     Path workDir) {
        Duration lease = config.lease();
        int maxAttempts = config.maxAttempts();
        if (lease.toMillis() < 300) {
            throw new IllegalArgumentException("solvertune.jobs.lease: at least 300 ms");
        }
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("solvertune.jobs.max-attempts: at least 1");
        }
        this.store = new JobStore(ds, json, lease);
        this.executors = executors;
        this.workDir = workDir.toAbsolutePath();
        this.finisher = new PublishingFinisher(publisher, json, this.workDir);
        this.maxAttempts = maxAttempts;
    }

    public JobStore store() {
        return store;
    }

    public StageExecutors executors() {
        return executors;
    }

    public JobFinisher finisher() {
        return finisher;
    }

    public Path workDir() {
        return workDir;
    }

    public int maxAttempts() {
        return maxAttempts;
    }

    public ObjectMapper json() {
        return json;
    }
}
