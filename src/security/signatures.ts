/**
 * Signed descriptors: Ed25519 over a canonical form of a file — its YAML documents as JSON with
 * sorted keys — so comments and formatting may change but no value can. `drover sign` writes
 * FILE.sig beside FILE; the CLI sends it with the file; the server accepts it when one of the
 * public keys in DROVER_HOME/trust/ verifies it, and a `require_signature` policy rejects files
 * without such a signature, saying why.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { parseAllDocuments } from "yaml";
import { canonicalJson } from "../canonical-json.js";

export const TRUST_DIR = "trust";

export type SignatureCheck = { ok: true; key: string } | { ok: false; reason: string };

/** The bytes a signature covers. */
export function canonicalForm(text: string): Buffer {
  const documents = parseAllDocuments(text).map((doc) => doc.toJS());
  return Buffer.from(canonicalJson(documents));
}

/** Writes NAME.key (private, 0600) and NAME.pub into `dir`; returns their paths. */
export function generateKeyPair(dir: string, name: string): { privateKey: string; publicKey: string } {
  const { privateKey, publicKey } = crypto.generateKeyPairSync("ed25519");
  fs.mkdirSync(dir, { recursive: true });
  const files = { privateKey: path.join(dir, `${name}.key`), publicKey: path.join(dir, `${name}.pub`) };
  if (fs.existsSync(files.privateKey) || fs.existsSync(files.publicKey)) throw new Error(`${files.privateKey} or ${files.publicKey} exists already`);
  fs.writeFileSync(files.privateKey, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
  fs.writeFileSync(files.publicKey, publicKey.export({ type: "spki", format: "pem" }));
  return files;
}

export function sign(privateKeyPem: string, text: string): string {
  return crypto.sign(null, canonicalForm(text), crypto.createPrivateKey(privateKeyPem)).toString("base64");
}

/** The public keys trusted by the server at `home`, by file name. */
export function trustedKeys(home: string): Array<{ name: string; key: crypto.KeyObject }> {
  const dir = path.join(home, TRUST_DIR);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".pub"))
    .flatMap((f) => {
      try {
        return [{ name: f.replace(/\.pub$/, ""), key: crypto.createPublicKey(fs.readFileSync(path.join(dir, f))) }];
      } catch {
        return []; // not a public key: ignored (doctor could say so)
      }
    });
}

export function checkSignature(text: string, signature: string | undefined, trusted: Array<{ name: string; key: crypto.KeyObject }>): SignatureCheck {
  if (!signature) return { ok: false, reason: "the descriptor is not signed (no .sig beside it; drover sign -k KEY FILE)" };
  if (trusted.length === 0) return { ok: false, reason: `no public key is trusted (put one in DROVER_HOME/${TRUST_DIR}/)` };
  let bytes: Buffer;
  try {
    bytes = canonicalForm(text);
  } catch {
    return { ok: false, reason: "the descriptor does not parse" };
  }
  const raw = Buffer.from(signature, "base64");
  for (const { name, key } of trusted) {
    try {
      if (crypto.verify(null, bytes, key, raw)) return { ok: true, key: name };
    } catch {
      // a key of another type: not this one
    }
  }
  return { ok: false, reason: "the signature does not match: the descriptor was altered after signing, or signed by a key that is not trusted" };
}
