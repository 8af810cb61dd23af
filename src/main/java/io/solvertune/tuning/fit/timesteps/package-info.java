/**
 * Learned timesteps (issue 17): the student's sampling times optimised per (model, NFE, guidance) against the
 * teacher's final state on training seeds. A monotone parameterisation ({@link GridParameterisation}, LD3's
 * softmax-cumsum of step sizes), a GITS-style dynamic programme over a teacher grid as second initialiser
 * ({@link GitsInitialiser}), a derivative-free optimiser ({@link TimestepOptimizer}, Commons Math CMA-ES) on the
 * final-state error of the unrolled solver ({@link FinalStateObjective}), and the method run that starts from the best
 * untuned baseline, chooses by absolute error on selection rows and validates on held-out seeds
 * ({@link LearnedTimesteps}). Imports eval and fit; nothing imports this package but the command line.
 */
package io.solvertune.tuning.fit.timesteps;
