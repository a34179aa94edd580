import type { Command } from "commander";
import { apiAddress, droverHome } from "../../settings.js";
import { CliError, EXIT_USAGE } from "../client.js";

export function registerServer(program: Command): void {
  program
    .command("server")
    .description("run the drover server (control plane and local agent) in the foreground")
    .option("--listen <host:port>", "API address (default $DROVER_ADDR or 127.0.0.1:7070)")
    .option("--tls-cert <file>", "PEM certificate: the API speaks HTTPS (default $DROVER_TLS_CERT)")
    .option("--tls-key <file>", "PEM private key for --tls-cert (default $DROVER_TLS_KEY)")
    .option("--insecure", "allow plain HTTP on an address other machines can reach (not 127.0.0.1)")
    .addHelpText("after", "\nStopping the server (Ctrl-C, SIGTERM, or kill -9) never stops the services it runs;\nthe next server re-adopts them. Use \"drover down\" to stop everything.")
    .action(async (options: { listen?: string; tlsCert?: string; tlsKey?: string; insecure?: boolean }) => {
      const { host, port } = apiAddress(options.listen ? { ...process.env, DROVER_ADDR: options.listen } : process.env);
      const home = droverHome();
      let closing = false;
      // Loaded here, not at the top: every other command would pay for the server's modules.
      const { startDaemon } = await import("../../daemon.js");
      const cert = options.tlsCert ?? process.env.DROVER_TLS_CERT;
      const key = options.tlsKey ?? process.env.DROVER_TLS_KEY;
      if (Boolean(cert) !== Boolean(key)) throw new CliError("TLS needs both a certificate and a key (--tls-cert and --tls-key)", EXIT_USAGE);
      const daemon = await startDaemon({ home, host, port, tls: cert && key ? { cert, key } : undefined, insecure: options.insecure, onShutdown: () => void shutdown("shutdown requested") });
      process.stdout.write(`drover server listening on ${daemon.url} (DROVER_HOME ${home})\n`);
      const info = daemon.controlPlane.agent.info();
      for (const detail of info.details) process.stdout.write(`  ${detail}\n`);
      async function shutdown(why: string) {
        if (closing) return;
        closing = true;
        process.stdout.write(`drover server stopping (${why}); services keep running\n`);
        await daemon.close();
        process.exit(0);
      }
      process.on("SIGINT", () => void shutdown("SIGINT"));
      process.on("SIGTERM", () => void shutdown("SIGTERM"));
    });
}
