/**
 * Turns a text into a vector of the configured dimension (503 when no model
 * endpoint is configured). The text is used for this one call:
 * implementations must neither store nor log it.
 */
export abstract class Embeddings {
  abstract embed(text: string): Promise<number[]>;
}
