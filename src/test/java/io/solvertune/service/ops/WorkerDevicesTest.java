package io.solvertune.service.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.solvertune.numerics.spec.DenoiserSpec;
import io.solvertune.numerics.spec.ModelSpec;
import io.solvertune.service.jobs.WorkersConfig;
import io.solvertune.tuning.job.ResolvedModel;
import org.junit.jupiter.api.Test;

/** The per-worker device reaches TorchScript models that leave the device open, and only those. */
class WorkerDevicesTest {

    private static ResolvedModel torchscript(String device) {
        DenoiserSpec.TorchScript t = new DenoiserSpec.TorchScript("/m/net.pt", new long[] {1, 8, 8}, "noise", null,
                null, "ddpm_index", "float32", device);
        return new ResolvedModel(7, "net", "ab".repeat(32), new ModelSpec(null, t, null, null));
    }

    @Test
    void anOpenDeviceTakesTheWorkersAndAnExplicitOneStays() {
        ResolvedModel open = WorkerDevices.onDevice(torchscript(null), "gpu:1");
        assertEquals("gpu:1", ((DenoiserSpec.TorchScript) open.spec().model()).device());
        assertEquals("/m/net.pt", ((DenoiserSpec.TorchScript) open.spec().model()).file());
        assertEquals(7, open.id());
        assertEquals("gpu:1", ((DenoiserSpec.TorchScript) WorkerDevices.onDevice(torchscript("auto"), "gpu:1")
                .spec().model()).device());
        ResolvedModel explicit = torchscript("cpu");
        assertSame(explicit, WorkerDevices.onDevice(explicit, "gpu:1"));
    }

    @Test
    void workerIOfNUsesEntryIModN() {
        WorkersConfig c = new WorkersConfig() {
            public boolean enabled() {
                return true;
            }

            public int count() {
                return 3;
            }

            public java.time.Duration pollInterval() {
                return java.time.Duration.ofSeconds(1);
            }

            public java.time.Duration shutdownGrace() {
                return java.time.Duration.ofSeconds(30);
            }

            public java.util.Optional<java.util.List<String>> devices() {
                return java.util.Optional.of(java.util.List.of("gpu:0", "gpu:1"));
            }
        };
        assertEquals("gpu:0", c.device(0).orElseThrow());
        assertEquals("gpu:1", c.device(1).orElseThrow());
        assertEquals("gpu:0", c.device(2).orElseThrow());
    }

    @Test
    void anUnknownRoleIsRefusedNamingTheKey() {
        assertEquals(ProcessRole.WORKER, ProcessRole.parse(" Worker "));
        assertEquals(ProcessRole.ALL, ProcessRole.parse(null));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ProcessRole.parse("gpu"));
        assertEquals("solvertune.role: expected all, api or worker, got 'gpu'", e.getMessage());
    }
}
