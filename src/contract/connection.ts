/**
 * One side of a server/agent connection: writes messages as JSON lines and hands each line that
 * arrives, validated, to `onMessage`. A line that is not a valid message, or is longer than any
 * drover sends, ends the connection: a peer that garbles one message cannot be trusted with the
 * next. Both sides share this; the schemas say who may send what.
 */
import type net from "node:net";
import type { z } from "zod";
import { decodeMessage, MAX_MESSAGE_BYTES, WireError } from "./wire.js";

export class WireConnection<In, Out> {
  private buffered = "";
  private closedWith: string | null = null;
  private readonly closeListeners: Array<(reason: string) => void> = [];

  constructor(
    readonly socket: net.Socket,
    private readonly schema: z.ZodType<In>,
    private readonly onMessage: (message: In) => void,
  ) {
    socket.setEncoding("utf8");
    socket.setNoDelay(true);
    socket.on("data", (chunk: string) => this.receive(chunk));
    socket.on("error", (error) => this.close(error.message));
    socket.on("close", () => this.close("connection closed"));
  }

  get closed(): boolean {
    return this.closedWith !== null;
  }

  /** False when the connection is gone (the message is dropped). */
  send(message: Out): boolean {
    if (this.closedWith !== null) return false;
    this.socket.write(`${JSON.stringify(message)}\n`);
    return true;
  }

  onClose(listener: (reason: string) => void): void {
    if (this.closedWith !== null) listener(this.closedWith);
    else this.closeListeners.push(listener);
  }

  close(reason: string): void {
    if (this.closedWith !== null) return;
    this.closedWith = reason;
    this.socket.destroy();
    for (const listener of this.closeListeners) listener(reason);
  }

  private receive(chunk: string): void {
    this.buffered += chunk;
    let newline: number;
    while ((newline = this.buffered.indexOf("\n")) >= 0 && this.closedWith === null) {
      const line = this.buffered.slice(0, newline);
      this.buffered = this.buffered.slice(newline + 1);
      if (line.length === 0) continue;
      let message: In;
      try {
        message = decodeMessage(this.schema, line);
      } catch (error) {
        if (!(error instanceof WireError)) throw error;
        this.close(error.message);
        return;
      }
      this.onMessage(message);
    }
    if (this.buffered.length > MAX_MESSAGE_BYTES) this.close(`a message longer than ${MAX_MESSAGE_BYTES} bytes`);
  }
}
