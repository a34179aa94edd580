/** What both stores do with their cipher: secrets' data and sealed settings go in sealed and come out open. */
import type { ConfigObjectRecord } from "../contract/index.js";
import { toConfigObject, type Row } from "./rows.js";
import type { ValueCipher } from "./store.js";

export class Sealing {
  /** `cipher` null: values are stored as given (tests of other things, or rows copied as they are). */
  constructor(private readonly cipher: ValueCipher | null) {}

  /** What goes into a config object's data column: a secret's JSON sealed, a config map's as it is. */
  storedData(kind: string, name: string, data: Record<string, string>): string {
    const json = JSON.stringify(data);
    return kind === "Secret" && this.cipher ? this.cipher.seal(json, name) : json;
  }

  configObject(row: Row): ConfigObjectRecord {
    const record = toConfigObject({ ...row, data: "{}" });
    const text = String(row.data);
    const json = record.kind === "Secret" && this.cipher?.isSealed(text) ? this.cipher.unseal(text, record.name) : text;
    return { ...record, data: JSON.parse(json) as Record<string, string> };
  }

  /** A stored secret's data sealed when it is not yet (written before encryption at rest), else null; a wrong key throws here. */
  sealedIfPlain(name: string, data: string): string | null {
    if (!this.cipher) return null;
    if (!this.cipher.isSealed(data)) return this.cipher.seal(data, name);
    this.cipher.unseal(data, name);
    return null;
  }

  settingText(key: string, value: string, sealed: boolean): string {
    return sealed && this.cipher ? this.cipher.seal(value, `setting:${key}`) : value;
  }

  openSetting(key: string, text: string, sealed: boolean): string {
    return sealed && this.cipher?.isSealed(text) ? this.cipher.unseal(text, `setting:${key}`) : text;
  }
}
