/** What every provider is given by the server: where it keeps files, whose instances it makes, and how to run drover. */
export interface ProviderContext {
  /** The server's DROVER_HOME. */
  home: string;
  /** This cluster's id (8 hex digits): the tag that tells this cluster's instances from others'. */
  cluster: string;
  pool: string;
  /** Runs drover on this machine: the Node.js binary and drover's main script. */
  droverCommand: string[];
  /** drover's installed package (its package.json's folder), for providers that copy drover to hosts. */
  packageRoot: string;
  log: (message: string) => void;
}
