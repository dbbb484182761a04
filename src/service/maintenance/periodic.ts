/**
 * Runs `task` every `intervalMs` in the background, never two runs at once (a slow run skips ticks rather
 * than piling up). The timer does not keep the process alive; the returned function stops it and waits for
 * a run in progress, so a graceful shutdown never cuts one in half.
 */
export function startPeriodic(
  task: (stopped: () => boolean) => Promise<unknown>,
  options: { intervalMs: number; onError?: (error: unknown) => void },
): () => Promise<void> {
  let running: Promise<void> | undefined;
  let stopped = false;
  const timer = setInterval(() => {
    if (running || stopped) return;
    running = task(() => stopped)
      .then(() => undefined)
      .catch((error) => options.onError?.(error))
      .finally(() => {
        running = undefined;
      });
  }, options.intervalMs);
  timer.unref();
  return async () => {
    stopped = true;
    clearInterval(timer);
    await running;
  };
}
