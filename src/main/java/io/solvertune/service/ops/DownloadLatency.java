package io.solvertune.service.ops;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.time.Duration;

/**
 * The download latency histogram: Quarkus times every HTTP request ({@code http.server.requests}, tagged with the
 * route's URI template, see {@code quarkus.micrometer.binder.http-server.match-patterns}); for the download paths
 * ({@code /api/v1/configs...} and a model's config aliases) this adds histogram buckets from 100 µs to 10 s, so
 * Prometheus can compute quantiles across processes ({@code histogram_quantile}).
 */
@Singleton
public class DownloadLatency {

    /** Whether the request URI tag is a download path. */
    static boolean isDownload(String uri) {
        return uri != null && (uri.startsWith("/api/v1/configs") || uri.matches("/api/v1/models/[^/]+/configs/.*"));
    }

    @Produces
    @Singleton
    MeterFilter downloadHistogram() {
        return new MeterFilter() {
            @Override
            public DistributionStatisticConfig configure(Meter.Id id, DistributionStatisticConfig config) {
                if (id.getName().equals("http.server.requests") && isDownload(id.getTag("uri"))) {
                    return DistributionStatisticConfig.builder().percentilesHistogram(true)
                            .minimumExpectedValue((double) Duration.ofNanos(100_000).toNanos())
                            .maximumExpectedValue((double) Duration.ofSeconds(10).toNanos())
                            .build().merge(config);
                }
                return config;
            }
        };
    }
}
