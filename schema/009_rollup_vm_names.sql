-- VM names join the rollups as dimensions, so per-VM charts and `-s vm` over long windows read a rollup
-- instead of the raw table. A mapped dvPort names one VM, so on dvSwitch traffic the VM adds no rows beyond
-- in_if/out_if, which the rollups already keep. Rows rolled up before this migration have '' as VM names.
DROP VIEW IF EXISTS flows_1m_mv {{on_cluster}};
DROP VIEW IF EXISTS flows_5m_mv {{on_cluster}};
DROP VIEW IF EXISTS flows_1h_mv {{on_cluster}};

ALTER TABLE flows_1m {{on_cluster}}
    ADD COLUMN IF NOT EXISTS in_vm LowCardinality(String) AFTER duplicate,
    ADD COLUMN IF NOT EXISTS out_vm LowCardinality(String) AFTER in_vm,
    MODIFY ORDER BY (time, exporter, version, domain, exporter_name, source, proto, in_if, out_if, src_vlan, dst_vlan, direction, src_tos, in_portgroup, out_portgroup, vip, vip_leg, backend, duplicate, in_vm, out_vm);

ALTER TABLE flows_5m {{on_cluster}}
    ADD COLUMN IF NOT EXISTS in_vm LowCardinality(String) AFTER duplicate,
    ADD COLUMN IF NOT EXISTS out_vm LowCardinality(String) AFTER in_vm,
    MODIFY ORDER BY (time, exporter, version, domain, exporter_name, source, proto, in_if, out_if, src_vlan, dst_vlan, direction, src_tos, in_portgroup, out_portgroup, vip, vip_leg, backend, duplicate, in_vm, out_vm);

ALTER TABLE flows_1h {{on_cluster}}
    ADD COLUMN IF NOT EXISTS in_vm LowCardinality(String) AFTER duplicate,
    ADD COLUMN IF NOT EXISTS out_vm LowCardinality(String) AFTER in_vm,
    MODIFY ORDER BY (time, exporter, version, domain, exporter_name, source, proto, in_if, out_if, src_vlan, dst_vlan, direction, src_tos, in_portgroup, out_portgroup, vip, vip_leg, backend, duplicate, in_vm, out_vm);

CREATE MATERIALIZED VIEW IF NOT EXISTS flows_1m_mv {{on_cluster}} TO flows_1m AS
SELECT toStartOfMinute(first) AS time, exporter, version, domain, exporter_name, source, proto, in_if, out_if, src_vlan, dst_vlan, direction, src_tos, in_portgroup, out_portgroup, vip, vip_leg, backend, duplicate, in_vm, out_vm,
       count() AS flows, sum(packets) AS packets, sum(bytes) AS bytes, min(first) AS first_seen, max(last) AS last_seen
FROM flows
GROUP BY time, exporter, version, domain, exporter_name, source, proto, in_if, out_if, src_vlan, dst_vlan, direction, src_tos, in_portgroup, out_portgroup, vip, vip_leg, backend, duplicate, in_vm, out_vm;

CREATE MATERIALIZED VIEW IF NOT EXISTS flows_5m_mv {{on_cluster}} TO flows_5m AS
SELECT toStartOfFiveMinutes(first) AS time, exporter, version, domain, exporter_name, source, proto, in_if, out_if, src_vlan, dst_vlan, direction, src_tos, in_portgroup, out_portgroup, vip, vip_leg, backend, duplicate, in_vm, out_vm,
       count() AS flows, sum(packets) AS packets, sum(bytes) AS bytes, min(first) AS first_seen, max(last) AS last_seen
FROM flows
GROUP BY time, exporter, version, domain, exporter_name, source, proto, in_if, out_if, src_vlan, dst_vlan, direction, src_tos, in_portgroup, out_portgroup, vip, vip_leg, backend, duplicate, in_vm, out_vm;

CREATE MATERIALIZED VIEW IF NOT EXISTS flows_1h_mv {{on_cluster}} TO flows_1h AS
SELECT toStartOfHour(first) AS time, exporter, version, domain, exporter_name, source, proto, in_if, out_if, src_vlan, dst_vlan, direction, src_tos, in_portgroup, out_portgroup, vip, vip_leg, backend, duplicate, in_vm, out_vm,
       count() AS flows, sum(packets) AS packets, sum(bytes) AS bytes, min(first) AS first_seen, max(last) AS last_seen
FROM flows
GROUP BY time, exporter, version, domain, exporter_name, source, proto, in_if, out_if, src_vlan, dst_vlan, direction, src_tos, in_portgroup, out_portgroup, vip, vip_leg, backend, duplicate, in_vm, out_vm;
