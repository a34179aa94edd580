/**
 * Secrets at rest: AES-256-GCM under the master key, bound to the secret's name (as additional
 * data, so a sealed value cannot be moved to another secret). The key is DROVER_MASTER_KEY
 * (32 bytes, base64 or hex) or DROVER_HOME/master.key, made at first start, mode 0600. Secrets'
 * change hashes are HMACs under the same key, so the database holds nothing to guess values by.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { ValueCipher } from "../store/store.js";

export const MASTER_KEY_FILE = "master.key";
const ENVELOPE = "drover-aes256gcm-v1";

export class SecretBox implements ValueCipher {
  private constructor(private readonly key: Buffer) {}

  /** The key from DROVER_MASTER_KEY, else from the home's key file (made when missing). */
  /** A box for a key given as text (a backup's own key). */
  static fromKey(text: string): SecretBox {
    return new SecretBox(decodeKey(text.trim(), "the backup's key"));
  }

  static open(home: string): SecretBox {
    const fromEnv = process.env.DROVER_MASTER_KEY;
    if (fromEnv) return new SecretBox(decodeKey(fromEnv, "DROVER_MASTER_KEY"));
    const file = path.join(home, MASTER_KEY_FILE);
    if (!fs.existsSync(file)) {
      fs.writeFileSync(`${file}.tmp`, `${crypto.randomBytes(32).toString("base64")}\n`, { mode: 0o600 });
      fs.renameSync(`${file}.tmp`, file);
    }
    return new SecretBox(decodeKey(fs.readFileSync(file, "utf8").trim(), file));
  }

  isSealed(text: string): boolean {
    return text.startsWith(`{"v":"${ENVELOPE}"`);
  }

  seal(plaintext: string, context: string): string {
    const iv = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv("aes-256-gcm", this.key, iv);
    cipher.setAAD(Buffer.from(context));
    const data = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return JSON.stringify({ v: ENVELOPE, iv: iv.toString("base64"), tag: cipher.getAuthTag().toString("base64"), data: data.toString("base64") });
  }

  /** @throws Error when the key is not the one that sealed it, or the text was altered. */
  unseal(sealed: string, context: string): string {
    const envelope = JSON.parse(sealed) as { v: string; iv: string; tag: string; data: string };
    const decipher = crypto.createDecipheriv("aes-256-gcm", this.key, Buffer.from(envelope.iv, "base64"));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(Buffer.from(envelope.tag, "base64"));
    try {
      return Buffer.concat([decipher.update(Buffer.from(envelope.data, "base64")), decipher.final()]).toString("utf8");
    } catch {
      throw new Error(`cannot decrypt secret ${context}: the master key is not the one it was sealed with (DROVER_MASTER_KEY or ${MASTER_KEY_FILE} changed?), or the stored value was altered`);
    }
  }

  /** A keyed hash: tells whether a secret changed without a way to test guesses offline. */
  digest(text: string): string {
    return crypto.createHmac("sha256", this.key).update(text).digest("hex");
  }
}

function decodeKey(text: string, where: string): Buffer {
  const key = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, "hex") : Buffer.from(text, "base64");
  if (key.length !== 32) throw new Error(`${where}: the master key must be 32 bytes, in base64 or hex (got ${key.length} bytes)`);
  return key;
}
