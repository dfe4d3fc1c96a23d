-- Parts the size of one insert are written in ClickHouse's Compact format (all columns in one file) instead of
-- Wide (two files per column, ~200 for `flows`). A capture's end inserts its flows in blocks of up to
-- writer.batchRows (50,000): with the default 10 MB threshold those parts were Wide, ~200 new files per insert.
-- Measured in-process (chDB, 50,000 flows of bench/pcap's capture, merges stopped, medians of 8 inserts): 253 ms of
-- CPU per insert Wide against 84 ms Compact on a file system busy allocating inodes (thousands of leftover
-- directories), 76-179 ms against 66-83 ms on a tidy one; in `dvflow pcap` the wait for the last inserts after the
-- final flows are queued went from 340-530 ms to 170-200 ms. Merged parts of 100,000 rows and more are Wide as before,
-- so queries over settled data read the same layout. Live NetFlow inserts (a second's worth) were Compact already.
ALTER TABLE flows {{on_cluster}} MODIFY SETTING min_rows_for_wide_part = 100000;
