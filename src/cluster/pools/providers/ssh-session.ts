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
  /** One command's limit (not the upload's, which is bounded apart). */
  commandTimeoutMs: number;
}

/** The bundle is some 16 MB: minutes even over a slow link. */
const UPLOAD_TIMEOUT_MS = 600_000;

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

  /**
   * Runs a shell command; resolves with its exit code and output whatever the code. A command that
   * does not end within its time fails (its channel closed): a host whose commands hang must fail
   * the install with a reason, not hold the instance in provisioning.
   */
  exec(command: string, what = "a command", timeoutMs = this.target.commandTimeoutMs): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      this.client.exec(command, (error, stream) => {
        if (error) return reject(new Error(`ssh ${this.target.address}: ${error.message}`));
        let stdout = "";
        let stderr = "";
        const timer = setTimeout(() => {
          stream.close();
          // Every command goes through the user's login shell, whose startup files run first.
          reject(new Error(`${what} on ${this.target.address} did not finish within ${timeoutMs / 1000} s (does the login shell's startup, e.g. ~/.bashrc, wait on something?)`));
        }, timeoutMs);
        stream.on("data", (d: Buffer) => (stdout += d.toString()));
        stream.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        stream.on("close", (code: number | null) => {
          clearTimeout(timer);
          resolve({ code: code ?? -1, stdout, stderr });
        });
      });
    });
  }

  /** Runs it and fails, with its output, unless it exits 0. */
  async must(command: string, what: string, timeoutMs = this.target.commandTimeoutMs): Promise<string> {
    const result = await this.exec(command, what, timeoutMs);
    if (result.code !== 0) throw new Error(`${what} on ${this.target.address} failed (exit ${result.code}): ${(result.stderr || result.stdout).trim().split("\n").slice(0, 3).join(" / ")}`);
    return result.stdout;
  }

  upload(local: string, remote: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.client.sftp((error, sftp) => {
        if (error) return reject(new Error(`sftp ${this.target.address}: ${error.message}`));
        const timer = setTimeout(() => {
          sftp.end();
          reject(new Error(`upload to ${this.target.address}:${remote} did not finish within ${UPLOAD_TIMEOUT_MS / 1000} s`));
        }, UPLOAD_TIMEOUT_MS);
        sftp.fastPut(local, remote, (putError) => {
          clearTimeout(timer);
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
