// Per-backend circuit breaking. A backend that keeps failing with retryable errors is paused
// for a growing interval instead of being hammered; its emails stay queued (their attempt is
// not spent) until the pause ends. Then one probe send is let through: success closes the
// circuit, another retryable failure opens it again for twice as long.
//
//   closed ──N retryable failures in a row──▶ open ──pause over──▶ half_open
//   half_open ──probe ok──▶ closed          half_open ──probe fails──▶ open (pause × 2)
//
// Only first attempts count towards opening: an email failing again on its retry may be at fault
// itself (one the provider never answers), and must not stand for the backend's health. The
// producer probes with an email on its first attempt where it has one, for the same reason.

export type CircuitState = 'closed' | 'open' | 'half_open';

interface Circuit {
  state: CircuitState;
  failures: number;
  opens: number;
  until: number;
  probing: boolean;
}

export interface CircuitOptions {
  /** Retryable failures in a row that open the circuit. */
  threshold: number;
  baseSeconds: number;
  maxSeconds: number;
}

export class CircuitBreaker {
  private readonly circuits = new Map<string, Circuit>();
  private readonly options: CircuitOptions;
  private readonly onChange: (backend: string, state: CircuitState) => void;

  constructor(backends: readonly string[], options: CircuitOptions, onChange: (backend: string, state: CircuitState) => void = () => undefined) {
    this.options = options;
    this.onChange = onChange;
    for (const backend of backends) this.circuits.set(backend, { state: 'closed', failures: 0, opens: 0, until: 0, probing: false });
  }

  private set(backend: string, circuit: Circuit, state: CircuitState): void {
    if (circuit.state === state) return;
    circuit.state = state;
    this.onChange(backend, state);
  }

  /** May an email of this backend be sent now? In half_open, only one probe at a time. */
  allow(backend: string, now = Date.now()): boolean {
    const circuit = this.circuits.get(backend);
    if (circuit === undefined || circuit.state === 'closed') return true;
    if (circuit.state === 'open' && now < circuit.until) return false;
    this.set(backend, circuit, 'half_open');
    if (circuit.probing) return false;
    circuit.probing = true;
    return true;
  }

  /** Would allow() say no now? Asked without taking the probe, to choose where an email goes. */
  paused(backend: string, now = Date.now()): boolean {
    const circuit = this.circuits.get(backend);
    if (circuit === undefined || circuit.state === 'closed') return false;
    return (circuit.state === 'open' && now < circuit.until) || circuit.probing;
  }

  /** When an email held back from this backend should be due again: the pause's end, or
   * (while a probe is out) a moment from now, so held-back emails are not claimed in a loop. */
  pausedUntil(backend: string, now = Date.now()): Date {
    return new Date(Math.max(this.circuits.get(backend)?.until ?? now, now + 1000));
  }

  /** The outcome of one send; `retry`: the email had failed before (its attempt is not its first). */
  record(backend: string, outcome: 'ok' | 'retryable' | 'permanent', now = Date.now(), retry = false): void {
    const circuit = this.circuits.get(backend);
    if (circuit === undefined) return;
    circuit.probing = false;
    if (outcome !== 'retryable') {
      // The provider answered: a permanent error is about that email, not the backend.
      circuit.failures = 0;
      circuit.opens = 0;
      this.set(backend, circuit, 'closed');
      return;
    }
    // Sends already in flight when the circuit opened add nothing: it is paused either way.
    if (circuit.state === 'open') return;
    if (retry && circuit.state === 'closed') return;
    circuit.failures++;
    if (circuit.state === 'half_open' || circuit.failures >= this.options.threshold) {
      circuit.opens++;
      const pause = Math.min(this.options.maxSeconds, this.options.baseSeconds * 2 ** (circuit.opens - 1));
      circuit.until = now + pause * 1000;
      circuit.failures = 0;
      this.set(backend, circuit, 'open');
    }
  }

  states(): Record<string, CircuitState> {
    return Object.fromEntries([...this.circuits].map(([backend, circuit]) => [backend, circuit.state]));
  }
}
