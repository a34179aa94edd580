/**
 * A controller's passes, one at a time: a wake-up during a pass asks for one more after it,
 * however many arrive, so a burst of changes costs at most two passes and none is missed.
 */
export class SerialPasses {
  private running = false;
  private again = false;
  private closed = false;
  private idle: Promise<void> = Promise.resolve();

  constructor(
    private readonly pass: () => Promise<void>,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** A pass soon (on the next turn of the event loop); during one, another right after it. */
  wake(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.idle = new Promise((resolve) => {
      setImmediate(async () => {
        try {
          do {
            this.again = false;
            await this.pass();
          } while (this.again && !this.closed);
        } catch (error) {
          this.onError(error);
        } finally {
          this.running = false;
          resolve();
        }
      });
    });
  }

  /** No more passes; resolves once the one under way has ended. */
  async close(): Promise<void> {
    this.closed = true;
    await this.idle;
  }
}
