package io.solvertune.service.health;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import io.quarkus.runtime.Startup;
import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * The DJL PyTorch engine of this service: loaded at startup (the native load takes ~0.5 s warm, 2.5 s on the first
 * run, and must not land on the first request), with one root {@link NDManager} for the application's lifetime.
 * Work should use {@code root().newSubManager()} and close it.
 *
 * <p>If the engine cannot be loaded the service still starts (catalog, configs and downloads do not need it); the
 * readiness check reports DOWN with the reason.
 */
@Startup
@ApplicationScoped
public class TorchEngine {

    public static final String ENGINE = "PyTorch";
    private static final Logger LOG = Logger.getLogger(TorchEngine.class);

    /** false: do not load the engine (the {@code token} command, which never samples). */
    @ConfigProperty(name = "solvertune.engine.load-at-start", defaultValue = "true")
    boolean loadAtStart;

    private volatile NDManager root;
    private volatile String version;
    private volatile String failure = "not started";

    @PostConstruct
    void start() {
        if (!loadAtStart) {
            failure = "not loaded (solvertune.engine.load-at-start=false)";
            return;
        }
        // Never download anything (native libraries come from the pytorch-native-cpu jar); DJL reads this property
        // or DJL_OFFLINE (which wins) when it would download.
        if (System.getProperty("ai.djl.offline") == null && System.getenv("DJL_OFFLINE") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
        long t0 = System.nanoTime();
        try {
            Engine engine = Engine.getEngine(ENGINE);
            root = engine.newBaseManager();
            version = engine.getVersion();
            failure = null;
            LOG.infof("DJL %s %s loaded in %d ms (device %s)", ENGINE, version, (System.nanoTime() - t0) / 1_000_000,
                    root.getDevice());
        } catch (RuntimeException | LinkageError e) {
            failure = e.getClass().getSimpleName() + ": " + e.getMessage();
            LOG.errorf(e, "DJL %s engine could not be loaded; the service is not ready for tuning work", ENGINE);
        }
    }

    @PreDestroy
    void stop() {
        NDManager m = root;
        root = null;
        if (m != null) {
            m.close();
        }
    }

    /** Whether the engine is loaded and its root manager open. */
    public boolean isLoaded() {
        NDManager m = root;
        return m != null && m.isOpen();
    }

    /** The engine version, {@code null} if not loaded. */
    public String version() {
        return version;
    }

    /** Why the engine is not loaded, {@code null} if it is. */
    public String failure() {
        return failure;
    }

    /** The root manager; throws if the engine is not loaded. */
    public NDManager root() {
        NDManager m = root;
        if (m == null || !m.isOpen()) {
            throw new IllegalStateException("DJL " + ENGINE + " engine is not available: " + failure);
        }
        return m;
    }
}
