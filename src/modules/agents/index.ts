/** What the agents module offers the rest of the app; nothing else of it is imported from outside. */
export * from './agent-registry.service.js';
export * from './agent.types.js';
export * from './agents.module.js';
export * from './dto/agents.dto.js';
export * from './orchestrator.service.js';
export * from './plans/execution-plan.js';
export * from './plans/prompt-templates.js';
