/**
 * Turns a text into a vector of the configured dimension. The text is used
 * for this one call: implementations must neither store nor log it.
 */
export abstract class Embeddings {
  /** False when no OpenAI-compatible endpoint is configured (the caller answers 503). */
  abstract readonly configured: boolean;
  abstract embed(text: string): Promise<number[]>;
}
