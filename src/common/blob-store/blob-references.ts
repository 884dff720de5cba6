/** A lowercase UUID (`randomUUID()`, Postgres `uuid` as text), for key patterns. */
export const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

/**
 * What a module that writes blobs tells the blob sweep: which keys are its own
 * and which of them its rows still reference. The sweep removes a key only
 * when the module that claims it says no row references it, and never touches
 * a key no module claims; it queries no module's tables itself.
 *
 * A module answers from its own tables, in one statement where a key can move
 * between two of them inside a transaction (a record's blob becoming a
 * conflict copy's), so the move is seen on one side or the other, never on
 * neither. A row of one module never holds another module's key: it asks the
 * owner's service instead (plugin submissions write packages as catalog
 * versions, through the catalog).
 */
export abstract class BlobReferences {
  /** Names the module's blobs in the sweep's report and log ('record', 'backup'). */
  abstract readonly kind: string;
  /** Exactly the keys the module writes, anchored (`^…$`). */
  abstract readonly pattern: RegExp;
  /** Of `keys` (each matching `pattern`), those a row of the module references now. */
  abstract referenced(keys: string[]): Promise<Set<string>>;

  /** The named groups of `pattern` in each of `keys` (ids a module looks its rows up by). */
  protected groupsOf(keys: string[], group: string): string[] {
    const values = new Set<string>();
    for (const key of keys) {
      const value = this.pattern.exec(key)?.groups?.[group];
      if (value) values.add(value);
    }
    return [...values];
  }
}
