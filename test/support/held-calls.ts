import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** Calls held at one point, so a test interleaves two operations deterministically. */
export interface HeldCalls {
  /**
   * Arms a hold on the `callNumber`-th call from now (1-based). Start the operation after arming;
   * `reached` resolves true once that call is held, or false once `settled` resolves first (the operation
   * made fewer calls).
   */
  arm(callNumber: number): { reached(settled: Promise<unknown>): Promise<boolean> };
  /** Lets the held call (if any) proceed. */
  release(): void;
}

/** A hold for any kind of call: each call awaits `pass()` before it goes out. */
export function callHold(): HeldCalls & { pass(): Promise<void> } {
  let seen = 0;
  let holdAt = 0;
  let onReached: () => void = () => {};
  let release: () => void = () => {};
  let released = Promise.resolve();
  return {
    async pass() {
      seen += 1;
      if (seen !== holdAt) return;
      onReached();
      await released;
    },
    arm(callNumber) {
      seen = 0;
      holdAt = callNumber;
      released = new Promise((resolve) => {
        release = resolve;
      });
      const reached = new Promise<boolean>((resolve) => {
        onReached = () => resolve(true);
      });
      return { reached: (settled) => Promise.race([reached, settled.then(() => false)]) };
    },
    release: () => release(),
  };
}

/** Installs an SDK middleware on `client` that can hold one of its calls. */
export function holdCalls(client: DynamoDBClient): HeldCalls {
  const hold = callHold();
  client.middlewareStack.add(
    (next) => async (args) => {
      await hold.pass();
      return next(args);
    },
    { step: 'initialize', name: 'testHeldCalls' },
  );
  return hold;
}
