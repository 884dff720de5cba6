import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { PromptTemplates } from '../agents/index.js';
import { AgentRegistry } from '../agents/index.js';
import { type RedactionCounts, Sanitizer, type StreamSanitizer } from './sanitizer.js';

/**
 * The one sanitizer every chat output passes: REST bodies, and every chunk
 * and final frame of every stream. Its protected texts are all the server's
 * prompts (system prompts, router and synthesis prompts, templates) and every
 * tool's description and JSON schema; its canary is the deployment's, planted
 * in every system prompt. Redactions are logged by kind and count, never text.
 */
@Injectable()
export class SanitizerService implements OnModuleInit {
  private readonly logger = new Logger('Sanitizer');
  private sanitizer!: Sanitizer;
  /** Redactions since start, by kind: the counters the metrics endpoint exports. */
  readonly redactions: RedactionCounts = { prompt: 0, canary: 0, reasoning: 0 };

  constructor(
    private readonly templates: PromptTemplates,
    private readonly registry: AgentRegistry,
  ) {}

  onModuleInit(): void {
    this.sanitizer = new Sanitizer(
      [...this.templates.allTexts(), ...this.registry.toolTexts()],
      [this.templates.canary],
    );
    this.logger.log(`Sanitizer ready: ${this.sanitizer.size} protected prompt n-grams`);
  }

  /** A whole text: redacted copy (and the redactions logged). */
  sanitizeText(text: string): string {
    const { text: out, counts } = this.sanitizer.sanitize(text);
    this.report(counts, 'response');
    return out;
  }

  /**
   * Every string inside a JSON value, object keys included: an action's data,
   * a plan, an error's message. A tool argument is model output too (an agent
   * can put its own instructions into `create_note {content}`).
   */
  sanitizeDeep<T>(value: T, where = 'actions'): T {
    const counts: RedactionCounts = { prompt: 0, canary: 0, reasoning: 0 };
    const walk = (v: unknown): unknown => {
      if (typeof v === 'string') {
        const r = this.sanitizer.sanitize(v);
        counts.prompt += r.counts.prompt;
        counts.canary += r.counts.canary;
        counts.reasoning += r.counts.reasoning;
        return r.text;
      }
      if (Array.isArray(v)) return v.map(walk);
      if (v && typeof v === 'object') {
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [walk(k), walk(x)]));
      }
      return v;
    };
    const out = walk(value) as T;
    this.report(counts, where);
    return out;
  }

  stream(): StreamSanitizer {
    return this.sanitizer.stream();
  }

  report(counts: RedactionCounts, where: string): void {
    for (const kind of Object.keys(counts) as Array<keyof RedactionCounts>)
      this.redactions[kind] += counts[kind];
    const parts = Object.entries(counts).filter(([, n]) => n > 0);
    if (parts.length === 0) return;
    this.logger.warn(`Redacted model output in ${where}: ${parts.map(([k, n]) => `${k}=${n}`).join(', ')}`);
  }
}
