package io.solvertune.service.ops;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.runtime.StartupEvent;
import io.solvertune.numerics.model.TorchScriptDenoiser;
import io.solvertune.numerics.spec.DenoiserSpec;
import io.solvertune.numerics.spec.ModelSpec;
import io.solvertune.service.jobs.StageExecutorDecorator;
import io.solvertune.service.jobs.WorkersConfig;
import io.solvertune.tuning.job.PlannedStage;
import io.solvertune.tuning.job.ResolvedModel;
import io.solvertune.tuning.job.StageContext;
import io.solvertune.tuning.job.StageExecutor;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One device per worker ({@code solvertune.workers.devices}): a stage run by worker {@code i} sees the job's model
 * with that device when the model spec leaves it open (TorchScript models without {@code device} or with
 * {@code auto}). Two workers on a two-GPU host: {@code solvertune.workers.count=2},
 * {@code solvertune.workers.devices=gpu:0,gpu:1}.
 */
@Singleton
public class WorkerDevices implements StageExecutorDecorator {

    private final WorkersConfig config;

    public WorkerDevices(WorkersConfig config) {
        this.config = config;
    }

    /** Refuses device names the engine would not parse, at startup rather than at the first stage. */
    void check(@Observes StartupEvent e) {
        if (config.count() < 0) {
            throw new IllegalArgumentException("solvertune.workers.count: must be >= 0, got " + config.count());
        }
        for (String d : config.devices().orElse(List.of())) {
            try {
                TorchScriptDenoiser.parseDevice(d);
            } catch (IllegalArgumentException ex) {
                throw new IllegalArgumentException("solvertune.workers.devices: " + ex.getMessage(), ex);
            }
        }
    }

    /** Innermost: the stage itself sees the device. */
    @Override
    public int order() {
        return -1000;
    }

    @Override
    public StageExecutor decorate(String kind, StageExecutor executor) {
        return executor;
    }

    @Override
    public StageExecutor decorate(int worker, String kind, StageExecutor executor) {
        Optional<String> device = config.device(worker);
        if (device.isEmpty()) {
            return executor;
        }
        return ctx -> executor.execute(new OnDevice(ctx, device.get()));
    }

    /** {@code model} with {@code device} if its spec leaves the device open; otherwise {@code model} itself. */
    static ResolvedModel onDevice(ResolvedModel model, String device) {
        ModelSpec s = model.spec();
        if (!(s.model() instanceof DenoiserSpec.TorchScript t)
                || t.device() != null && !"auto".equalsIgnoreCase(t.device().strip())) {
            return model;
        }
        DenoiserSpec.TorchScript moved = new DenoiserSpec.TorchScript(t.file(), t.inputShape(), t.predictionType(),
                t.numClasses(), t.nullClass(), t.timeInput(), t.dtype(), device);
        return new ResolvedModel(model.id(), model.name(), model.contentHash(),
                new ModelSpec(s.schedule(), moved, s.guidance(), s.dtype()));
    }

    /** The stage's context with the worker's device on the model. */
    private static final class OnDevice extends StageContext.Forwarding {
        private final String device;

        OnDevice(StageContext ctx, String device) {
            super(ctx);
            this.device = device;
        }

        @Override
        public ResolvedModel model() {
            return onDevice(delegate().model(), device);
        }
    }
}
