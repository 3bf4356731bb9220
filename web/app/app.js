// lotl serve's web UI: plain browser JavaScript, no build step, nothing fetched but from this
// server. Everything that comes from logs is put on the page as text (textContent), never as HTML.

const $ = (sel) => document.querySelector(sel);

/** An element with attributes and children (strings become text nodes). */
function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
  return e;
}

// The token: from the address's fragment (lotl serve prints it there; browsers never send it),
// kept for this tab only.
const fromHash = new URLSearchParams(location.hash.slice(1)).get('token');
if (fromHash) {
  sessionStorage.setItem('lotl-token', fromHash);
  history.replaceState(null, '', location.pathname);
}
const tokenInput = $('#token');
tokenInput.value = sessionStorage.getItem('lotl-token') ?? '';
tokenInput.addEventListener('change', () => sessionStorage.setItem('lotl-token', tokenInput.value));
const authHeaders = () => (tokenInput.value ? { authorization: `Bearer ${tokenInput.value}` } : {});

async function api(path, options = {}) {
  const res = await fetch(path, { ...options, headers: { ...authHeaders(), ...(options.headers ?? {}) } });
  const text = await res.text();
  const json = text ? JSON.parse(text) : {};
  if (!res.ok) {
    const err = new Error(json.error ?? `HTTP ${res.status}`);
    err.status = res.status;
    err.body = json;
    throw err;
  }
  return json;
}

const levelCell = (level) => el('td', { class: `level level-${level}` }, level);
const shortTime = (t) => (t ? t.replace('T', ' ').replace(/\.\d+Z$|Z$/, '') : '');

// ---- tabs -------------------------------------------------------------------------------------
const loaders = {};
for (const b of document.querySelectorAll('#tabs button'))
  b.addEventListener('click', () => showTab(b.dataset.tab));
function showTab(name) {
  for (const b of document.querySelectorAll('#tabs button'))
    b.classList.toggle('active', b.dataset.tab === name);
  for (const s of document.querySelectorAll('.tab')) s.classList.toggle('active', s.id === name);
  loaders[name]?.();
}

// ---- status -----------------------------------------------------------------------------------
async function refreshStatus() {
  try {
    const s = await api('/api/status');
    $('#status').textContent =
      `${s.events.toLocaleString()} events · ${s.alerts.toLocaleString()} alerts · ${s.hosts} hosts · ${s.rules} rules${s.jobs ? ` · ${s.jobs} jobs running` : ''}`;
  } catch (err) {
    $('#status').textContent = err.status === 401 ? 'token needed' : `status: ${err.message}`;
  }
}

// ---- upload and jobs --------------------------------------------------------------------------
const jobs = new Map();
function renderJobs() {
  const body = $('#jobs tbody');
  body.replaceChildren(
    ...[...jobs.values()].map((j) =>
      el(
        'tr',
        { 'data-job': j.id, 'data-state': j.state },
        el('td', {}, j.name),
        el(
          'td',
          { class: 'job-state' },
          j.state + (j.resumed ? ' (resumed after a restart)' : '') + (j.error ? `: ${j.error}` : ''),
        ),
        el(
          'td',
          {},
          el('progress', {
            max: String(Math.max(1, j.bytes)),
            value: String(Math.min(j.readBytes, j.bytes)),
          }),
        ),
        el('td', {}, j.events.toLocaleString()),
        el('td', {}, j.alerts.toLocaleString()),
        el('td', {}, String(j.problems)),
      ),
    ),
  );
  const problems = [...jobs.values()].flatMap((j) => j.firstProblems ?? []);
  $('#job-problems').replaceChildren(
    ...problems
      .slice(0, 50)
      .map((p) =>
        el(
          'div',
          { class: 'problems' },
          `${p.file}${p.line ? `:${p.line}` : ''}${p.offset !== undefined ? ` @${p.offset}` : ''}: ${p.code} ${p.message}`,
        ),
      ),
  );
}
async function uploadChosen(e) {
  for (const file of e.target.files) {
    try {
      const job = await api(`/api/uploads?name=${encodeURIComponent(file.name)}`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body: file,
      });
      jobs.set(job.id, job);
    } catch (err) {
      jobs.set(`failed-${file.name}`, {
        id: `failed-${file.name}`,
        name: file.name,
        state: 'failed',
        error: err.message,
        bytes: file.size,
        readBytes: 0,
        events: 0,
        alerts: 0,
        problems: 0,
      });
    }
    renderJobs();
  }
  e.target.value = '';
}
$('#files').addEventListener('change', uploadChosen);
// A folder's files, each as its own job (the name a file keeps is its own, not its path).
$('#folder').addEventListener('change', uploadChosen);
loaders.upload = async () => {
  for (const j of await api('/api/jobs')) jobs.set(j.id, j);
  renderJobs();
};

// Live: committed alerts and job progress as they happen (the token rides in the query: an
// EventSource sends no headers; loopback reads need none).
function listen() {
  const q = tokenInput.value ? `?token=${encodeURIComponent(tokenInput.value)}` : '';
  const source = new EventSource(`/api/stream${q}`);
  let pending = null;
  source.addEventListener('job', (e) => {
    const job = JSON.parse(e.data);
    jobs.set(job.id, job);
    renderJobs();
    if (job.state === 'done') refreshStatus();
  });
  source.addEventListener('alert', () => {
    clearTimeout(pending);
    pending = setTimeout(() => {
      refreshStatus();
      if ($('#alerts').classList.contains('active')) loadAlerts();
    }, 500);
  });
}

// ---- alerts -----------------------------------------------------------------------------------
const alertPage = { offset: 0, limit: 100, total: 0 };
function alertQuery() {
  const form = new FormData($('#alert-filter'));
  const q = new URLSearchParams();
  for (const [k, v] of form) if (v) q.set(k, String(v));
  return q;
}
async function loadAlerts() {
  const q = alertQuery();
  const timeline = await api(`/api/timeline?${q}`);
  q.set('offset', String(alertPage.offset));
  q.set('limit', String(alertPage.limit));
  const { total, alerts } = await api(`/api/alerts?${q}`);
  alertPage.total = total;
  $('#alert-count').textContent = `${total.toLocaleString()} alerts`;
  $('#alerts-page').textContent = total
    ? `${alertPage.offset + 1}–${Math.min(total, alertPage.offset + alertPage.limit)} of ${total.toLocaleString()}`
    : '';
  const hours = new Map();
  for (const t of timeline) hours.set(t.hour, (hours.get(t.hour) ?? 0) + t.n);
  const max = Math.max(1, ...hours.values());
  $('#timeline').replaceChildren(
    ...[...hours].map(([hour, n]) =>
      el('div', {
        title: `${hour.replace('T', ' ')}:00 — ${n} alerts`,
        style: `height:${Math.max(2, (60 * n) / max)}px`,
      }),
    ),
  );
  $('#alert-table tbody').replaceChildren(
    ...alerts.map((a) => {
      const row = el(
        'tr',
        { 'data-rule': a.rule.id },
        el('td', {}, shortTime(a.time)),
        levelCell(a.rule.level),
        el('td', {}, a.rule.title),
        el('td', {}, a.host ?? ''),
        el('td', {}, a.user ?? ''),
      );
      row.addEventListener('click', () => {
        for (const r of document.querySelectorAll('#alert-table tr.selected')) r.classList.remove('selected');
        row.classList.add('selected');
        showAlert(a);
      });
      return row;
    }),
  );
}
function showAlert(a) {
  const source =
    a.source.record !== undefined
      ? `${a.source.file}#${a.source.record}`
      : `${a.source.file}${a.source.line ? `:${a.source.line}` : ''}`;
  $('#alert-detail').replaceChildren(
    el('h3', {}, a.rule.title),
    el(
      'p',
      {},
      el('span', { class: `level level-${a.rule.level}` }, a.rule.level),
      ` · ${a.rule.kind} · ${a.rule.techniques.join(', ')}`,
    ),
    a.rule.defender?.length ? el('p', {}, `Defender: ${a.rule.defender.join('; ')}`) : null,
    el('p', {}, `${shortTime(a.time)} · ${a.host ?? '-'} · ${a.user ?? '-'}`),
    el('p', { class: 'muted' }, `${source} · ${a.source.channel ?? ''} ${a.source.eventId ?? ''}`),
    a.match ? el('pre', {}, JSON.stringify(a.match, null, 2)) : null,
    el('pre', { class: 'event' }, JSON.stringify(a.event, null, 2)),
  );
}
$('#alert-filter').addEventListener('submit', (e) => {
  e.preventDefault();
  alertPage.offset = 0;
  loadAlerts();
});
$('#alerts-prev').addEventListener('click', () => {
  alertPage.offset = Math.max(0, alertPage.offset - alertPage.limit);
  loadAlerts();
});
$('#alerts-next').addEventListener('click', () => {
  if (alertPage.offset + alertPage.limit < alertPage.total) alertPage.offset += alertPage.limit;
  loadAlerts();
});

// ---- rules (and the alert filter's rule list) -------------------------------------------------
let rules = [];
async function loadRules() {
  rules = await api('/api/rules');
  rules.sort((a, b) => b.hits - a.hits || a.title.localeCompare(b.title));
  const select = $('#alert-filter select[name=rule]');
  const chosen = select.value;
  select.replaceChildren(
    el('option', { value: '' }, 'any'),
    ...rules.filter((r) => r.hits > 0).map((r) => el('option', { value: r.id }, `${r.title} (${r.hits})`)),
  );
  select.value = chosen;
  renderRules();
}
function renderRules() {
  const text = $('#rule-search').value.toLowerCase();
  const shown = rules.filter(
    (r) => !text || `${r.title} ${r.id} ${r.tags.join(' ')}`.toLowerCase().includes(text),
  );
  $('#rule-table tbody').replaceChildren(
    ...shown.map((r) => {
      const row = el(
        'tr',
        {},
        el('td', {}, String(r.hits)),
        levelCell(r.level),
        el('td', {}, r.title),
        el('td', {}, r.kind),
        el('td', {}, r.tags.join(' ')),
      );
      row.addEventListener('click', () => {
        // A rule's alerts, all of them: the other filters are cleared.
        $('#alert-filter').reset();
        $('#alert-filter select[name=rule]').value = r.id;
        alertPage.offset = 0;
        showTab('alerts');
      });
      return row;
    }),
  );
}
$('#rule-search').addEventListener('input', renderRules);
loaders.rules = loadRules;
loaders.alerts = async () => {
  await loadRules();
  await loadAlerts();
};

// ---- incidents, accounts, sign-ins ------------------------------------------------------------
async function loadIncidents() {
  // Worked out from everything stored (seconds for a million events): say so meanwhile.
  $('#incident-detail').replaceChildren(el('p', { class: 'muted' }, 'Correlating what is stored…'));
  const { incidents, accounts } = await api('/api/incidents');
  $('#incident-detail').replaceChildren(
    el('p', { class: 'muted' }, `${incidents.length} incidents. Select one.`),
  );
  const titles = new Map(rules.map((r) => [r.id, r.title]));
  $('#incident-table tbody').replaceChildren(
    ...incidents.map((i) => {
      const row = el(
        'tr',
        { 'data-incident': i.id },
        el('td', {}, i.id),
        levelCell(i.severity),
        el('td', {}, String(i.score)),
        el('td', {}, i.hosts.join(', ')),
        el('td', {}, i.accounts.join(', ')),
        el('td', {}, `${shortTime(i.first)} … ${shortTime(i.last)}`),
      );
      row.addEventListener('click', () => {
        for (const r of document.querySelectorAll('#incident-table tr.selected'))
          r.classList.remove('selected');
        row.classList.add('selected');
        $('#incident-detail').replaceChildren(
          el('h3', {}, `${i.id} · ${i.severity} · score ${i.score}`),
          el('p', {}, `${i.alertCount} alerts · ${shortTime(i.first)} … ${shortTime(i.last)}`),
          el('h4', {}, 'Chain'),
          el(
            'div',
            { class: 'chain' },
            ...i.stages.flatMap((s, n) => [n > 0 ? '→' : null, el('span', {}, `${s.tactic} (${s.alerts})`)]),
          ),
          el('h4', {}, 'Why'),
          el('ul', {}, ...i.reasons.map((r) => el('li', {}, r))),
          i.movements.length ? el('h4', {}, 'Movement') : null,
          i.movements.length
            ? el(
                'ul',
                {},
                ...i.movements.map((m) =>
                  el('li', {}, `${shortTime(m.time)} ${m.account ?? ''} ${m.from ?? ''} → ${m.to ?? ''}`),
                ),
              )
            : null,
          el('h4', {}, 'Alerts'),
          el(
            'ul',
            { class: 'incident-alerts' },
            ...i.alerts.map((ref) => {
              const [id, ...where] = ref.split(' ');
              return el('li', {}, `${titles.get(id) ?? id} — ${where.join(' ')}`);
            }),
          ),
        );
      });
      return row;
    }),
  );
  $('#account-table tbody').replaceChildren(
    ...accounts.map((a) =>
      el('tr', {}, el('td', {}, a.account), el('td', {}, a.action), el('td', {}, a.reason)),
    ),
  );
}
loaders.incidents = async () => {
  if (rules.length === 0) await loadRules();
  await loadIncidents();
};
loaders.signins = async () => {
  const { signins } = await api('/api/signins');
  $('#signin-table tbody').replaceChildren(
    ...signins.map((s) =>
      el(
        'tr',
        {},
        el('td', {}, shortTime(s.time)),
        levelCell(s.severity === 'high' ? 'high' : 'low'),
        el('td', {}, s.account),
        el('td', {}, s.ip),
        el('td', {}, s.host),
        el('td', {}, s.logonType),
        el('td', {}, s.why.join('; ')),
      ),
    ),
  );
};

// ---- KQL console ------------------------------------------------------------------------------
let editor = null;
let monacoApi = null;
const textarea = el('textarea', { spellcheck: 'false', 'aria-label': 'KQL query' });
const queryText = () => (editor ? editor.getValue() : textarea.value);
function setQueryText(t) {
  if (editor) editor.setValue(t);
  else textarea.value = t;
}
const queryPage = { offset: 0, limit: 100 };

function startEditor() {
  const amd = window.require;
  if (!amd?.config) {
    $('#editor').replaceChildren(textarea);
    return;
  }
  amd.config({ paths: { vs: '/vendor/vs' } });
  amd(
    ['vs/editor/editor.main'],
    () => {
      amd(['vs/language/kusto/monaco.contribution'], async () => {
        monacoApi = window.monaco;
        const initial = textarea.value;
        editor = monacoApi.editor.create($('#editor'), {
          value: initial,
          language: 'kusto',
          minimap: { enabled: false },
          automaticLayout: true,
          fontSize: 13,
        });
        editor.addCommand(monacoApi.KeyMod.CtrlCmd | monacoApi.KeyCode.Enter, () => runQuery(0));
        // The server's errors are about the text it was sent: an edit clears them.
        editor.onDidChangeModelContent(() => {
          if ($('#query-problems').childElementCount > 0) markProblems([]);
        });
        window.lotlEditor = editor;
        try {
          const schema = await api('/api/schema');
          const workerOf = await monacoApi.languages.kusto.getKustoWorker();
          const worker = await workerOf(editor.getModel().uri);
          await worker.setSchemaFromShowSchema(schema, 'https://lotl.local', 'lotl');
          $('#editor').dataset.schema = 'ready';
        } catch (err) {
          $('#query-status').textContent = `completion unavailable: ${err.message}`;
        }
        $('#editor').dataset.ready = 'monaco';
      });
    },
    () => {
      $('#editor').replaceChildren(textarea);
    },
  );
}

function markProblems(problems) {
  const box = $('#query-problems');
  box.replaceChildren(
    ...problems.map((p) => el('div', {}, `line ${p.line}, column ${p.column}: ${p.message}`)),
  );
  if (!editor) return;
  const model = editor.getModel();
  monacoApi.editor.setModelMarkers(
    model,
    'lotl',
    problems.map((p) => {
      const start = model.getPositionAt(p.start);
      const end = model.getPositionAt(p.start + Math.max(1, p.length));
      return {
        startLineNumber: start.lineNumber,
        startColumn: start.column,
        endLineNumber: end.lineNumber,
        endColumn: end.column,
        message: p.message,
        severity: monacoApi.MarkerSeverity.Error,
      };
    }),
  );
}

async function runQuery(offset) {
  queryPage.offset = offset;
  $('#query-status').textContent = 'running…';
  markProblems([]);
  try {
    const r = await api('/api/query', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: queryText(), offset, limit: queryPage.limit }),
    });
    queryPage.more = r.more;
    $('#query-sql pre').textContent = r.sql;
    $('#query-status').textContent = `${r.rows.length} rows${r.more ? ' (more)' : ''} in ${r.ms} ms`;
    $('#query-page').textContent = r.rows.length
      ? `${offset + 1}–${offset + r.rows.length}${r.more ? '+' : ''}`
      : '';
    const names = r.columns.map((c) => c.name);
    $('#query-table thead').replaceChildren(el('tr', {}, ...names.map((n) => el('th', {}, n))));
    $('#query-table tbody').replaceChildren(
      ...r.rows.map((row) =>
        el(
          'tr',
          {},
          ...names.map((n) => {
            const v = row[n];
            return el(
              'td',
              {},
              v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v),
            );
          }),
        ),
      ),
    );
  } catch (err) {
    $('#query-status').textContent = err.message;
    $('#query-table thead').replaceChildren();
    $('#query-table tbody').replaceChildren();
    $('#query-page').textContent = '';
    if (err.body?.problems) markProblems(err.body.problems);
  }
}
$('#run-query').addEventListener('click', () => runQuery(0));
$('#query-next').addEventListener(
  'click',
  () => queryPage.more && runQuery(queryPage.offset + queryPage.limit),
);
$('#query-prev').addEventListener('click', () => runQuery(Math.max(0, queryPage.offset - queryPage.limit)));
textarea.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) runQuery(0);
});
loaders.query = async () => {
  const list = $('#hunt-list');
  if (list.options.length > 1) return;
  for (const h of await api('/api/hunts')) {
    const option = el('option', { value: h.name }, h.name);
    option.dataset.query = h.query;
    list.append(option);
  }
};
$('#hunt-list').addEventListener('change', (e) => {
  const option = e.target.selectedOptions[0];
  if (option?.dataset.query) setQueryText(option.dataset.query);
});

// ---- start ------------------------------------------------------------------------------------
textarea.value =
  'DeviceProcessEvents\n| where FileName =~ "ntdsutil.exe"\n| project Timestamp, DeviceName, ProcessCommandLine';
startEditor();
refreshStatus();
loaders.upload();
listen();
