package io.solvertune.service.limits;

import io.quarkus.runtime.configuration.MemorySize;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.solvertune.tuning.job.JobLimits;

/**
 * Every size a caller controls, bounded ({@code solvertune.limits.*}; documented in {@code application.properties}
 * and in the README's "Limits" table). The defaults keep every example job and test valid.
 */
@ConfigMapping(prefix = "solvertune.limits")
public interface Limits {

    /** What one job spec may ask for. */
    Job job();

    /** Model specs. */
    Model model();

    /** HTTP requests. */
    Request request();

    /** Job views and their event streams. */
    Events events();

    /** {@code solvertune.limits.job.*}: see {@link JobLimits}. */
    interface Job {
        @WithDefault("100000")
        int maxSeeds();

        @WithDefault("256")
        int maxShardsPerSplit();

        @WithDefault("2000")
        int maxStages();

        @WithDefault("16")
        int maxNfeValues();

        @WithDefault("8")
        int maxGuidanceValues();

        @WithDefault("100")
        double maxGuidance();

        @WithDefault("100000")
        int maxTeacherSteps();

        @WithDefault("4096")
        int maxBatch();
    }

    /** {@code solvertune.limits.model.*}. */
    interface Model {
        /** Longest discrete schedule: {@code numTrainTimesteps}, {@code betas}, {@code alphasCumprod}. */
        @WithDefault("100000")
        int maxScheduleLength();
    }

    /** {@code solvertune.limits.request.*}. */
    interface Request {
        /** Largest JSON request body (job specs, model registrations, patches, tokens). */
        @WithDefault("1M")
        MemorySize maxJsonBytes();

        /** Longest request target (path and query string) in characters. */
        @WithDefault("8192")
        int maxUriLength();

        /** Largest sum of header names and values in bytes. */
        @WithDefault("16K")
        MemorySize maxHeaderBytes();
    }

    /** {@code solvertune.limits.events.*}. */
    interface Events {
        /** Concurrent server-sent-event streams of one token. */
        @WithDefault("8")
        int maxStreamsPerToken();

        /** Stages in one {@code stages} event (a larger change is sent as several events). */
        @WithDefault("100")
        int maxStagesPerEvent();

        /** Default (and largest) page of stages in {@code GET /jobs/{id}}. */
        @WithDefault("500")
        int jobViewStages();
    }

    /** The job limits as the framework-free planner takes them. */
    static JobLimits jobLimits(Job j) {
        return new JobLimits(j.maxSeeds(), j.maxShardsPerSplit(), j.maxStages(), j.maxNfeValues(),
                j.maxGuidanceValues(), j.maxGuidance(), j.maxTeacherSteps(), j.maxBatch());
    }
}
