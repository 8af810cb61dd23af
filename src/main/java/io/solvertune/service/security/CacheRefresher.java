package io.solvertune.service.security;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The one background thread on which {@link RefreshAheadCache}s reload entries (blocking database lookups, off the
 * event loop and off the request's worker thread). Bounded: when it falls behind, further refreshes are dropped and
 * the entries simply expire and load on the request path as without refresh-ahead.
 */
@ApplicationScoped
public class CacheRefresher {

    private final ExecutorService executor = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(1024), r -> {
                Thread t = new Thread(r, "solvertune-cache-refresh");
                t.setDaemon(true);
                return t;
            }, new ThreadPoolExecutor.AbortPolicy());

    public Executor executor() {
        return executor;
    }

    @PreDestroy
    void stop() {
        executor.shutdownNow();
    }
}
