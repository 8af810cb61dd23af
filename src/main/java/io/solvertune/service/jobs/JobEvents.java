package io.solvertune.service.jobs;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.runtime.ShutdownEvent;
import io.solvertune.service.security.Principal;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.sse.Sse;
import jakarta.ws.rs.sse.SseEventSink;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Server-sent events of a job: polls the database every {@code solvertune.jobs.events-interval} (500 ms) and sends
 * a {@code job} event with the whole {@link JobView} whenever it changed; after the job reached a terminal state the
 * last event is named {@code end} and the stream closes. The polling runs on a small shared scheduler, not one
 * thread per stream.
 */
@Singleton
public class JobEvents {

    private static final Logger LOG = Logger.getLogger(JobEvents.class);

    private final JobService jobs;
    private final ObjectMapper json;
    private final Duration interval;
    private final ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(1, r -> {
        Thread t = new Thread(r, "job-events");
        t.setDaemon(true);
        return t;
    });

    public JobEvents(JobService jobs, ObjectMapper json,
                     @ConfigProperty(name = "solvertune.jobs.events-interval", defaultValue = "500ms")
                     Duration interval) {
        this.jobs = jobs;
        this.json = json;
        this.interval = interval;
    }

    void onStop(@Observes ShutdownEvent e) {
        scheduler.shutdownNow();
    }

    /** Streams the job (already checked visible to {@code who}) into {@code sink} until it finishes. */
    public void stream(long jobId, Principal who, SseEventSink sink, Sse sse) {
        Stream s = new Stream(jobId, who, sink, sse);
        s.future = scheduler.scheduleWithFixedDelay(s, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    private final class Stream implements Runnable {
        private final long jobId;
        private final Principal who;
        private final SseEventSink sink;
        private final Sse sse;
        private volatile ScheduledFuture<?> future;
        private String last;
        private long seq;

        Stream(long jobId, Principal who, SseEventSink sink, Sse sse) {
            this.jobId = jobId;
            this.who = who;
            this.sink = sink;
            this.sse = sse;
        }

        @Override
        public void run() {
            try {
                if (sink.isClosed()) {
                    stop();
                    return;
                }
                JobView v = jobs.find(jobId, who).orElse(null);
                if (v == null) {
                    stop();
                    return;
                }
                boolean terminal = JobStore.TERMINAL.contains(v.state());
                // the ETA changes every tick; send when anything else changed
                JobView.Progress p = v.progress();
                JobView cmp = new JobView(v.id(), v.state(), v.model(), v.createdBy(), v.idempotencyKey(),
                        v.createdAt(), v.startedAt(), v.finishedAt(), p == null ? null : new JobView.Progress(
                        p.stagesSucceeded(), p.stagesTotal(), p.fraction(), null, p.running()), v.error(), null,
                        v.stages(), v.result());
                String key = json.writeValueAsString(cmp);
                if (terminal || !key.equals(last)) {
                    last = key;
                    sink.send(sse.newEventBuilder().name(terminal ? "end" : "job").id(Long.toString(++seq))
                            .mediaType(MediaType.APPLICATION_JSON_TYPE)
                            .data(json.writeValueAsString(new JobView(v.id(), v.state(), v.model(), v.createdBy(),
                                    v.idempotencyKey(), v.createdAt(), v.startedAt(), v.finishedAt(), v.progress(),
                                    v.error(), null, v.stages(), v.result())))
                            .build());
                }
                if (terminal) {
                    stop();
                }
            } catch (JobStoreException e) {
                LOG.debugf("job %d events: %s (trying again)", jobId, e.getMessage());
            } catch (JsonProcessingException | RuntimeException e) {
                LOG.warnf(e, "job %d events stream ended", jobId);
                stop();
            }
        }

        private void stop() {
            if (future != null) {
                future.cancel(false);
            }
            if (!sink.isClosed()) {
                sink.close();
            }
        }
    }
}
