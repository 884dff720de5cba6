import { ApiProperty } from '@nestjs/swagger';
import { TIERS, type Tier } from '../../../common/tiers/tiers.js';
import { ACTION_TABLES, PLAN_ACTION_TYPES, type ActionTable, type PlanActionType } from '../agent.types.js';
import { TEMPLATE_IDS } from '../plans/prompt-templates.js';

export class AgentInfoDto {
  @ApiProperty({ example: 'task_agent' })
  name!: string;

  @ApiProperty({ example: 'Manages tasks and comments: list, create, update, delete, due-today, comments' })
  description!: string;

  @ApiProperty({ type: [String], example: ['list_tasks', 'create_task'] })
  tools!: string[];

  @ApiProperty({ description: "Whether the caller's tier may use this agent", example: true })
  available!: boolean;
}

export class PlanActionDto {
  @ApiProperty({ enum: PLAN_ACTION_TYPES, example: 'create_record' })
  type!: PlanActionType;

  @ApiProperty({ enum: ACTION_TABLES, nullable: true, example: 'tasks' })
  table!: ActionTable | null;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    description: 'The record fields; `id` names the record on updates and deletes. Times in ms.',
    example: { title: 'Send the invoice', priority: 'high', due_date: 1767225600000, status: 'todo' },
  })
  data!: Record<string, unknown> | null;

  @ApiProperty({ nullable: true, description: 'The agent that proposed it', example: 'task_agent' })
  agent!: string | null;
}

export class PlanStepDto {
  @ApiProperty({ description: 'llm, create_record, synthesize, …', example: 'llm' })
  action!: string;

  @ApiProperty({
    nullable: true,
    description: 'A server-side template id (the text never leaves the server)',
    example: 'tpl_task_agent_default',
    enum: TEMPLATE_IDS,
  })
  prompt_template!: string | null;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    description: 'Step inputs; {{name}} are placeholders the caller fills',
    example: { agent: 'task_agent', message: '{{message}}' },
  })
  variables!: Record<string, unknown> | null;

  @ApiProperty({ nullable: true, type: 'integer', description: 'The earlier step (0-based) this one takes' })
  data_from_step!: number | null;
}

export class ExecutionPlanDto {
  @ApiProperty({
    description: 'The agent, or the agents of a pipeline joined by commas',
    example: 'task_agent',
  })
  agent!: string;

  @ApiProperty({ type: [PlanStepDto] })
  steps!: PlanStepDto[];
}

export class PlaybookDto extends ExecutionPlanDto {
  @ApiProperty({ example: 'create_tasks_from_project' })
  id!: string;

  @ApiProperty({ example: 'Create tasks from a project' })
  name!: string;

  @ApiProperty()
  description!: string;

  @ApiProperty({ enum: TIERS, description: 'The cheapest tier that may run it', example: 'free' })
  required_tier!: Tier;
}
