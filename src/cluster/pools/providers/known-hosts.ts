/**
 * Host keys checked against an OpenSSH known_hosts file, as `ssh` does with
 * StrictHostKeyChecking=yes: plain and hashed (|1|salt|hash) host fields, `[host]:port` for ports
 * other than 22, negated patterns and markers skipped. An unknown host and a changed key are both
 * refused, each with what to do.
 */
import crypto from "node:crypto";
import fs from "node:fs";

export type HostKeyVerdict = { ok: true } | { ok: false; reason: string };

export function checkHostKey(knownHostsFile: string, host: string, port: number, key: Buffer): HostKeyVerdict {
  let text: string;
  try {
    text = fs.readFileSync(knownHostsFile, "utf8");
  } catch (error) {
    return { ok: false, reason: `cannot read known_hosts ${knownHostsFile}: ${(error as Error).message}` };
  }
  const name = port === 22 ? host : `[${host}]:${port}`;
  const keys = hostKeys(text, name);
  const fingerprint = `SHA256:${crypto.createHash("sha256").update(key).digest("base64").replace(/=+$/, "")}`;
  if (keys.length === 0) return { ok: false, reason: `host ${name} is not in ${knownHostsFile} (its key is ${fingerprint}): check it, then add it, e.g. ssh-keyscan -p ${port} ${host} >> ${knownHostsFile}` };
  if (keys.some((known) => known.equals(key))) return { ok: true };
  return { ok: false, reason: `the host key of ${name} (${fingerprint}) does not match ${knownHostsFile}: refusing to connect (the host changed, or someone is in between)` };
}

/** The keys known_hosts lists for `name`. */
function hostKeys(text: string, name: string): Buffer[] {
  const keys: Buffer[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#") || line.startsWith("@")) continue;
    const [hosts, , base64] = line.split(/\s+/);
    if (!hosts || !base64) continue;
    if (hosts.split(",").some((pattern) => matches(pattern, name))) keys.push(Buffer.from(base64, "base64"));
  }
  return keys;
}

function matches(pattern: string, name: string): boolean {
  if (pattern.startsWith("!")) return false;
  if (pattern.startsWith("|1|")) {
    const [, , salt, hash] = pattern.split("|");
    if (!salt || !hash) return false;
    return crypto.createHmac("sha1", Buffer.from(salt, "base64")).update(name).digest("base64") === hash;
  }
  return pattern === name;
}
