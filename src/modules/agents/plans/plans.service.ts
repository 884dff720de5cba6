import { Injectable } from '@nestjs/common';
import type { Tier } from '../../../common/tiers/tiers.js';
import { tierAtLeast } from '../agent-registry.service.js';
import { AgentsException } from '../agents.errors.js';
import { type ExecutionPlan, ExecutionPlanBuilder } from './execution-plan.js';
import { PlanCache } from './plan-cache.js';
import { PromptTemplates, type TemplateId } from './prompt-templates.js';

/**
 * Plans: the built-in playbooks, and the plans of plan mode, built from the
 * route and kept in an LRU cache keyed by that route (1000 routes at most).
 */
@Injectable()
export class PlansService {
  private readonly cache = new PlanCache(1000);
  private readonly playbooks: ExecutionPlan[];

  constructor(private readonly templates: PromptTemplates) {
    this.playbooks = [
      // The project agent's data (free tier) feeds the task agent (free tier).
      this.builder('task_agent')
        .addLlmStep('tpl_task_extract_from_project', { project: '{{project}}' })
        .addDataStep('create_record', 0, { table: 'tasks' })
        .build({
          id: 'create_tasks_from_project',
          name: 'Create tasks from a project',
          description: 'LLM extracts actionable tasks from project context, then creates task records',
          required_tier: 'free',
        }),
      this.builder('note_agent')
        .addLlmStep('tpl_note_weekly_summary', { week_start: '{{week_start}}', items: '{{items}}' })
        .addDataStep('create_record', 0, { table: 'notes' })
        .build({
          id: 'generate_weekly_note',
          name: 'Generate a weekly note',
          description: 'LLM generates a weekly summary, then creates a note record',
          required_tier: 'free',
        }),
    ];
  }

  builder(agent: string): ExecutionPlanBuilder {
    return new ExecutionPlanBuilder(agent, (id) => this.templates.has(id));
  }

  /** The playbooks `tier` may run. */
  listPlaybooks(tier: Tier): ExecutionPlan[] {
    return this.playbooks.filter((p) => tierAtLeast(tier, p.required_tier ?? 'free'));
  }

  getPlaybookOrThrow(id: string, tier: Tier): ExecutionPlan {
    const playbook = this.playbooks.find((p) => p.id === id);
    if (!playbook) throw new AgentsException('not_found', `No playbook with id ${id}`);
    const needed = playbook.required_tier ?? 'free';
    if (!tierAtLeast(tier, needed)) {
      throw new AgentsException(
        'tier_required',
        `The playbook ${id} requires the ${needed} tier or higher; your tier is ${tier}.`,
        { required_tier: needed },
      );
    }
    return playbook;
  }

  /**
   * The plan of a routed message: one step per agent (each taking the previous
   * step's result), then a synthesis step when there are several. The message
   * itself is a `{{message}}` placeholder, so cached plans hold no user text.
   */
  planForRoute(agents: Array<{ name: string; templateId: TemplateId }>): ExecutionPlan {
    const key = agents.map((a) => a.name).join(',');
    const cached = this.cache.getPlan(key);
    if (cached) return cached;
    const builder = this.builder(key);
    agents.forEach(({ name, templateId }, index) => {
      const variables = { agent: name, message: '{{message}}' };
      if (index === 0) builder.addLlmStep(templateId, variables);
      else builder.addLlmDataStep(templateId, index - 1, variables);
    });
    if (agents.length > 1) builder.addDataStep('synthesize', agents.length - 1, null);
    const plan = builder.build();
    this.cache.cachePlan(key, plan);
    return plan;
  }

  cacheStats() {
    return this.cache.stats();
  }
}
