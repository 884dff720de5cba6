import type { Tier } from '../../../common/tiers/tiers.js';
import { PlanValidationError } from '../agents.errors.js';

/** One step of a plan: `prompt_template` is a template id or null, never prompt text. */
export interface PlanStep {
  action: string;
  prompt_template: string | null;
  variables: Record<string, unknown> | null;
  /** The earlier step whose output this step takes. */
  data_from_step: number | null;
}

export interface ExecutionPlan {
  agent: string;
  steps: PlanStep[];
  /** Playbooks only. */
  id?: string;
  name?: string;
  description?: string;
  required_tier?: Tier;
}

/**
 * Builds a plan step by step; `build()` checks that every `data_from_step`
 * names an earlier step and every template id exists.
 */
export class ExecutionPlanBuilder {
  private readonly steps: PlanStep[] = [];

  constructor(
    private readonly agent: string,
    private readonly isTemplate: (id: string) => boolean,
  ) {}

  /** A step that runs `action` with these parameters. */
  addStep(action: string, variables: Record<string, unknown> | null = null): this {
    this.steps.push({ action, prompt_template: null, variables, data_from_step: null });
    return this;
  }

  /** A model call on a server-side template. */
  addLlmStep(templateId: string, variables: Record<string, unknown> | null = null): this {
    this.steps.push({ action: 'llm', prompt_template: templateId, variables, data_from_step: null });
    return this;
  }

  /** A step that takes the output of step `dataFromStep` (0-based). */
  addDataStep(action: string, dataFromStep: number, variables: Record<string, unknown> | null = null): this {
    this.steps.push({ action, prompt_template: null, variables, data_from_step: dataFromStep });
    return this;
  }

  /** A model call on a template that takes the output of step `dataFromStep`. */
  addLlmDataStep(
    templateId: string,
    dataFromStep: number,
    variables: Record<string, unknown> | null = null,
  ): this {
    this.steps.push({ action: 'llm', prompt_template: templateId, variables, data_from_step: dataFromStep });
    return this;
  }

  build(meta: Pick<ExecutionPlan, 'id' | 'name' | 'description' | 'required_tier'> = {}): ExecutionPlan {
    if (this.steps.length === 0) throw new PlanValidationError('A plan needs at least one step');
    this.steps.forEach((step, index) => {
      const from = step.data_from_step;
      if (from !== null && (!Number.isInteger(from) || from < 0 || from >= index)) {
        throw new PlanValidationError(
          `Step ${index} takes data from step ${from}, which is not an earlier step (0–${index - 1})`,
        );
      }
      if (step.prompt_template !== null && !this.isTemplate(step.prompt_template)) {
        throw new PlanValidationError(`Step ${index} names an unknown template ${step.prompt_template}`);
      }
    });
    return {
      ...meta,
      agent: this.agent,
      steps: this.steps.map((s) => ({ ...s, variables: s.variables ? { ...s.variables } : null })),
    };
  }
}
