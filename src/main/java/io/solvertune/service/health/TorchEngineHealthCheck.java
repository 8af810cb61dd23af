package io.solvertune.service.health;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/** Readiness: the DJL PyTorch engine is loaded (the datasource check comes from the datasource extension). */
@Readiness
@ApplicationScoped
public class TorchEngineHealthCheck implements HealthCheck {

    @Inject
    TorchEngine engine;

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder b = HealthCheckResponse.named("DJL " + TorchEngine.ENGINE + " engine");
        if (engine.isLoaded()) {
            return b.up().withData("version", engine.version()).build();
        }
        return b.down().withData("error", String.valueOf(engine.failure())).build();
    }
}
