package io.solvertune.service.jobs;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.runtime.ShutdownEvent;
import io.solvertune.service.api.problem.Problems;
import io.solvertune.service.db.DatabaseOutage;
import io.solvertune.service.limits.Limits;
import io.solvertune.service.security.Principal;
import io.solvertune.service.security.TokenService;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.sse.Sse;
import jakarta.ws.rs.sse.SseEventSink;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jboss.logging.Logger;

/**
 * Server-sent events of a job. Polls the database every {@code solvertune.jobs.events-interval} (500 ms) and sends
 * what changed, never the whole job again:
 * <ul>
 *   <li>{@code job}: the job without spec and stages (state, progress, error, result), when any of it but the ETA
 *       changed;</li>
 *   <li>{@code stages}: {@code {"stages": [...]}}, the stages that changed since the last event (all of them at first),
 *       at most {@code solvertune.limits.events.max-stages-per-event} per event;</li>
 *   <li>{@code end}: the job once it is SUCCEEDED, FAILED or CANCELLED, after which the stream closes;</li>
 *   <li>{@code error}: a problem (401) when the token that opened the stream was revoked; the stream closes.</li>
 * </ul>
 * The token is checked again on every tick ({@link TokenService#isActive}: at once after a revocation in this process,
 * within the token cache's TTL after one elsewhere). A client that does not keep up is not sent more until its last
 * event was written. A token may hold at most {@code solvertune.limits.events.max-streams-per-token} streams (429).
 * The polling runs on a small shared scheduler, not one thread per stream.
 */
@Singleton
public class JobEvents {

    private static final Logger LOG = Logger.getLogger(JobEvents.class);

    private final JobService jobs;
    private final TokenService tokens;
    private final ObjectMapper json;
    private final Duration interval;
    private final Limits.Events limits;
    private final Map<Long, AtomicInteger> streamsPerToken = new ConcurrentHashMap<>();
    private final ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(1, r -> {
        Thread t = new Thread(r, "job-events");
        t.setDaemon(true);
        return t;
    });

    public JobEvents(JobService jobs, TokenService tokens, ObjectMapper json, Limits limits, JobsConfig config) {
        this.jobs = jobs;
        this.tokens = tokens;
        this.json = json;
        this.interval = config.eventsInterval();
        this.limits = limits.events();
    }

    void onStop(@Observes ShutdownEvent e) {
        scheduler.shutdownNow();
    }

    /**
     * Streams the job (already checked visible to {@code who}) into {@code sink} until it finishes.
     *
     * @throws WebApplicationException 429 when the token already holds its maximum of streams
     */
    public void stream(long jobId, Principal who, SseEventSink sink, Sse sse) {
        AtomicInteger open = streamsPerToken.computeIfAbsent(who.tokenId(), k -> new AtomicInteger());
        if (open.incrementAndGet() > limits.maxStreamsPerToken()) {
            open.decrementAndGet();
            throw new WebApplicationException("token '" + who.name() + "' already has "
                    + limits.maxStreamsPerToken() + " event streams open (server setting "
                    + "solvertune.limits.events.max-streams-per-token); close one first",
                    Response.status(429).header(HttpHeaders.RETRY_AFTER, "5").build());
        }
        Stream s = new Stream(jobId, who, sink, sse, open);
        // The first events go out on the request's own thread: the first send writes the response head, and a
        // scheduler thread racing the resource method's return for it failed the stream ("Response head already
        // sent") and left the client with nothing. Later polls run on the scheduler.
        s.run();
        synchronized (s) {
            if (!s.stopped) {
                s.future = scheduler.scheduleWithFixedDelay(s, interval.toMillis(), interval.toMillis(),
                        TimeUnit.MILLISECONDS);
            }
        }
    }

    /** Streams open now (tests). */
    public int openStreams() {
        return streamsPerToken.values().stream().mapToInt(AtomicInteger::get).sum();
    }

    private final class Stream implements Runnable {
        private final long jobId;
        private final Principal who;
        private final SseEventSink sink;
        private final Sse sse;
        private final AtomicInteger open;
        private volatile ScheduledFuture<?> future;
        /** stage name → the JSON last sent for it */
        private final Map<String, String> sent = new HashMap<>();
        private String lastHead;
        private CompletionStage<?> lastSend;
        private long seq;
        private boolean stopped;

        Stream(long jobId, Principal who, SseEventSink sink, Sse sse, AtomicInteger open) {
            this.jobId = jobId;
            this.who = who;
            this.sink = sink;
            this.sse = sse;
            this.open = open;
        }

        @Override
        public void run() {
            try {
                if (stopped) {
                    if (future != null) {
                        future.cancel(false);
                    }
                    return;
                }
                if (sink.isClosed() || (lastSend != null && lastSend.toCompletableFuture().isCompletedExceptionally())) {
                    stop(); // the client went away
                    return;
                }
                boolean writing = lastSend != null && !lastSend.toCompletableFuture().isDone();
                if (!active()) {
                    if (!writing) {
                        send("error", Problems.toJson(Problems.of(401, "the token of this stream was revoked",
                                "/api/v1/jobs/" + jobId + "/events")));
                    }
                    stop();
                    return;
                }
                if (writing) {
                    return; // the client has not taken the last event yet: nothing more until it has
                }
                Optional<Map.Entry<JobView, List<JobView.StageView>>> snap = jobs.snapshot(jobId, who);
                if (snap.isEmpty()) {
                    stop();
                    return;
                }
                JobView head = snap.get().getKey();
                boolean terminal = JobStore.TERMINAL.contains(head.state());
                List<JobView.StageView> changed = new ArrayList<>();
                Map<String, String> now = new HashMap<>();
                for (JobView.StageView st : snap.get().getValue()) {
                    String text = json.writeValueAsString(st);
                    now.put(st.name(), text);
                    if (!text.equals(sent.get(st.name()))) {
                        changed.add(st);
                    }
                }
                String headKey = json.writeValueAsString(head.withProgress(head.progress() == null ? null
                        : head.progress().withoutEta()));
                if (!terminal && !headKey.equals(lastHead)) {
                    send("job", json.writeValueAsString(head));
                }
                lastHead = headKey;
                int per = limits.maxStagesPerEvent();
                for (int i = 0; i < changed.size(); i += per) {
                    send("stages", json.writeValueAsString(Map.of("stages",
                            changed.subList(i, Math.min(changed.size(), i + per)))));
                }
                sent.clear();
                sent.putAll(now);
                if (terminal) {
                    send("end", json.writeValueAsString(head));
                    stop();
                }
            } catch (JobStoreException e) {
                LOG.debugf("job %d events: %s (trying again)", jobId, e.getMessage());
            } catch (JsonProcessingException | RuntimeException e) {
                LOG.warnf(e, "job %d events stream ended", jobId);
                stop();
            }
        }

        /** Whether the stream's token is still valid; a database outage counts as "still valid, ask again". */
        private boolean active() {
            try {
                return tokens.isActive(who);
            } catch (RuntimeException e) {
                if (DatabaseOutage.isUnavailable(e)) {
                    throw new JobStoreException("token check: " + e.getMessage(), e);
                }
                throw e;
            }
        }

        private void send(String name, String data) {
            lastSend = sink.send(sse.newEventBuilder().name(name).id(Long.toString(++seq))
                    .mediaType(MediaType.APPLICATION_JSON_TYPE).data(data).build());
        }

        private void stop() {
            if (stopped) {
                return;
            }
            stopped = true;
            open.decrementAndGet();
            if (future != null) {
                future.cancel(false);
            }
            if (!sink.isClosed()) {
                sink.close();
            }
        }
    }
}
