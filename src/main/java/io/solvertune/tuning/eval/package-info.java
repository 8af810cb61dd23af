/**
 * Evaluation on teacher sets: per-seed MSE against the teacher's final state, paired verdicts, the best
 * untuned baseline sweep, hyperparameter search, image grids and classifier-based quality. Imports teacher, not fit.
 */
package io.solvertune.tuning.eval;
