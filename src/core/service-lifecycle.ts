/**
 * Long-lived parts of the daemon (HTTP server, replication, session poller,
 * delivery) implement `Service`; the daemon starts them in order and stops them in
 * reverse on SIGTERM, draining first where they can.
 */
export interface Service {
  readonly name: string;
  /** Starts the service; resolves once it is ready (e.g. listening). */
  run(): Promise<void>;
  /** Finishes in-flight work without taking new work. Optional. */
  drain?(): Promise<void>;
  /** Stops and releases everything; safe to call twice. */
  stop(): Promise<void>;
}
