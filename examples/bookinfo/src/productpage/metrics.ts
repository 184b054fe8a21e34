// productpage's own Prometheus counters, served on /metrics beside the sidecar's Istio metrics.

export class Counter {
  readonly name: string;
  readonly help: string;
  readonly #values = new Map<string, number>();

  constructor(name: string, help: string) {
    this.name = name;
    this.help = help;
  }

  inc(labels: Record<string, string> = {}, by = 1): void {
    const key = Object.entries(labels)
      .map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))}"`)
      .join(',');
    this.#values.set(key, (this.#values.get(key) ?? 0) + by);
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const [key, value] of this.#values) lines.push(`${this.name}${key ? `{${key}}` : ''} ${value}`);
    return lines.join('\n');
  }
}

export class ProductPageMetrics {
  /** Inbound requests by route and status. */
  readonly requests = new Counter('productpage_requests_total', 'Requests served by productpage');
  /** Outcomes of calls to details, reviews and ratings (the name Istio's productpage uses). */
  readonly results = new Counter('request_result_total', 'Results of requests to backend services');
  readonly logins = new Counter('productpage_logins_total', 'Sign-ins through POST /login');

  render(): string {
    return `${[this.requests, this.results, this.logins].map((c) => c.render()).join('\n')}\n`;
  }
}
