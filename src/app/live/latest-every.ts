/**
 * Passes on the latest of a stream of values at most once per `ms`, and always the last one
 * (trailing), so a view that is costly to redraw (the per-face panel: a models x 7 grid and 17
 * action-unit bars) follows a 30 FPS stream at a readable rate without showing a stale value once
 * the stream pauses. `urgent` values go through at once (a face appearing or leaving).
 */
export class LatestEvery<T> {
  private last = -Infinity;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private pending: { value: T } | undefined;

  constructor(
    private readonly ms: number,
    private readonly emit: (value: T) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  push(value: T, urgent = false): void {
    const t = this.now();
    if (urgent || t - this.last >= this.ms) {
      this.send(value, t);
      return;
    }
    this.pending = { value };
    this.timer ??= setTimeout(
      () => {
        this.timer = undefined;
        if (this.pending) this.send(this.pending.value, this.now());
      },
      this.ms - (t - this.last),
    );
  }

  /** Drops a value still waiting (the view goes away). */
  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = undefined;
  }

  private send(value: T, t: number): void {
    this.cancel();
    this.last = t;
    this.emit(value);
  }
}
