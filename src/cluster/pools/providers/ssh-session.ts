/**
 * One SSH connection to a host (ssh2): the host key checked against known_hosts before anything is
 * sent, commands with their exit code and output, and file uploads over SFTP. Every failure names
 * the host and what failed; a host that does not answer fails within the connect timeout.
 */
import fs from "node:fs";
import { Client } from "ssh2";
import { ProviderError } from "../provider.js";
import { checkHostKey } from "./known-hosts.js";

export interface SshTarget {
  address: string;
  port: number;
  user: string;
  privateKeyFile: string;
  knownHostsFile: string;
  connectTimeoutMs: number;
}

export class SshSession {
  private constructor(
    private readonly client: Client,
    readonly target: SshTarget,
  ) {}

  static connect(target: SshTarget): Promise<SshSession> {
    const where = `${target.user}@${target.address}:${target.port}`;
    let privateKey: Buffer;
    try {
      privateKey = fs.readFileSync(target.privateKeyFile);
    } catch (error) {
      return Promise.reject(new ProviderError(`cannot read the private key ${target.privateKeyFile}: ${(error as Error).message}`));
    }
    return new Promise((resolve, reject) => {
      const client = new Client();
      let refusal: string | null = null;
      // ssh2's readyTimeout covers the handshake; this covers a host that never answers a SYN too.
      const timer = setTimeout(() => {
        client.destroy();
        reject(new Error(`cannot reach ${where} within ${target.connectTimeoutMs} ms`));
      }, target.connectTimeoutMs);
      client.on("ready", () => {
        clearTimeout(timer);
        resolve(new SshSession(client, target));
      });
      client.on("error", (error) => {
        clearTimeout(timer);
        if (refusal) reject(new ProviderError(refusal));
        else reject(new Error(`ssh ${where}: ${error.message}`));
      });
      client.connect({
        host: target.address,
        port: target.port,
        username: target.user,
        privateKey,
        readyTimeout: target.connectTimeoutMs,
        hostVerifier: (key: Buffer) => {
          const verdict = checkHostKey(target.knownHostsFile, target.address, target.port, key);
          if (!verdict.ok) refusal = verdict.reason;
          return verdict.ok;
        },
      });
    });
  }

  /** Runs a shell command; resolves with its exit code and output whatever the code. */
  exec(command: string): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      this.client.exec(command, (error, stream) => {
        if (error) return reject(new Error(`ssh ${this.target.address}: ${error.message}`));
        let stdout = "";
        let stderr = "";
        stream.on("data", (d: Buffer) => (stdout += d.toString()));
        stream.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        stream.on("close", (code: number | null) => resolve({ code: code ?? -1, stdout, stderr }));
      });
    });
  }

  /** Runs it and fails, with its output, unless it exits 0. */
  async must(command: string, what: string): Promise<string> {
    const result = await this.exec(command);
    if (result.code !== 0) throw new Error(`${what} on ${this.target.address} failed (exit ${result.code}): ${(result.stderr || result.stdout).trim().split("\n").slice(0, 3).join(" / ")}`);
    return result.stdout;
  }

  upload(local: string, remote: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.client.sftp((error, sftp) => {
        if (error) return reject(new Error(`sftp ${this.target.address}: ${error.message}`));
        sftp.fastPut(local, remote, (putError) => {
          sftp.end();
          if (putError) reject(new Error(`upload to ${this.target.address}:${remote}: ${putError.message}`));
          else resolve();
        });
      });
    });
  }

  close(): void {
    this.client.end();
  }
}

/** A value for a POSIX shell, quoted. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
