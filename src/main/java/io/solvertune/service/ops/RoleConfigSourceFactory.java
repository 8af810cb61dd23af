package io.solvertune.service.ops;

import io.smallrye.config.ConfigSourceContext;
import io.smallrye.config.ConfigSourceFactory;
import io.smallrye.config.ConfigValue;
import io.smallrye.config.PropertiesConfigSource;
import java.util.List;
import org.eclipse.microprofile.config.spi.ConfigSource;

/**
 * Turns {@code solvertune.role} into the settings it implies ({@link ProcessRole#implied()}) at ordinal
 * {@value #ORDINAL}: above {@code application.properties} (250), below environment variables (300) and system
 * properties (400), so an explicit override still wins. Registered in
 * {@code META-INF/services/io.smallrye.config.ConfigSourceFactory}.
 */
public final class RoleConfigSourceFactory implements ConfigSourceFactory {

    static final int ORDINAL = 275;

    @Override
    public Iterable<ConfigSource> getConfigSources(ConfigSourceContext ctx) {
        ConfigValue v = ctx.getValue(ProcessRole.KEY);
        ProcessRole role = ProcessRole.parse(v == null ? null : v.getValue());
        if (role.implied().isEmpty()) {
            return List.of();
        }
        return List.of(new PropertiesConfigSource(role.implied(), "solvertune-role-" + role.id(), ORDINAL));
    }
}
