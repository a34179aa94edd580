/**
 * Secret values must not reach events or probe reports even when a workload prints one (an exec
 * probe that cats a secret file, say): every secret value drover holds is replaced by
 * "(redacted)" in those texts. Values shorter than 4 characters are left alone — redacting "1"
 * everywhere would say more than it hides.
 */
import type { Store } from "../store/store.js";

const MIN_LENGTH = 4;
const HIDDEN = "(redacted)";

export class SecretRedactor {
  private values: string[] = [];

  constructor(private readonly store: Store) {}

  /** Reads the secrets again (at start, and after they change). */
  async refresh(): Promise<void> {
    const values = new Set<string>();
    for (const secret of await this.store.listConfigObjects("Secret")) for (const value of Object.values(secret.data)) if (value.length >= MIN_LENGTH) values.add(value);
    // Longest first, so a value containing another is hidden whole.
    this.values = [...values].sort((a, b) => b.length - a.length);
  }

  redact(text: string): string {
    let result = text;
    for (const value of this.values) if (result.includes(value)) result = result.split(value).join(HIDDEN);
    return result;
  }
}
