package io.solvertune.tuning.job;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.solvertune.tuning.publish.ConfigProvenance;

/**
 * The explicit grid ConsistencySolver is trained and run on at one NFE ({@code fit-consistency-solver+timesteps}, or
 * {@code train-consistency --grids}).
 *
 * @param nfe          model calls (the grid has {@code nfe + 1} times: one step per call)
 * @param times        the grid, from the teacher's {@code tStart} to its {@code tEnd}
 * @param variant      the untuned solver and spacing the grid was learned for (e.g. {@code ddim karras(7.0)})
 * @param selectionMse that solver's mean MSE on the selection rows on this grid (the choice's criterion), if known
 * @param source       where it came from: the {@code timesteps} stage's name, or the file it was read from
 * @param learned      the grid's optimisation, as the {@code timesteps} stage recorded it (null when read from a file)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ConsistencyGrid(int nfe, double[] times, String variant, Double selectionMse, String source,
                             ConfigProvenance.LearnedGrid learned) {
    public ConsistencyGrid {
        if (times == null || times.length != nfe + 1) {
            throw new IllegalArgumentException("grids: NFE " + nfe + " needs " + (nfe + 1) + " times, got "
                    + (times == null ? "none" : times.length));
        }
        times = times.clone();
    }

    @Override
    public double[] times() {
        return times.clone();
    }
}
