// Docker's restart policies as pure decisions: whether an exited container comes back
// (`HostConfig.RestartPolicy`), after how long (dockerd's restartmanager backoff), and
// how the `--restart` / Compose `restart:` text becomes the API form. The engine owns
// the timers and the container records; nothing here touches either.

import type { RestartPolicy } from '../common/api-types.js';
import { UsageError } from '../common/errors.js';

export interface RestartQuestion {
  /** Absent, or Name '' (what Docker before 25 stored by default), means `no`. */
  policy: RestartPolicy | undefined;
  exitCode: number;
  /** Restarts the policy has already made since the user last started the container. */
  restartCount: number;
  /** The user (stop, kill, or a stop the engine was asked for) ended this run. */
  stoppedByUser: boolean;
  /**
   * Asked while the engine starts up, about a container that is not running. The caller
   * asks only about containers that were started at least once, as dockerd does
   * (`HasBeenStartedBefore`): a created-never-started container stays created.
   */
  engineStarting?: boolean;
}

/**
 * Whether the container should be started again.
 *
 * Docker documents, and dockerd does, that a user stop suspends the policy "until the
 * daemon restarts or the container is manually restarted". So at engine start:
 * - `always` restarts a container even when the user had stopped it;
 * - `unless-stopped` does not, which is the whole difference between the two;
 * - `on-failure` does not either. Here we part from dockerd's code, which would restart
 *   it when the stop left a non-zero code (143 after SIGTERM, 137 after SIGKILL): that
 *   code is our own signal, not the application failing, and a container coming back
 *   after the user stopped it and the machine rebooted is a surprise nobody asked for.
 */
export function shouldRestart(question: RestartQuestion): boolean {
  const { policy, exitCode, restartCount, stoppedByUser, engineStarting = false } = question;
  switch (policy?.Name ?? 'no') {
    case 'always':
      return engineStarting || !stoppedByUser;
    case 'unless-stopped':
      return !stoppedByUser;
    case 'on-failure': {
      if (stoppedByUser || exitCode === 0) return false;
      // A maximum of 0 means no limit.
      const max = policy?.MaximumRetryCount ?? 0;
      return max <= 0 || restartCount < max;
    }
    default:
      // `no`, '' and, from a record written by something else, any unknown name.
      return false;
  }
}

/** dockerd's restartmanager constants. */
export const RESTART_BACKOFF = {
  firstDelayMs: 100,
  maxDelayMs: 60_000,
  /** A run at least this long ends the crash loop: the next delay starts over. */
  resetAfterRunMs: 10_000,
} as const;

/**
 * How long to wait before the next restart: 100 ms, doubling with each consecutive
 * restart up to one minute, starting over once the container stayed up for 10 s, so a
 * crash-looping container does not spin and a long-lived one comes back at once.
 * `previousDelayMs` is 0 (or absent) before the first restart.
 */
export function nextRestartDelay({ previousDelayMs = 0, ranForMs }: { previousDelayMs?: number; ranForMs: number }): number {
  const previous = ranForMs >= RESTART_BACKOFF.resetAfterRunMs ? 0 : previousDelayMs;
  if (previous <= 0) return RESTART_BACKOFF.firstDelayMs;
  return Math.min(previous * 2, RESTART_BACKOFF.maxDelayMs);
}

const POLICY_NAMES = ['no', 'always', 'on-failure', 'unless-stopped'] as const;
const VALID_FORMS = 'no, always, on-failure, on-failure:<max-retries>, unless-stopped';

/**
 * `--restart` and Compose `restart:` text to the API form: `no`, `always`,
 * `on-failure`, `on-failure:3`, `unless-stopped`. Throws UsageError naming the value.
 */
export function parseRestartPolicy(text: string): RestartPolicy {
  if (text === '') return { Name: 'no', MaximumRetryCount: 0 };
  const colon = text.indexOf(':');
  const name = colon < 0 ? text : text.slice(0, colon);
  const count = colon < 0 ? undefined : text.slice(colon + 1);
  const policyName = POLICY_NAMES.find((n) => n === name);
  if (!policyName) {
    throw new UsageError(`invalid restart policy "${text}": use one of ${VALID_FORMS}`);
  }
  if (count !== undefined && !/^[+-]?\d+$/.test(count)) {
    throw new UsageError(`invalid restart policy "${text}": the maximum retry count after ":" must be a whole number, as in on-failure:3`);
  }
  const policy: RestartPolicy = { Name: policyName, MaximumRetryCount: count === undefined ? 0 : Number(count) };
  validateRestartPolicy(policy, `"${text}"`);
  return policy;
}

/**
 * Refuses what dockerd refuses at create (a count with a policy other than on-failure,
 * a negative count, an unknown name), so a bad request gets a 400, not a surprise later.
 */
export function validateRestartPolicy(policy: RestartPolicy, shownAs = `"${policy.Name}"`): void {
  const count = policy.MaximumRetryCount ?? 0;
  switch (policy.Name) {
    case 'on-failure':
      if (count < 0) throw new UsageError(`invalid restart policy ${shownAs}: the maximum retry count cannot be negative`);
      return;
    case 'always':
    case 'unless-stopped':
    case 'no':
      if (count !== 0) {
        throw new UsageError(`invalid restart policy ${shownAs}: a maximum retry count can only be used with on-failure, as in on-failure:${Math.abs(count)}`);
      }
      return;
    case '':
      // Docker before 25 stored an empty name with any count; such containers still load.
      return;
    default:
      throw new UsageError(`invalid restart policy ${shownAs}: use one of ${VALID_FORMS}`);
  }
}
