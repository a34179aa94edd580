/** The provider a pool names, with its settings. */
import type { NodePoolSpec } from "../../spec/index.js";
import type { Provider } from "./provider.js";
import type { ProviderContext } from "./provider-context.js";
import { ExecProvider } from "./providers/exec.js";
import { LocalProvider } from "./providers/local.js";

export async function openProvider(spec: NodePoolSpec, context: ProviderContext): Promise<Provider> {
  switch (spec.provider) {
    case "local":
      return new LocalProvider(context, spec.local ?? { bridge: "drover0", subnet: "10.213.0" });
    case "exec":
      return new ExecProvider(context, spec.exec!);
    case "ssh": {
      // Loaded only for ssh pools: the SSH library is not needed otherwise.
      const { SshProvider } = await import("./providers/ssh.js");
      return new SshProvider(context, spec.ssh!);
    }
  }
}
