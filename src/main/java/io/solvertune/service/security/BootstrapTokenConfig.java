package io.solvertune.service.security;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.nio.file.Path;

/** The admin token of a fresh database ({@code solvertune.bootstrap-token.*}, {@link BootstrapToken}). */
@ConfigMapping(prefix = "solvertune.bootstrap-token")
public interface BootstrapTokenConfig {

    /** Whether a start creates it when the database holds no token (off in tests). */
    @WithDefault("true")
    boolean enabled();

    /** Where it is written (mode 0600). */
    @WithDefault("${user.home}/.solvertune/admin-token")
    Path file();
}
