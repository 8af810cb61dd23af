package io.solvertune.tuning.fit.consistency;

import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.consistency.Consistency;
import io.solvertune.numerics.solver.consistency.Consistency.Form;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Hyperparameters of the ConsistencySolver trainer; every bad value is refused naming its field (the CLI option and
 * the job-spec field have the same name). Defaults follow the reference where it has one (PPO clip 0.2, entropy 0.01,
 * one PPO epoch, advantages x10, order 4, 11 bins, hidden 256, lr 1e-4) and are scaled down for a CPU otherwise.
 *
 * @param form            model output combined (the reference: noise)
 * @param order           outputs combined at most (2..4; the reference: 4)
 * @param policy          categorical bins (the reference) or Gaussian
 * @param bins            categorical: values per coefficient (2..401)
 * @param initStd         Gaussian: initial standard deviation of every coefficient
 * @param hidden          width of the two hidden layers (1..1024)
 * @param nfeInput        whether the network also sees NFE / maxNfe besides (s, t)
 * @param minNfe          smallest NFE drawn per iteration (>= 2)
 * @param maxNfe          largest NFE drawn per iteration (<= 50)
 * @param iterations      training iterations (1..100,000)
 * @param noises          training noises per iteration (1..64), each with its own group
 * @param group           rollouts per noise (2..256): the GRPO group
 * @param ppoEpochs       policy updates per batch of rollouts (1..16)
 * @param clip            PPO clip range (0, 1)
 * @param entropy         entropy bonus coefficient (>= 0)
 * @param learningRate    Adam learning rate (0, 1]
 * @param maxGradNorm     global gradient-norm clip (> 0)
 * @param advantageScale  factor on the group-normalised advantages (the reference: 10)
 * @param seed            seed of the network initialisation, the noise choice and the action draws
 * @param spacing         the grid the solver runs on
 * @param inference       how the trained policy becomes a table
 * @param checkpointEvery iterations between checkpoints (>= 1)
 */
public record TrainerSettings(Form form, int order, PolicyKind policy, int bins, double initStd, int hidden,
                              boolean nfeInput, int minNfe, int maxNfe, int iterations, int noises, int group,
                              int ppoEpochs, double clip, double entropy, double learningRate, double maxGradNorm,
                              double advantageScale, long seed, TimestepSpacing spacing, Policy.Inference inference,
                              int checkpointEvery) {

    /** The policy families. */
    public enum PolicyKind { CATEGORICAL, GAUSSIAN }

    public TrainerSettings {
        require(form != null, "form", "is required");
        require(order >= 2 && order <= Consistency.MAX_ORDER, "order", "must be in [2, " + Consistency.MAX_ORDER
                + "], got " + order);
        require(policy != null, "policy", "is required");
        require(bins >= 2 && bins <= 401, "bins", "must be in [2, 401], got " + bins);
        require(initStd > 0 && initStd <= 10, "initStd", "must be in (0, 10], got " + initStd);
        require(hidden >= 1 && hidden <= 1024, "hidden", "must be in [1, 1024], got " + hidden);
        require(minNfe >= 2 && minNfe <= 50, "minNfe", "must be in [2, 50], got " + minNfe);
        require(maxNfe >= minNfe && maxNfe <= 50, "maxNfe", "must be in [minNfe, 50], got " + maxNfe);
        require(iterations >= 1 && iterations <= 100_000, "iterations", "must be in [1, 100000], got " + iterations);
        require(noises >= 1 && noises <= 64, "noises", "must be in [1, 64], got " + noises);
        require(group >= 2 && group <= 256, "group", "must be in [2, 256], got " + group);
        require(ppoEpochs >= 1 && ppoEpochs <= 16, "ppoEpochs", "must be in [1, 16], got " + ppoEpochs);
        require(clip > 0 && clip < 1, "clip", "must be in (0, 1), got " + clip);
        require(entropy >= 0 && entropy <= 10, "entropy", "must be in [0, 10], got " + entropy);
        require(learningRate > 0 && learningRate <= 1, "learningRate", "must be in (0, 1], got " + learningRate);
        require(maxGradNorm > 0 && Double.isFinite(maxGradNorm), "maxGradNorm", "must be a positive number, got "
                + maxGradNorm);
        require(advantageScale > 0 && advantageScale <= 1000, "advantageScale", "must be in (0, 1000], got "
                + advantageScale);
        require(spacing != null, "spacing", "is required");
        require(inference != null, "inference", "is required");
        require(checkpointEvery >= 1, "checkpointEvery", "must be >= 1, got " + checkpointEvery);
    }

    private static void require(boolean ok, String field, String message) {
        if (!ok) {
            throw new IllegalArgumentException(field + ": " + message);
        }
    }

    /** Defaults: noise form, order 4, Gaussian policy, NFE 4..10, 200 iterations of 4 noises x 16 rollouts. */
    public static TrainerSettings defaults() {
        return new TrainerSettings(Form.NOISE, 4, PolicyKind.GAUSSIAN, 11, 0.1, 64, false, 4, 10, 200, 4, 16, 1,
                0.2, 0.01, 3e-3, 1.0, 10.0, 0L, new TimestepSpacing.TimeUniform(), Policy.Inference.EXPECTED, 20);
    }

    /** The policy object. */
    Policy newPolicy() {
        return policy == PolicyKind.CATEGORICAL ? new CategoricalPolicy(order - 1, bins)
                : new GaussianPolicy(order - 1, initStd);
    }

    /** Inputs of the network. */
    int inputs() {
        return nfeInput ? 3 : 2;
    }

    public TrainerSettings withIterations(int n) {
        return new TrainerSettings(form, order, policy, bins, initStd, hidden, nfeInput, minNfe, maxNfe, n, noises,
                group, ppoEpochs, clip, entropy, learningRate, maxGradNorm, advantageScale, seed, spacing, inference,
                checkpointEvery);
    }

    public TrainerSettings withInference(Policy.Inference inf) {
        return new TrainerSettings(form, order, policy, bins, initStd, hidden, nfeInput, minNfe, maxNfe, iterations,
                noises, group, ppoEpochs, clip, entropy, learningRate, maxGradNorm, advantageScale, seed, spacing, inf,
                checkpointEvery);
    }

    /** Every field, for provenance. */
    public Map<String, Object> asMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("form", form.id());
        m.put("order", order);
        m.put("policy", policy.name().toLowerCase(java.util.Locale.ROOT));
        if (policy == PolicyKind.CATEGORICAL) {
            m.put("bins", bins);
        } else {
            m.put("initStd", initStd);
        }
        m.put("hidden", hidden);
        m.put("nfeInput", nfeInput);
        m.put("minNfe", minNfe);
        m.put("maxNfe", maxNfe);
        m.put("iterations", iterations);
        m.put("noises", noises);
        m.put("group", group);
        m.put("ppoEpochs", ppoEpochs);
        m.put("clip", clip);
        m.put("entropy", entropy);
        m.put("learningRate", learningRate);
        m.put("maxGradNorm", maxGradNorm);
        m.put("advantageScale", advantageScale);
        m.put("seed", seed);
        m.put("spacing", spacing.id());
        m.put("inference", inference.name().toLowerCase(java.util.Locale.ROOT));
        return m;
    }
}
