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
    "(damage - residual gap) / damage, the share of the damage that fine-tuning healed (1: fully healed, 0: nothing), with the residual gap of the protocol (finetuned: against the control); the demo calls it the healed share. Only where there is damage to heal: a condition's mean damage must be positive with its interval above 0 (and at least the minimum damage option), else it is n/a with the reason (no damage to heal; damage not distinguishable from 0). A residual gap whose interval lies below 0 gives no ratio either: that is the finding 'better than clean', not more than 100% healed. For a group: from the mean damage and the mean gap over the same seeds; per cell: only where damage >= the minimum. Under the pretrained protocol damage is a probe difference and the gap a fine-tuned one, so the ratio compares two scales.",
  finding:
    "what a condition's residual gap interval says: above 0, not fully healed; below 0, better than clean (finetuned: better than the control): the corrupted model ended better than its reference, so the corruption improved the model (as re-initialising the top layers improves small-data fine-tuning in Zhang et al. 2021); containing 0, gap not distinguishable from 0.",
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
  CKA: "linear centred kernel alignment (Kornblith et al. 2019) of two sets of representations of the same evaluation examples (a fixed subset, the same in every cell): 1 when they are the same up to rotation and isotropic scaling, lower the less they share. A layer's representation of an example is its hidden states pooled two ways: the mean over the example's real tokens, and its first token. Layer 'embeddings' is the embeddings' output, whose first token is the same for every example (no CKA). The debiased estimator (spec measure.cka.estimator) uses the unbiased HSIC (Song et al. 2012) and is not pulled toward 1 by few examples.",
  'CKA before healing':
    'the model before corruption (pretrained protocol: the pre-trained model; finetuned: the task model) against the corrupted model, before any healing: where the damage sits.',
  'CKA after healing':
    'the clean fine-tuned model against the healed one: where the damage remains. pretrained protocol: the clean cell of the same seed after fine-tuning; finetuned: the task model (the clean cell of the same seed), so that for the control it is what healing alone changed.',
  'CKA from the start':
    "the model before corruption against the cell's final model: what all of its training changed (for the clean cell: fine-tuning alone).",
  'weight distance':
    "|final - reference| / |reference| (relative L2 distance) and the cosine of the final weights with the reference's, per part (embeddings, each layer, pooler, head; a part's whole leaves its LayerNorm gains out, which would outweigh small matrices) and per component. References: the pre-trained checkpoint, and the clean fine-tuned model (pretrained protocol: the clean cell of the same seed, saved by it; finetuned: the task model).",
  'return toward the original':
    'for re-initialised weight matrices: the cosine with their values before corruption right after re-initialisation and after healing; healing moves them back when the change (healed minus at re-initialisation, per seed) has its interval above 0.',
  'update norm': 'per epoch of (re)training and part: |weights after the epoch - weights before it|, and that over |weights before it|.',
  'MLM knowledge':
    "held-out masked-language-model loss and accuracy (evaluation texts masked as BERT masks them, 15% of tokens, the same masks in every cell) of the cell's encoder under the checkpoint's own MLM head, before corruption, after corruption and after healing; against the clean fine-tuned model's of the same seed. Only the encoder is the cell's (its word embeddings are also the tied decoder).",
  'measurement cost':
    "seconds a cell spent only on a measurement (extra passes, Gram matrices, weight reads, MLM evaluations); the representations taken from the cell's own evaluation passes add their pooling to those passes. In a fleet, shared by its cells.",
  'excluded cells':
    'diverged, failed, running and pending cells, and cells whose clean baseline is not done, have no quantities: they are counted in every table and never averaged in.',
};
