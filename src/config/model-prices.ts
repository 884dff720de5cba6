/**
 * Built-in prices, USD per million tokens [input, output], keyed by `provider:model`. LLM_PRICES
 * adds to and overrides them. Others' prices change often and differ by region and contract, so
 * only a few well-known ones are here; every model a deployment uses must have a price when
 * budgets are on (the start refuses one that has none).
 */
export const DEFAULT_PRICES: Readonly<Record<string, [number, number]>> = {
  'openai:gpt-4o': [2.5, 10],
  'openai:gpt-4o-mini': [0.15, 0.6],
  'openai:text-embedding-3-small': [0.02, 0],
  'anthropic:claude-sonnet-4-5': [3, 15],
  'google-genai:gemini-2.5-flash': [0.3, 2.5],
};
