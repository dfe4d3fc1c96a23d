// Prometheus metrics of the collector, on one registry the HTTP server exposes at /metrics.
import { Registry, Counter, Gauge, Histogram, collectDefaultMetrics } from 'prom-client';

export function createCollectorMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'dvflow_process_' });
  return {
    registry,
    datagrams: new Counter({ name: 'dvflow_datagrams_total', help: 'UDP datagrams received', labelNames: ['exporter', 'version'], registers: [registry] }),
    flows: new Counter({ name: 'dvflow_flows_total', help: 'Flow records decoded', labelNames: ['exporter', 'source'], registers: [registry] }),
    decodeErrors: new Counter({ name: 'dvflow_decode_errors_total', help: 'Decode errors by kind', labelNames: ['exporter', 'kind'], registers: [registry] }),
    sequenceFailures: new Counter({ name: 'dvflow_sequence_failures_total', help: 'Sequence failures per exporter', labelNames: ['exporter'], registers: [registry] }),
    lostFlows: new Counter({ name: 'dvflow_lost_flows_estimated_total', help: 'Estimated flows lost upstream', labelNames: ['exporter'], registers: [registry] }),
    dropped: new Counter({ name: 'dvflow_dropped_records_total', help: 'Records dropped because the write queue was full', labelNames: ['table'], registers: [registry] }),
    insertFailed: new Counter({ name: 'dvflow_insert_failed_records_total', help: 'Records lost to failed inserts', labelNames: ['table'], registers: [registry] }),
    queueDepth: new Gauge({ name: 'dvflow_write_queue_rows', help: 'Rows waiting for ClickHouse', labelNames: ['table'], registers: [registry] }),
    insertSeconds: new Histogram({
      name: 'dvflow_insert_duration_seconds', help: 'Duration of one batch insert', labelNames: ['table'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry],
    }),
    templates: new Gauge({ name: 'dvflow_templates', help: 'Templates known per exporter', labelNames: ['exporter'], registers: [registry] }),
  };
}

export type CollectorMetrics = ReturnType<typeof createCollectorMetrics>;
