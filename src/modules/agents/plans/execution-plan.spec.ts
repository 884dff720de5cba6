import { PlanValidationError } from '../agents.errors.js';
import { ExecutionPlanBuilder } from './execution-plan.js';
import { PromptTemplates, TEMPLATE_IDS } from './prompt-templates.js';

const templates = PromptTemplates.withCanary('cnry0123456789abcdef01234567');
const builder = () => new ExecutionPlanBuilder('task_agent', (id) => templates.has(id));

describe('ExecutionPlanBuilder', () => {
  it('builds steps in order with their references', () => {
    const plan = builder()
      .addLlmStep('tpl_task_extract_from_project', { project: '{{project}}' })
      .addDataStep('create_record', 0, { table: 'tasks' })
      .addStep('send_notification', { text: 'done' })
      .build({ id: 'p', name: 'P', description: 'd', required_tier: 'free' });
    expect(plan).toEqual({
      id: 'p',
      name: 'P',
      description: 'd',
      required_tier: 'free',
      agent: 'task_agent',
      steps: [
        {
          action: 'llm',
          prompt_template: 'tpl_task_extract_from_project',
          variables: { project: '{{project}}' },
          data_from_step: null,
        },
        { action: 'create_record', prompt_template: null, variables: { table: 'tasks' }, data_from_step: 0 },
        {
          action: 'send_notification',
          prompt_template: null,
          variables: { text: 'done' },
          data_from_step: null,
        },
      ],
    });
  });

  it('rejects a reference to the step itself, a later step, a missing or a negative step', () => {
    expect(() => builder().addDataStep('x', 0).build()).toThrow(PlanValidationError);
    expect(() => builder().addStep('a').addDataStep('b', 2).addStep('c').build()).toThrow(/step 2/);
    expect(() => builder().addStep('a').addDataStep('b', 7).build()).toThrow(/not an earlier step/);
    expect(() => builder().addStep('a').addDataStep('b', -1).build()).toThrow(PlanValidationError);
    expect(() => builder().addStep('a').addDataStep('b', 0.5).build()).toThrow(PlanValidationError);
  });

  it('rejects an unknown template and an empty plan', () => {
    expect(() => builder().addLlmStep('tpl_secret_sauce').build()).toThrow(/unknown template/);
    expect(() => builder().build()).toThrow(/at least one step/);
  });

  it('copies the steps, so building twice or changing a result leaves others alone', () => {
    const b = builder().addStep('a', { n: 1 });
    const first = b.build();
    first.steps[0].variables!.n = 2;
    expect(b.build().steps[0].variables).toEqual({ n: 1 });
  });
});

describe('PromptTemplates', () => {
  it('has exactly the six template ids', () => {
    expect(TEMPLATE_IDS).toEqual([
      'tpl_task_agent_default',
      'tpl_checkpoint_agent_default',
      'tpl_project_agent_default',
      'tpl_note_agent_default',
      'tpl_task_extract_from_project',
      'tpl_note_weekly_summary',
    ]);
    for (const id of TEMPLATE_IDS) expect(templates.text(id).length).toBeGreaterThan(50);
    expect(templates.has('tpl_nope')).toBe(false);
  });

  it('fills placeholders and leaves unknown ones', () => {
    expect(templates.render('tpl_note_weekly_summary', { week_start: '2030-01-07' })).toContain(
      'week starting 2030-01-07',
    );
    expect(templates.render('tpl_note_weekly_summary', {})).toContain('{{items}}');
  });
});
