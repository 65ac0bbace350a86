/** The definitions every report prints next to its numbers, in one place so code and report agree. */
export const DEFINITIONS: Record<string, string> = {
  'clean score':
    'pretrained protocol: the clean cell (same model, task, seed, recipe, probe, recovery, device and dtype, no corruption) after fine-tuning. finetuned protocol: the task model before corruption (beforeCorruption).',
  damage:
    "pretrained: the clean model's linear-probe score minus the corrupted model's probe score (frozen features, before fine-tuning). finetuned: beforeCorruption minus afterCorruption.",
  'recovered score': "the corrupted cell's score after fine-tuning (final).",
  control:
    'finetuned protocol: one cell per clean task model (model, task, seed, recipe, recovery) that loads the task model and heals it exactly as its corrupted cells do (the same healing epochs, batches, dropout stream and recovery settings, MLM steps included) with no corruption. Its final score is the control score. Under freezeUncorrupted it trains only the task head and pooler, as a cell with no corrupted parameters would.',
  'residual gap':
    'what healing did not give back, against a reference trained alike. pretrained: clean final minus corrupted final (the clean cell is fine-tuned like the corrupted one). finetuned: control score minus corrupted final (the control is healed like the corrupted one). A finetuned cell without a done control has none (and no recovery ratio): the gap to the task model before healing is never used in its place.',
  'gap to the task model before healing (no control)':
    'finetuned protocol only: beforeCorruption minus final, the gap to the task model as it was before healing (gapToTaskModelBeforeHealing in the JSON). Healing is more training: a task model that was not converged gains from it corrupted or not, so this gap counts that gain as recovery and goes negative ("better than clean") although nothing was healed beyond what the control gains. Kept for comparison with earlier results, not a residual gap.',
  'recovery ratio':
    '(damage - residual gap) / damage, the share of the damage that fine-tuning healed (1: fully healed, 0: nothing), with the residual gap of the protocol (finetuned: against the control). Undefined when |damage| is below the minimum damage option. For a group: from the mean damage and the mean gap over the same seeds. Under the pretrained protocol damage is a probe difference and the gap a fine-tuned one, so the ratio compares two scales.',
  'recovery curve': 'the primary metric after each epoch of (re)training; finetuned cells start at epoch 0, right after corruption.',
  interval:
    'percentile bootstrap of the mean over seeds (resampling seeds), seeded so every run gives the same interval; none with one seed. With few seeds the percentile bootstrap is too narrow; the number of seeds is printed next to every interval.',
  'layer set':
    'the encoder layers a corruption targeted, resolved against the model\'s depth; cells with the same set ("bottom:2" and "0-1") are the same experiment and share a row.',
  'bottom vs top':
    'bottom-k minus top-k corruption at the same dose, paired by seed; paired t-test, exact sign-flip permutation test, Cohen d_z (mean difference over the sd of the differences), and the seeds needed for 80% power at the observed d_z.',
  'Shapley value':
    "a layer's average marginal contribution to the damage (or residual gap) over all orders of corrupting layers; v(S) is the quantity when exactly the layers S are corrupted at the same dose, v(empty) = 0; values add up to v(all layers). Exact from all 2^L - 1 subsets, else Monte-Carlo over the permutations of a Shapley plan with their standard error. Per seed, then mean and interval over seeds that have every coalition.",
  interaction:
    "pair: v({i,j}) - v({i}) - v({j}), positive when corrupting both hurts more than the two alone; shapley-index: Grabisch's interaction index over all coalitions (exact games only).",
  'dose-response':
    'score against corruption level (gaussian sigma, uniform lambda, bit-flip rate; log scale) or share of entries corrupted, with the clean score at dose 0 (finetuned protocol, after healing: the control score, so that the gain from healing alone is not read as a dose effect) and a least-squares logistic curve whose top is the clean score; the half-loss dose is its midpoint, where half the drop from the clean score to the fitted floor is lost (shown only inside the measured doses).',
  'excluded cells':
    'diverged, failed, running and pending cells, and cells whose clean baseline is not done, have no quantities: they are counted in every table and never averaged in.',
};
