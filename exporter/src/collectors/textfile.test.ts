import { chmodSync, cpSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseFamilies } from '@vigil/core/exposition';
import { silentLogger } from '@vigil/core/log';
import { MetricSink, renderFamilies } from '@vigil/core/render';
import { captureLog, FIXTURES, promtoolProblems, requirePromtool } from '@vigil/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect } from '../collector.js';
import { loadExporterConfig } from '../config.js';
import { startExporter } from '../server.js';
import { loadavgCollector } from './loadavg.js';
import { MAX_TEXTFILE_BYTES, readTextfile, textfileCollector } from './textfile.js';

const GOOD = path.join(FIXTURES, 'textfile/good');
const MALFORMED = path.join(FIXTURES, 'textfile/malformed');
const PROC = path.join(FIXTURES, 'this-host/proc');
const paths = { proc: PROC, sys: '/nonexistent', rootfs: '/nonexistent' };

/** One collection of the textfile collector beside the loadavg one (whose node_load1 a file may try to take). */
async function scrape(dir: string, log = silentLogger()) {
  const c = await collect([loadavgCollector(paths), textfileCollector(dir, log)], 5);
  return { ...c, text: renderFamilies(c.sink.families) };
}

describe('textfile collector', () => {
  it('merges every family of the files cron jobs wrote (apt, directory sizes, a backup histogram), as they wrote them', async () => {
    const { text, outcomes } = await scrape(GOOD);
    expect(outcomes.find((o) => o.name === 'textfile')).toMatchObject({ success: true });
    const got = new Map(parseFamilies(text).map((f) => [f.name, f]));
    for (const file of ['apt.prom', 'backup.prom', 'directory_size.prom']) {
      const p = path.join(GOOD, file);
      for (const want of parseFamilies(readFileSync(p, 'utf8'))) {
        const f = got.get(want.name);
        expect(f, `${want.name} of ${file}`).toBeDefined();
        expect(f!.type).toBe(want.type);
        expect(f!.samples).toEqual(want.samples);
        expect(f!.help).toBe(want.help ?? `Metric read from ${p}`);
      }
      expect(got.get('node_textfile_mtime_seconds')!.samples).toContainEqual({
        name: 'node_textfile_mtime_seconds',
        labels: { file: p },
        value: Math.floor(statSync(p).mtimeMs / 1000),
      });
    }
    expect(got.get('node_textfile_scrape_error')!.samples[0]!.value).toBe(0);
    expect(got.get('backup_repo_locked')!.help).toBe(`Metric read from ${path.join(GOOD, 'backup.prom')}`);
  });

  it('stays promtool-clean, and OpenMetrics names a counter without _total with it', async () => {
    const { sink, text } = await scrape(GOOD);
    const om = renderFamilies(sink.families, true);
    expect(om).toContain('# TYPE backup_runs counter\nbackup_runs_total{repo="s3:nas/backups"} 412');
    requirePromtool();
    // backup_runs is the cron job's own name, which promtool's lint would rename.
    expect(promtoolProblems(`${text}\n`).filter((l) => !l.startsWith('backup_runs '))).toEqual([]);
  });

  it('skips a malformed or timestamped file whole and refuses a clashing family, keeping the rest and the scrape', async () => {
    const captured = captureLog('info');
    const collector = textfileCollector(MALFORMED, captured.log);
    const once = async () => {
      const c = await collect([loadavgCollector(paths), collector], 5);
      return { ...c, families: new Map(parseFamilies(renderFamilies(c.sink.families)).map((f) => [f.name, f])) };
    };
    const { families, outcomes } = await once();
    expect(outcomes.every((o) => o.success)).toBe(true);
    expect(families.get('node_textfile_scrape_error')!.samples[0]!.value).toBe(1);
    // The exporter's own node_load1 stands; the file's other family is kept.
    expect(families.get('node_load1')!.samples).toHaveLength(1);
    expect(families.get('node_load1')!.samples[0]!.value).toBe(Number(readFileSync(path.join(PROC, 'loadavg'), 'utf8').split(' ')[0]));
    expect(families.get('clash_other_series')!.samples[0]!.value).toBe(7);
    // The first file in name order keeps a family two files write.
    expect(families.get('apt_upgrades_pending')!.samples).toEqual([
      { name: 'apt_upgrades_pending', labels: { origin: 'elsewhere', arch: 'all' }, value: 1 },
    ]);
    expect(families.get('apt_upgrades_held')).toBeDefined(); // apt.prom's other families
    expect(families.get('smartmon_device_active')).toBeUndefined();
    expect(families.get('job_last_run_timestamp_seconds')).toBeUndefined();
    expect(families.get('backup_duration_seconds')!.samples).toHaveLength(6);
    // Skipped files have no mtime; read ones (even with a refused family) do.
    const mtimes = families.get('node_textfile_mtime_seconds')!.samples.map((s) => path.basename(s.labels.file!));
    expect(mtimes).toEqual(['apt-again.prom', 'apt.prom', 'backup.prom', 'clash.prom', 'directory_size.prom']);

    const warnings = captured.lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'textfile skipped');
    expect(warnings.map((w) => [path.basename(w.file), w.err.slice(w.file.length)])).toEqual([
      [
        'apt.prom',
        ': apt_upgrades_pending is already exported by ' +
          path.join(MALFORMED, 'apt-again.prom') +
          "; this file's apt_upgrades_pending is refused",
      ],
      ['bad-label.prom', ': malformed exposition at line 3, column 51: expected , or } after a label value'],
      ['clash.prom', ": node_load1 is already exported by the exporter; this file's node_load1 is refused"],
      [
        'timestamped.prom',
        ': job_last_run_timestamp_seconds has a client-side timestamp, which textfiles may not carry; the whole file is skipped',
      ],
    ]);
    // Logged once, not every scrape.
    await once();
    expect(captured.lines.filter((l) => l.includes('textfile skipped'))).toHaveLength(4);
  });

  describe('on a directory that changes', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(path.join(tmpdir(), 'vigil-textfile-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('logs when a file is fixed, and reads a file written between scrapes', async () => {
      const captured = captureLog('info');
      const collector = textfileCollector(dir, captured.log);
      const errorOf = async () => {
        const c = await collect([collector], 5);
        return c.sink.families.get('node_textfile_scrape_error')!.values[0]!.value;
      };
      expect(await errorOf()).toBe(0); // an empty directory is fine
      writeFileSync(path.join(dir, 'job.prom'), 'job_ok{x="1" 1\n');
      writeFileSync(path.join(dir, 'job.prom.tmp'), 'ignored: not a .prom file');
      expect(await errorOf()).toBe(1);
      writeFileSync(path.join(dir, 'job.prom'), 'job_ok 1\n');
      expect(await errorOf()).toBe(0);
      expect(captured.lines.map((l) => JSON.parse(l).msg)).toEqual(['textfile skipped', 'textfile read again']);
    });

    it('refuses the exporter’s own process_* names, a file over the size limit, and a directory named like a file', async () => {
      const own = path.join(dir, 'own.prom');
      writeFileSync(own, 'process_cpu_seconds_total 1\n');
      expect((await readTextfile(own)).error).toMatch(/process_cpu_seconds_total uses the exporter's own process_\* names/);
      const big = path.join(dir, 'big.prom');
      writeFileSync(big, '');
      truncateSync(big, MAX_TEXTFILE_BYTES + 1);
      expect((await readTextfile(big)).error).toMatch(/over the 16777216-byte limit/);
      const sub = path.join(dir, 'sub.prom');
      cpSync(GOOD, sub, { recursive: true });
      expect((await readTextfile(sub)).error).toMatch(/is not a regular file/);
      if (process.getuid?.() !== 0) {
        const locked = path.join(dir, 'locked.prom');
        writeFileSync(locked, 'a 1\n');
        chmodSync(locked, 0);
        expect((await readTextfile(locked)).error).toMatch(/cannot read .*locked\.prom/);
      }
    });

    it('fails, naming the variable, when the directory is missing', async () => {
      const c = await collect([textfileCollector(path.join(dir, 'missing'))], 5);
      expect(c.outcomes[0]).toMatchObject({
        success: false,
        error: expect.stringMatching(/cannot list the textfile directory .*missing \(VIGIL_TEXTFILE_DIR\)/),
      });
      expect(c.sink.families.has('node_textfile_scrape_error')).toBe(false);
    });
  });

  it('a sink-less merge (the collector ran late) leaves the scrape as it was', () => {
    const into = new MetricSink();
    textfileCollector(GOOD).merge!(into, new MetricSink());
    expect(into.families.size).toBe(0);
  });
});

describe('VIGIL_TEXTFILE_DIR', () => {
  it('puts the files’ families on a running exporter’s /metrics, in text and OpenMetrics', async () => {
    const exporter = await startExporter(
      loadExporterConfig({ VIGIL_EXPORTER_LISTEN: '127.0.0.1:0', VIGIL_PROC: PROC, VIGIL_TEXTFILE_DIR: GOOD }),
      silentLogger(),
    );
    try {
      const text = await (await fetch(`${exporter.url}/metrics`)).text();
      expect(text).toContain('\nbackup_duration_seconds_bucket{repo="s3:nas/backups",le="+Inf"} 412\n');
      expect(text).toContain('node_scrape_collector_success{collector="textfile"} 1');
      const om = await (await fetch(`${exporter.url}/metrics`, { headers: { accept: 'application/openmetrics-text' } })).text();
      expect(om).toContain('\nbackup_runs_total{repo="s3:nas/backups"} 412\n');
      expect(om.trimEnd().endsWith('# EOF')).toBe(true);
    } finally {
      await exporter.close();
    }
  });
});

describe('textfile without a directory', () => {
  it('reports node_textfile_scrape_error 0 only, as node_exporter does by default', async () => {
    const sink = new MetricSink();
    await textfileCollector(undefined).update(sink, new AbortController().signal);
    expect([...sink.families.values()].map((f) => [f.name, f.type, f.values.map((s) => s.value)])).toEqual([
      ['node_textfile_scrape_error', 'gauge', [0]],
    ]);
  });
});
