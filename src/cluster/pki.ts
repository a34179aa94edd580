/**
 * The cluster's own certificate authority, made in the server's home the first time agents are
 * accepted (as k3s does): `cluster/ca.{crt,key}` and a server certificate it signs for the
 * addresses agents dial. Agents pin the CA by the SHA-256 of its public key (kubeadm's
 * `--discovery-token-ca-cert-hash`), so the first connection is verified before the join token is
 * sent. Keys are made by Node's crypto; node-forge only writes the certificates (Node cannot).
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export interface ClusterPki {
  caPem: string;
  certPem: string;
  keyPem: string;
  /** `sha256:<hex>` of the CA's public key: what `drover agent --ca-hash` pins. */
  caHash: string;
}

const TEN_YEARS_MS = 10 * 365 * 86_400_000;

/**
 * Loads the CA and server certificate from `dir`, making what is missing. The server certificate
 * is made again when it does not name every address in `addresses` (a new interface, a new
 * --cluster-advertise), signed by the same CA so joined agents keep trusting it.
 */
export async function ensureClusterPki(dir: string, addresses: string[], sharedCa?: { certPem: string; keyPem: string }): Promise<ClusterPki> {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const forge = (await import("node-forge")).default;
  const files = { caCert: path.join(dir, "ca.crt"), caKey: path.join(dir, "ca.key"), cert: path.join(dir, "server.crt"), key: path.join(dir, "server.key") };
  // A CA kept in the shared store replaces this home's own: a server certificate of another CA is made again.
  if (sharedCa && (!fs.existsSync(files.caCert) || fs.readFileSync(files.caCert, "utf8") !== sharedCa.certPem)) {
    writeSecret(files.caKey, sharedCa.keyPem);
    fs.writeFileSync(files.caCert, sharedCa.certPem);
    fs.rmSync(files.cert, { force: true });
  }
  if (!fs.existsSync(files.caCert) || !fs.existsSync(files.caKey)) {
    const { certPem, keyPem } = makeCertificate(forge, { commonName: `drover-ca@${os.hostname()}`, ca: true });
    writeSecret(files.caKey, keyPem);
    fs.writeFileSync(files.caCert, certPem);
  }
  const caPem = fs.readFileSync(files.caCert, "utf8");
  const caKeyPem = fs.readFileSync(files.caKey, "utf8");
  const sans = [...new Set(["127.0.0.1", "::1", "localhost", os.hostname(), ...addresses])];
  if (!fs.existsSync(files.cert) || !fs.existsSync(files.key) || !namesAll(fs.readFileSync(files.cert, "utf8"), sans)) {
    const { certPem, keyPem } = makeCertificate(forge, { commonName: "drover-server", sans, issuer: { certPem: caPem, keyPem: caKeyPem } });
    writeSecret(files.key, keyPem);
    fs.writeFileSync(files.cert, certPem);
  }
  return { caPem, certPem: fs.readFileSync(files.cert, "utf8"), keyPem: fs.readFileSync(files.key, "utf8"), caHash: caHash(caPem) };
}

/** A new cluster CA (for a shared store, where the first server to need one keeps it for all). */
export async function makeCa(): Promise<{ certPem: string; keyPem: string }> {
  const forge = (await import("node-forge")).default;
  return makeCertificate(forge, { commonName: `drover-ca@${os.hostname()}`, ca: true });
}

/** `sha256:<hex>` of a certificate's SubjectPublicKeyInfo. */
export function caHash(certPem: string | Buffer): string {
  const spki = new crypto.X509Certificate(certPem).publicKey.export({ type: "spki", format: "der" });
  return `sha256:${crypto.createHash("sha256").update(spki).digest("hex")}`;
}

/** Every address of this machine's interfaces, for the server certificate. */
export function interfaceAddresses(): string[] {
  return Object.values(os.networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address.replace(/%.*$/, "")));
}

function namesAll(certPem: string, sans: string[]): boolean {
  const names = new crypto.X509Certificate(certPem).subjectAltName ?? "";
  return sans.every((san) => names.includes(`:${san}`) || names.includes(`:${san.toUpperCase()}`));
}

type Forge = typeof import("node-forge");

function makeCertificate(forge: Forge, options: { commonName: string; ca?: boolean; sans?: string[]; issuer?: { certPem: string; keyPem: string } }): { certPem: string; keyPem: string } {
  const { privateKey, publicKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: "pkcs1", format: "pem" }).toString();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: "spki", format: "pem" }).toString());
  cert.serialNumber = `01${crypto.randomBytes(15).toString("hex")}`;
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + TEN_YEARS_MS);
  const subject = [{ name: "commonName", value: options.commonName }, { name: "organizationName", value: "drover" }];
  cert.setSubject(subject);
  const issuerCert = options.issuer && forge.pki.certificateFromPem(options.issuer.certPem);
  cert.setIssuer(issuerCert ? issuerCert.subject.attributes : subject);
  const extensions: object[] = [{ name: "basicConstraints", cA: options.ca === true, critical: true }];
  if (options.ca) extensions.push({ name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true });
  else {
    extensions.push({ name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true }, { name: "extKeyUsage", serverAuth: true });
    const altNames = (options.sans ?? []).map((san) => (isIp(san) ? { type: 7, ip: san } : { type: 2, value: san }));
    extensions.push({ name: "subjectAltName", altNames });
  }
  cert.setExtensions(extensions);
  const signingKey = forge.pki.privateKeyFromPem(options.issuer ? options.issuer.keyPem : keyPem);
  cert.sign(signingKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem };
}

function isIp(value: string): boolean {
  return /^[\d.]+$/.test(value) || value.includes(":");
}

function writeSecret(file: string, text: string): void {
  fs.writeFileSync(file, text, { mode: 0o600 });
}
