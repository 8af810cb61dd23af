package io.solvertune.service.jobs.testing;

import io.solvertune.service.jobs.JobEngine;
import io.solvertune.service.jobs.JobStore;
import io.solvertune.service.jobs.StageWorker;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executors;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * A worker process without Quarkus, for the two-JVM test: the same {@link StageWorker}/{@link JobStore} code over a
 * plain PostgreSQL data source, with the {@link TestStages} executors. It does not publish (it has no config store):
 * a job whose stages all succeeded is left for a service worker to finish.
 *
 * <p>Arguments: jdbc-url user password lease-ms work-dir
 */
public final class ExternalWorkerMain {

    private ExternalWorkerMain() {
    }

    public static void main(String[] args) {
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setURL(args[0]);
        ds.setUser(args[1]);
        ds.setPassword(args[2]);
        JobStore store = new JobStore(ds, JobEngine.mapper(), Duration.ofMillis(Long.parseLong(args[3])));
        StageWorker worker = new StageWorker(store, kind -> Optional.ofNullable(TestStages.executors().get(kind)),
                (jobId, modelId, kind, output) -> {
                    throw new IllegalStateException("this worker process does not publish");
                }, Path.of(args[4]), Duration.ofMillis(100), Executors.newScheduledThreadPool(1));
        System.out.println("worker " + worker.owner() + " started");
        System.out.flush();
        worker.run();
    }
}
