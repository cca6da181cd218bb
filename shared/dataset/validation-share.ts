import type { ModelSpec } from './models.ts';
import type { ValidationIssue } from './report.ts';

/**
 * Vertex AI's validation-set rule as documented: "5000, or 30% of training examples if there are
 * more than 1000 validation examples" (supervised-tuning page, 2026-09-25). Whether that caps a
 * large validation set at 30% of the training set, or lets it grow to 30% past 5000, is not
 * confirmed, so tunedrop never refuses on it: a validation set over the share is a warning, and
 * Vertex AI's own answer stands. (maxValidationExamples alone stays an error: it is the documented
 * maximum.) Needs both sets' counts, so it is checked where both were validated.
 */
export function validationShareWarning(
  model: ModelSpec,
  trainingExamples: number,
  validationExamples: number,
): ValidationIssue | undefined {
  const rule = model.limits.validationShareOfTraining;
  if (!rule || validationExamples <= rule.appliesAboveExamples) return undefined;
  if (validationExamples <= rule.share * trainingExamples) return undefined;
  const share = `${Math.round(rule.share * 100)}%`;
  return {
    line: 0,
    code: 'validation_share',
    path: '',
    message: `${validationExamples} validation examples are more than ${share} of the ${trainingExamples} training examples; Vertex AI documents a limit of ${share} of the training examples above ${rule.appliesAboveExamples} validation examples for ${model.id}. UNCONFIRMED how Vertex AI applies it, so this is a warning and Vertex AI's answer stands`,
  };
}
