// lotl HTML report: the alert table. The alerts are inlined as gzip'd JSON (Base64) in the page;
// they are decompressed by the browser's own DecompressionStream, filtered into a list of row
// numbers, and only the rows in view are made (virtual scrolling), so a million alerts stay
// responsive. No network, no eval, no innerHTML with data: every value goes in as textContent.

(() => {
  const LEVELS = ['informational', 'low', 'medium', 'high', 'critical'];
  const ROW = 24;
  // Browsers cap an element's height (about 33 million px in Chromium): past this the scroll
  // position maps to rows proportionally.
  const MAX_SPACE = 15000000;
  const $ = (id) => document.getElementById(id);

  function fail(err) {
    const box = $('alert-detail');
    box.hidden = false;
    box.textContent = `The alert table could not be shown: ${err?.message ?? err}`;
    document.body.dataset.ready = 'failed';
  }

  async function load() {
    const text = $('lotl-data').textContent.trim();
    const raw = atob(text);
    const bytes = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
    return JSON.parse(await new Response(stream).text());
  }

  function pad(n, w) {
    return String(n).padStart(w, '0');
  }
  function timeText(ms) {
    if (ms === null) return '—';
    const d = new Date(ms);
    return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)} ${pad(d.getUTCHours(), 2)}:${pad(
      d.getUTCMinutes(),
      2,
    )}:${pad(d.getUTCSeconds(), 2)}.${pad(d.getUTCMilliseconds(), 3)}`;
  }

  function start(data) {
    const c = data.columns;
    const total = c.rule.length;
    const ruleLevel = Int8Array.from(data.rules, (r) => LEVELS.indexOf(r.level));
    const lower = (list) => list.map((s) => String(s).toLowerCase());
    const ruleText = lower(data.rules.map((r) => `${r.title} ${r.id}`));
    const hostText = lower(data.hosts);
    const userText = lower(data.users);
    const detailsText = lower(data.details);
    let rows = new Int32Array(total);
    for (let i = 0; i < total; i++) rows[i] = i;
    let selected = -1;

    const view = $('alert-view');
    const space = $('alert-space');
    const box = document.createElement('div');
    box.id = 'alert-rows';
    view.appendChild(box);
    const count = $('f-count');
    const hostSelect = $('f-host');
    const hosts = data.hosts
      .map((h, i) => [h, i])
      .filter(([h]) => h !== '')
      .sort((a, b) => (a[0] < b[0] ? -1 : 1))
      .slice(0, 2000);
    for (const [h, i] of hosts) {
      const o = document.createElement('option');
      o.value = String(i);
      o.textContent = h;
      hostSelect.appendChild(o);
    }

    function cellsOf(i) {
      const rule = data.rules[c.rule[i]];
      return [
        timeText(c.time[i]),
        rule.level === 'informational' ? 'info' : rule.level,
        rule.title,
        data.hosts[c.host[i]],
        data.users[c.user[i]],
        data.details[c.details[i]],
      ];
    }

    function makeRow() {
      const row = document.createElement('div');
      row.className = 'alert-row';
      for (let k = 0; k < 6; k++) row.appendChild(document.createElement('span'));
      row.addEventListener('click', () => show(Number(row.dataset.index)));
      return row;
    }

    function render() {
      const height = Math.min(rows.length * ROW, MAX_SPACE);
      if (space.style.height !== `${height}px`) space.style.height = `${height}px`;
      const visible = Math.ceil(view.clientHeight / ROW) + 1;
      const maxFirst = Math.max(0, rows.length - visible + 1);
      const scrollable = Math.max(1, height - view.clientHeight);
      const first =
        rows.length * ROW <= MAX_SPACE
          ? Math.min(maxFirst, Math.floor(view.scrollTop / ROW))
          : Math.min(maxFirst, Math.round((view.scrollTop / scrollable) * maxFirst));
      const offset = rows.length * ROW <= MAX_SPACE ? first * ROW : view.scrollTop;
      box.style.transform = `translateY(${offset}px)`;
      const want = Math.min(visible, rows.length - first);
      while (box.children.length < want) box.appendChild(makeRow());
      while (box.children.length > want) box.lastChild.remove();
      for (let k = 0; k < want; k++) {
        const i = rows[first + k];
        const row = box.children[k];
        row.dataset.index = String(i);
        row.className = i === selected ? 'alert-row selected' : 'alert-row';
        const cells = cellsOf(i);
        for (let j = 0; j < 6; j++) {
          const span = row.children[j];
          if (span.textContent !== cells[j]) span.textContent = cells[j];
        }
        row.children[1].className = `lvl lvl-${data.rules[c.rule[i]].level}`;
      }
    }

    function show(i) {
      selected = i;
      const rule = data.rules[c.rule[i]];
      const at = c.at[i];
      const place = at === null ? '' : at < 0 ? `:${-at}` : `#${at}`;
      const detail = $('alert-detail');
      detail.hidden = false;
      detail.replaceChildren();
      const fields = [
        ['time (UTC)', timeText(c.time[i])],
        ['rule', `${rule.title} (${rule.id}, ${rule.kind}, ${rule.level})`],
        ['ATT&CK', [...rule.tactics, ...rule.techniques].join(', ') || '—'],
        ...(rule.defender ? [['Defender', rule.defender.join('; ')]] : []),
        ['host', data.hosts[c.host[i]] || '—'],
        ['account', data.users[c.user[i]] || '—'],
        ['event', `${data.files[c.file[i]]}${place}`],
        ['details', data.details[c.details[i]] || '—'],
      ];
      const dl = document.createElement('dl');
      for (const [k, v] of fields) {
        const dt = document.createElement('dt');
        dt.textContent = k;
        const dd = document.createElement('dd');
        dd.textContent = v;
        dl.append(dt, dd);
      }
      const link = document.createElement('a');
      link.href = `#rule-${rule.id}`;
      link.textContent = 'the rule behind it';
      detail.append(dl, link);
      render();
    }

    let timer = 0;
    function filter() {
      const min = LEVELS.indexOf($('f-level').value);
      const q = $('f-text').value.trim().toLowerCase();
      const host = hostSelect.value === '' ? -1 : Number(hostSelect.value);
      // Per table entry once, then per alert a lookup.
      const ruleOk = data.rules.map((_, r) => ruleLevel[r] >= min);
      const textOk = (table) => (q === '' ? null : table.map((s) => s.includes(q)));
      const ruleQ = textOk(ruleText);
      const hostQ = textOk(hostText);
      const userQ = textOk(userText);
      const detailsQ = textOk(detailsText);
      const out = new Int32Array(total);
      let n = 0;
      for (let i = 0; i < total; i++) {
        if (!ruleOk[c.rule[i]]) continue;
        if (host >= 0 && c.host[i] !== host) continue;
        if (q !== '' && !(ruleQ[c.rule[i]] || hostQ[c.host[i]] || userQ[c.user[i]] || detailsQ[c.details[i]]))
          continue;
        out[n++] = i;
      }
      rows = out.subarray(0, n);
      count.textContent = `${n.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} alerts`;
      view.scrollTop = 0;
      render();
    }
    const later = () => {
      clearTimeout(timer);
      timer = setTimeout(filter, 120);
    };
    $('f-level').addEventListener('change', filter);
    hostSelect.addEventListener('change', filter);
    $('f-text').addEventListener('input', later);
    view.addEventListener('scroll', render, { passive: true });
    window.addEventListener('resize', render);
    view.addEventListener('keydown', (e) => {
      if (e.key === 'PageDown' || e.key === 'PageUp' || e.key === 'Home' || e.key === 'End') return;
      if (e.key === 'ArrowDown') view.scrollTop += ROW;
      else if (e.key === 'ArrowUp') view.scrollTop -= ROW;
    });
    count.textContent = `${total.toLocaleString('en-US')} alerts`;
    render();
    document.body.dataset.ready = 'true';
  }

  load().then(start, fail).catch(fail);
})();
