/**
 * The tests' ClickHouse servers (src/store/local-clickhouse.ts), and a loud line when there is no
 * clickhouse-server to start.
 */
import { CLICKHOUSE_SERVER, HAS_CLICKHOUSE } from '../../src/store/local-clickhouse.js';

export * from '../../src/store/local-clickhouse.js';

if (!HAS_CLICKHOUSE)
  process.stderr.write(
    `\n*** ${CLICKHOUSE_SERVER} not found (Debian's clickhouse-server; .ci/run installs it): the ClickHouse tests DID NOT RUN. ***\n`,
  );
