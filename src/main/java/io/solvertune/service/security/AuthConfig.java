package io.solvertune.service.security;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;

/** API tokens ({@code solvertune.auth.*}): the token caches and the budget of database lookups, README "Limits". */
@ConfigMapping(prefix = "solvertune.auth")
public interface AuthConfig {

    /** How long a token's verdict is kept before it is looked up again. */
    @WithDefault("5S")
    Duration cacheTtl();

    /** {@code cache.*}: the two caches' sizes. */
    Cache cache();

    /** Database lookups per second of tokens never seen valid (beyond: 503). */
    @WithDefault("50")
    double unknownLookupsPerSecond();

    /** Remembered valid and unknown tokens (two separate caches). */
    interface Cache {
        @WithDefault("10000")
        int maxValid();

        @WithDefault("10000")
        int maxUnknown();
    }
}
