/** The one form an email address is stored and compared in: trimmed, lower-case. */
export const normaliseEmail = (email: string): string => email.trim().toLowerCase();

/** class-transformer `@Transform` for email fields: normalises strings, leaves anything else to validation. */
export const normaliseEmailField = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' ? normaliseEmail(value) : value;
