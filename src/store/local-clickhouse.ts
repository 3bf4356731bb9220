/**
 * A throwaway ClickHouse server for tests, benchmarks and scripts: Debian's clickhouse-server
 * (18.16 here; .ci/run installs it) started on loopback, on free ports, with its data in a
 * temporary folder, and stopped after (its folder removed). Queries go over plain HTTP. Not for
 * production: lotl talks to a server an administrator runs (`--clickhouse URL`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const CLICKHOUSE_SERVER = process.env.LOTL_CLICKHOUSE_SERVER ?? '/usr/sbin/clickhouse-server';
export const HAS_CLICKHOUSE = existsSync(CLICKHOUSE_SERVER);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface ClickHouse {
  url: string;
  /** Runs one statement; the response text (throws with the server's message on an error). */
  query(sql: string, body?: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startClickHouse(
  options: { ports?: { http: number; tcp: number }; config?: string } = {},
): Promise<ClickHouse> {
  const dir = mkdtempSync(path.join(tmpdir(), 'lotl-clickhouse-'));
  const { http, tcp } = options.ports ?? { http: await freePort(), tcp: await freePort() };
  writeFileSync(
    path.join(dir, 'config.xml'),
    `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>${dir}/server.log</log><errorlog>${dir}/server.err.log</errorlog></logger>
  <http_port>${http}</http_port>
  <tcp_port>${tcp}</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>${dir}/data/</path>
  <tmp_path>${dir}/tmp/</tmp_path>
  <user_files_path>${dir}/user_files/</user_files_path>
  <format_schema_path>${dir}/format_schemas/</format_schema_path>
  <mark_cache_size>5368709</mark_cache_size>
  <max_concurrent_queries>20</max_concurrent_queries>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
${options.config ?? ''}
</yandex>
`,
  );
  writeFileSync(
    path.join(dir, 'users.xml'),
    `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`,
  );
  const child: ChildProcess = spawn(CLICKHOUSE_SERVER, [`--config-file=${path.join(dir, 'config.xml')}`], {
    cwd: dir,
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${http}/`;
  const query = async (sql: string, body?: string) => {
    const res = await fetch(body === undefined ? url : `${url}?query=${encodeURIComponent(sql)}`, {
      method: 'POST',
      body: body ?? sql,
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`ClickHouse: ${text.trim()}`);
    return text;
  };
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // Ready when it answers (a fresh server takes a second or two).
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await query('SELECT 1')).trim() === '1') break;
    } catch {
      if (child.exitCode !== null || Date.now() > deadline) {
        let log = '';
        try {
          log = readFileSync(path.join(dir, 'server.err.log'), 'utf8').slice(-2000);
        } catch {}
        await stop();
        throw new Error(`clickhouse-server did not start: ${log}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return { url, query, stop };
}

export const CLUSTER = 'lotl_two_shards';

/**
 * Two servers on loopback, each the shard of a cluster of both (CLUSTER in their configuration:
 * one replica a shard, over the TCP ports), as docs/sql.md describes a sharded store.
 */
export async function startClickHouseCluster(): Promise<{ shards: ClickHouse[]; stop(): Promise<void> }> {
  const ports = [
    { http: await freePort(), tcp: await freePort() },
    { http: await freePort(), tcp: await freePort() },
  ];
  const config = `<remote_servers><${CLUSTER}>${ports
    .map((p) => `<shard><replica><host>127.0.0.1</host><port>${p.tcp}</port></replica></shard>`)
    .join('')}</${CLUSTER}></remote_servers>`;
  const shards: ClickHouse[] = [];
  try {
    for (const p of ports) shards.push(await startClickHouse({ ports: p, config }));
  } catch (err) {
    for (const s of shards) await s.stop();
    throw err;
  }
  return {
    shards,
    stop: async () => {
      for (const s of shards) await s.stop();
    },
  };
}
