-- IDS alerts: one row per alert, rewritten (a higher `version`) when later evidence for the same subject is merged
-- into it within the suppression window; ReplacingMergeTree keeps the newest version, readers use FINAL.
--   id           stable id of the alert (a UUID made when it is raised)
--   time / last  event time of the first and of the latest evidence (flow or packet time, not the wall clock)
--   raised       wall-clock time the alert was raised (updated: when it was last updated). Retention and partitions
--                follow it, as `flows` follow time_received: alerts from an old capture are kept like fresh ones.
--   detector     'port-scan', 'syn-flood', 'snort-rule', 'user-rule', ... (README "Intrusion detection")
--   subject      what makes two detections the same thing (src>dst for a scan, the VIP for a DDoS, ...)
--   occurrences  detections merged into this alert
--   counts       the numbers that prove it (distinct ports, packets/s, baseline, threshold ...)
--   samples      up to 5 flows or packets as JSON
CREATE TABLE IF NOT EXISTS alerts {{on_cluster}}
(
    id          UUID,
    time        DateTime64(3) CODEC(Delta, LZ4),
    last        DateTime64(3) CODEC(Delta, LZ4),
    raised      DateTime64(3),
    updated     DateTime64(3),
    detector    LowCardinality(String),
    severity    Enum8('info' = 0, 'low' = 1, 'medium' = 2, 'high' = 3, 'critical' = 4),
    summary     String,
    subject     String,
    src_addr    IPv6,
    dst_addr    IPv6,
    dst_port    UInt16,
    proto       UInt8,
    vip         LowCardinality(String),
    portgroup   LowCardinality(String),
    origin      LowCardinality(String),
    capture     LowCardinality(String),
    sid         UInt32,
    classtype   LowCardinality(String),
    occurrences UInt32,
    counts      Map(LowCardinality(String), Float64),
    samples     String,
    version     UInt64
)
ENGINE = {{engine:ReplacingMergeTree(version)}}
PARTITION BY toYYYYMM(raised)
ORDER BY (toStartOfDay(time), id)
TTL toDateTime(raised) + INTERVAL {{ttl_alerts}}
SETTINGS index_granularity = 1024;
